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
package realworld

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Case is one stanza of cases.txt.
type Case struct {
	Name   string
	Kind   string            // "cms" or "cert"
	Fields map[string]string // every key of the stanza, case and kind included
	Line   int               // line of the stanza's first key, for messages
	dir    string
}

// Get returns the value of key, "" when absent.
func (c Case) Get(key string) string { return c.Fields[key] }

// List returns the space-separated values of key.
func (c Case) List(key string) []string { return strings.Fields(c.Fields[key]) }

// Path returns the path of a file named by the stanza, relative to the
// directory of cases.txt.
func (c Case) Path(rel string) string { return filepath.Join(c.dir, filepath.FromSlash(rel)) }

// Read returns the contents of a file named by the stanza.
func (c Case) Read(rel string) ([]byte, error) { return os.ReadFile(c.Path(rel)) }

// At returns the validation time of the case (key "at", RFC 3339).
func (c Case) At() (time.Time, error) { return time.Parse(time.RFC3339, c.Get("at")) }

// required are the keys every stanza has.
var required = []string{"case", "kind", "file", "expect", "producer", "source", "licence", "at", "openssl"}

// Load reads the vector file at path. It fails on a malformed line, a
// duplicate key or case name, a stanza without a required key, or a stanza
// naming a file that does not exist.
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
		for _, k := range []string{"file", "content", "trust", "intermediates", "issuer", "crls"} {
			for _, rel := range cur.List(k) {
				if rel == "self" {
					continue
				}
				if _, err := os.Stat(cur.Path(rel)); err != nil {
					return fmt.Errorf("%s:%d: case %s: %s: %v", path, cur.Line, cur.Name, k, err)
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
			cur = &Case{Fields: map[string]string{}, Line: n, dir: filepath.Dir(path)}
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
