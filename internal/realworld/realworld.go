// Package realworld reads testdata/realworld/cases.txt, the vector file of
// the real-world corpus: signatures, certificates and other CMS files made by
// implementations other than kep and OpenSSL, each with the verdict expected
// of kep and of OpenSSL. The tests of verify and certs iterate it; the files
// and their sources are described in testdata/realworld/SOURCES.md.
//
// The file is a sequence of stanzas separated by blank lines. Each line is
// "key: value"; lines starting with # are comments. Every stanza has case
// (a unique name), kind (cms or cert), file and expect; the other keys
// depend on the kind (see cases.txt's header).
//
// A stanza with a "samples" key names files that are not in the repository
// (SOURCES.md says why): they are looked for in the samples folder,
// $KEP_REALWORLD_SAMPLES or else ../shared/samples/realworld beside the
// repository, under the same relative path. A stanza with "derive: flip-last
// SOURCE" has its file made at test time from SOURCE (a copy with the last
// byte XOR 01). Tests call Tally.Ready on each case: it locates the files,
// makes the derived one, and skips the case when a sample is missing.
package realworld

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// SamplesEnv names the environment variable that overrides SamplesDir's default.
const SamplesEnv = "KEP_REALWORLD_SAMPLES"

// Case is one stanza of cases.txt.
type Case struct {
	Name    string
	Kind    string            // "cms" or "cert"
	Fields  map[string]string // every key of the stanza, case and kind included
	Line    int               // line of the stanza's first key, for messages
	Missing []string          // sample files found neither here nor in the samples folder
	dir     string
	samples string            // the samples folder
	paths   map[string]string // where each named file is, when not under dir
}

// Get returns the value of key, "" when absent.
func (c Case) Get(key string) string { return c.Fields[key] }

// List returns the space-separated values of key.
func (c Case) List(key string) []string { return strings.Fields(c.Fields[key]) }

// Path returns the path of a file named by the stanza (rel is relative to
// the directory of cases.txt): in that directory, or in the samples folder
// for a sample, or where Ready made a derived file.
func (c Case) Path(rel string) string {
	if p, ok := c.paths[rel]; ok {
		return p
	}
	return filepath.Join(c.dir, filepath.FromSlash(rel))
}

// SamplesDir is the folder of the files kept out of the repository:
// $KEP_REALWORLD_SAMPLES, else ../shared/samples/realworld beside the
// repository that holds casesDir (testdata/realworld).
func SamplesDir(casesDir string) string {
	if d := os.Getenv(SamplesEnv); d != "" {
		return d
	}
	d, _ := filepath.Abs(filepath.Join(casesDir, "..", "..", "..", "shared", "samples", "realworld"))
	return d
}

// Read returns the contents of a file named by the stanza.
func (c Case) Read(rel string) ([]byte, error) { return os.ReadFile(c.Path(rel)) }

// At returns the validation time of the case (key "at", RFC 3339).
func (c Case) At() (time.Time, error) { return time.Parse(time.RFC3339, c.Get("at")) }

// required are the keys every stanza has.
var required = []string{"case", "kind", "file", "expect", "producer", "source", "licence", "at", "openssl"}

// Load reads the vector file at path. It fails on a malformed line, a
// duplicate key or case name, a stanza without a required key, or a stanza
// naming a file that does not exist; a file of a "samples" stanza that is in
// neither this directory nor the samples folder is listed in Case.Missing.
func Load(path string) ([]Case, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var (
		out  []Case
		cur  *Case
		seen = map[string]bool{}
	)
	finish := func() error {
		if cur == nil {
			return nil
		}
		for _, k := range required {
			if cur.Fields[k] == "" {
				return fmt.Errorf("%s:%d: stanza without %q", path, cur.Line, k)
			}
		}
		cur.Name, cur.Kind = cur.Fields["case"], cur.Fields["kind"]
		if seen[cur.Name] {
			return fmt.Errorf("%s:%d: case %q twice", path, cur.Line, cur.Name)
		}
		seen[cur.Name] = true
		var derived string
		if d := cur.List("derive"); len(d) > 0 {
			if len(d) != 2 || d[0] != "flip-last" {
				return fmt.Errorf("%s:%d: case %s: derive: want \"flip-last SOURCE\"", path, cur.Line, cur.Name)
			}
			derived = cur.Get("file")
		}
		keys := []string{"file", "content", "trust", "intermediates", "issuer", "crls"}
		if derived != "" {
			keys = append(keys, "derive")
		}
		for _, k := range keys {
			for _, rel := range cur.List(k) {
				if _, done := cur.paths[rel]; done || rel == "self" || rel == "flip-last" || (k == "file" && rel == derived) {
					continue
				}
				local := filepath.Join(cur.dir, filepath.FromSlash(rel))
				_, err := os.Stat(local)
				switch {
				case err == nil:
				case cur.Get("samples") == "":
					return fmt.Errorf("%s:%d: case %s: %s: %v", path, cur.Line, cur.Name, k, err)
				default:
					p := filepath.Join(cur.samples, filepath.FromSlash(rel))
					if _, err := os.Stat(p); err != nil {
						cur.Missing = append(cur.Missing, rel)
					}
					cur.paths[rel] = p
				}
			}
		}
		out = append(out, *cur)
		cur = nil
		return nil
	}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			if err := finish(); err != nil {
				return nil, err
			}
			continue
		case strings.HasPrefix(line, "#"):
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: not a key: value line: %q", path, n, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if cur == nil {
			cur = &Case{Fields: map[string]string{}, Line: n, dir: filepath.Dir(path),
				samples: SamplesDir(filepath.Dir(path)), paths: map[string]string{}}
		}
		if _, dup := cur.Fields[k]; dup {
			return nil, fmt.Errorf("%s:%d: key %q twice in a stanza", path, n, k)
		}
		cur.Fields[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return out, nil
}

// Of returns the cases of the given kind.
func Of(cases []Case, kind string) []Case {
	var out []Case
	for _, c := range cases {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// Tally counts the cases a test ran and those it skipped for missing samples,
// and logs one summary line when the test ends.
type Tally struct {
	mu            sync.Mutex
	ran, skipped  int
	samples, what string
}

// Count returns a Tally whose summary t logs at its end.
func Count(t testing.TB, what string, cases []Case) *Tally {
	tl := &Tally{what: what}
	if len(cases) > 0 {
		tl.samples = cases[0].samples
	}
	t.Cleanup(func() {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		t.Logf("realworld %s: %d cases ran, %d skipped for missing samples (looked for in %s; set %s)",
			tl.what, tl.ran, tl.skipped, tl.samples, SamplesEnv)
	})
	return tl
}

// Ready returns c with its derived file made in t's temporary directory; it
// skips t, naming the files and where they are expected, when a sample is
// missing.
func (tl *Tally) Ready(t testing.TB, c Case) Case {
	t.Helper()
	tl.mu.Lock()
	if len(c.Missing) > 0 {
		tl.skipped++
	} else {
		tl.ran++
	}
	tl.mu.Unlock()
	if len(c.Missing) > 0 {
		var where []string
		for _, rel := range c.Missing {
			where = append(where, c.Path(rel))
		}
		t.Skipf("line %d: sample missing: %s, expected at %s (set %s or fill ../shared/samples/realworld; not in the repository because %s)",
			c.Line, strings.Join(c.Missing, ", "), strings.Join(where, ", "), SamplesEnv, c.Get("samples"))
	}
	if d := c.List("derive"); len(d) == 2 {
		b, err := c.Read(d[1])
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-1] ^= 0x01
		p := filepath.Join(t.TempDir(), filepath.Base(c.Get("file")))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths := map[string]string{c.Get("file"): p}
		for k, v := range c.paths {
			paths[k] = v
		}
		c.paths = paths
	}
	return c
}
