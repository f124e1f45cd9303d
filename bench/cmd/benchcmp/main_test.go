// Tests for benchcmp: sample `go test -bench` and gostbench outputs in, the
// printed comparison lines, ratios, notes and exit status checked.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const goHeader = `goos: linux
goarch: amd64
cpu: Intel(R) Xeon(R) CPU @ 2.20GHz
`

const goStreebog = goHeader + `pkg: github.com/kepkit/kep/gost/streebog
BenchmarkStreebog256-2   	     100	  10485760 ns/op	 100.00 MB/s
BenchmarkStreebog512-2   	     100	  11650844 ns/op	  90.00 MB/s
PASS
ok  	github.com/kepkit/kep/gost/streebog	3.012s
`

const goGost3410 = goHeader + `pkg: github.com/kepkit/kep/gost/gost3410
BenchmarkSign/cryptopro-a-2         	   20000	     50000 ns/op	     512 B/op	       3 allocs/op
BenchmarkSign/tc26-512-a-2          	    4000	    250000 ns/op
BenchmarkVerify/cryptopro-a-2       	    8000	    125000 ns/op
BenchmarkVerify/tc26-512-a-2        	    1000	   1000000 ns/op
PASS
ok  	github.com/kepkit/kep/gost/gost3410	9.1s
`

const harness = `# gostbench: OpenSSL 3.0.22 25 Aug 2026, 1 s per operation
op=streebog256 unit=MB/s value=80.0 iters=80 secs=1.003
op=streebog512 unit=MB/s value=120.0 iters=120 secs=1.001
op=sign/cryptopro-a unit=ops/s value=16000 iters=16010 secs=1.000
op=verify/cryptopro-a unit=ops/s value=4000 iters=4001 secs=1.000
op=sign/tc26-512-a unit=ops/s value=4000 iters=4001 secs=1.000
op=verify/tc26-512-a unit=ops/s value=1000 iters=1001 secs=1.001
op=sign/tc26-512-c unit=ops/s value=- note=unsupported: the engine rejects gost2012_512 paramset C: some error
`

func TestBenchcmp(t *testing.T) {
	tests := []struct {
		name      string
		goOut     []string // one file each
		harness   string   // "" = no -openssl flag
		wantLines []string // must appear as whole lines
		wantNotes []string // substrings of "# note:" lines, each must appear
		notLines  []string // prefixes that must not start any line
		wantExit  int
	}{
		{
			name:    "MB/s and ns/op with GOMAXPROCS suffix",
			goOut:   []string{goStreebog, goGost3410},
			harness: harness,
			wantLines: []string{
				"op=streebog256 kep=100.0 openssl=80.0 ratio=1.25",
				"op=streebog512 kep=90.0 openssl=120.0 ratio=0.75",
				"op=sign/cryptopro-a kep=20000 openssl=16000 ratio=1.25",
				"op=verify/cryptopro-a kep=8000 openssl=4000 ratio=2.00",
				"op=sign/tc26-512-a kep=4000 openssl=4000 ratio=1.00",
				"op=verify/tc26-512-a kep=1000 openssl=1000 ratio=1.00",
				"op=sign/tc26-512-c kep=- openssl=- ratio=-",
				"op=sign/cryptopro-b kep=- openssl=- ratio=-",
			},
			wantNotes: []string{
				"openssl sign/tc26-512-c: unsupported: the engine rejects gost2012_512 paramset C",
				"kep: no result for BenchmarkSign/cryptopro-b in ./gost/gost3410",
				"openssl verify/cryptopro-b: not measured by the harness",
			},
		},
		{
			name: "GOMAXPROCS=1, no suffix, one file",
			goOut: []string{goHeader + `pkg: github.com/kepkit/kep/gost/gost3410
BenchmarkSign/tc26-256-a 	   30000	     40000 ns/op
BenchmarkVerify/tc26-256-a	   10000	    100000 ns/op
`},
			harness: "op=sign/tc26-256-a unit=ops/s value=20000\nop=verify/tc26-256-a unit=ops/s value=8000\n",
			wantLines: []string{
				"op=sign/tc26-256-a kep=25000 openssl=20000 ratio=1.25",
				"op=verify/tc26-256-a kep=10000 openssl=8000 ratio=1.25",
			},
			wantNotes: []string{"kep: no results from ./gost/streebog"},
		},
		{
			name:  "missing package and no harness",
			goOut: []string{goStreebog},
			wantLines: []string{
				"op=streebog256 kep=100.0 openssl=- ratio=-",
				"op=verify/tc26-512-c kep=- openssl=- ratio=-",
			},
			wantNotes: []string{
				"kep: no results from ./gost/gost3410",
				"openssl: no harness results at all",
			},
		},
		{
			name: "benchmark that logged: name and result on separate lines",
			goOut: []string{`pkg: github.com/kepkit/kep/gost/gost3410
BenchmarkSign/cryptopro-b-2         	
    gost3410_test.go:12: comb table built
   10000	    100000 ns/op
`},
			harness:   "op=sign/cryptopro-b unit=ops/s value=12500\n",
			wantLines: []string{"op=sign/cryptopro-b kep=10000 openssl=12500 ratio=0.80"},
		},
		{
			name: "-count 2 is averaged",
			goOut: []string{`BenchmarkStreebog256-2   	 100	  10000000 ns/op	 100.00 MB/s
BenchmarkStreebog256-2   	 100	  10000000 ns/op	 120.00 MB/s
`},
			harness:   "op=streebog256 unit=MB/s value=110.0\n",
			wantLines: []string{"op=streebog256 kep=110.0 openssl=110.0 ratio=1.00"},
		},
		{
			name:      "hash benchmark without b.SetBytes",
			goOut:     []string{"pkg: github.com/kepkit/kep/gost/streebog\nBenchmarkStreebog512-2 100 10000000 ns/op\n"},
			harness:   "op=streebog512 unit=MB/s value=110.0\n",
			wantLines: []string{"op=streebog512 kep=- openssl=110.0 ratio=-"},
			wantNotes: []string{"BenchmarkStreebog512 in github.com/kepkit/kep/gost/streebog reports no MB/s"},
		},
		{
			name:    "operations on one side only",
			goOut:   []string{"BenchmarkKeyGen/cryptopro-a-2 1000 1000000 ns/op\n"},
			harness: "op=cms-verify/gost256-3mb unit=ops/s value=26\nop=cms-verify/gost256 unit=ops/s value=1553\n",
			wantLines: []string{
				"op=keygen/cryptopro-a kep=1000 openssl=- ratio=-",
				"op=cms-verify/gost256-3mb kep=- openssl=26 ratio=-",
				"op=cms-verify/gost256 kep=- openssl=1553 ratio=-",
			},
			wantNotes: []string{
				"kep cms-verify/gost256-3mb: no kep benchmark is mapped to it",
				"kep: no results from ./verify",
			},
		},
		{
			name: "CMS verification",
			goOut: []string{goHeader + `pkg: github.com/kepkit/kep/verify
BenchmarkCMSVerify/gost256-2         	    1731	    625000 ns/op
BenchmarkCMSVerify/gost512-2         	     565	   2000000 ns/op
BenchmarkCMSVerify/rsa-2             	    3568	    250000 ns/op
PASS
`},
			harness: `op=cms-verify/gost256 unit=ops/s value=2000 iters=2000 secs=1.000
op=cms-verify/gost512 unit=ops/s value=800 iters=800 secs=1.000
op=cms-verify/rsa unit=ops/s value=- note=skipped: no CMS fixtures: pass -cms DIR or set KEP_BENCH_CMS_DIR
`,
			wantLines: []string{
				"op=cms-verify/gost256 kep=1600 openssl=2000 ratio=0.80",
				"op=cms-verify/gost512 kep=500 openssl=800 ratio=0.62",
				"op=cms-verify/rsa kep=4000 openssl=- ratio=-",
			},
			wantNotes: []string{"openssl cms-verify/rsa: skipped: no CMS fixtures"},
		},
		{
			name:      "slow operations keep three digits",
			goOut:     []string{"BenchmarkSign/tc26-512-b-2 30 38461538 ns/op\n"},
			harness:   "op=sign/tc26-512-b unit=ops/s value=50\n",
			wantLines: []string{"op=sign/tc26-512-b kep=26 openssl=50 ratio=0.52"},
		},
		{
			name:      "go test failure lines are not results",
			goOut:     []string{"--- FAIL: BenchmarkSign/cryptopro-a\n    x_test.go:1: boom\nFAIL\tgithub.com/kepkit/kep/gost/gost3410\t0.1s\n"},
			harness:   "# gostbench: x\n",
			wantLines: []string{"# nothing was measured", "op=sign/cryptopro-a kep=- openssl=- ratio=-"},
			notLines:  []string{"op=--- "},
			wantExit:  1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var args []string
			for i, g := range tc.goOut {
				p := filepath.Join(dir, "go"+string(rune('0'+i))+".txt")
				if err := os.WriteFile(p, []byte(g), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-go", p)
			}
			if tc.harness != "" {
				p := filepath.Join(dir, "openssl.txt")
				if err := os.WriteFile(p, []byte(tc.harness), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append(args, "-openssl", p)
			}
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			out := stdout.String()
			if code != tc.wantExit {
				t.Errorf("exit status %d, want %d; stderr: %s", code, tc.wantExit, stderr.String())
			}
			lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
			has := map[string]bool{}
			var notes []string
			for _, l := range lines {
				has[l] = true
				if n, ok := strings.CutPrefix(l, "# note: "); ok {
					notes = append(notes, n)
				}
				for _, bad := range tc.notLines {
					if strings.HasPrefix(l, bad) {
						t.Errorf("unexpected line %q", l)
					}
				}
			}
			for _, want := range tc.wantLines {
				if !has[want] {
					t.Errorf("missing line %q", want)
				}
			}
			for _, want := range tc.wantNotes {
				found := false
				for _, n := range notes {
					found = found || strings.Contains(n, want)
				}
				if !found {
					t.Errorf("missing note containing %q", want)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

// Every op line has exactly the four documented fields, in order, and every
// spec appears once, in the order of operations().
func TestReportFormat(t *testing.T) {
	dir := t.TempDir()
	g := filepath.Join(dir, "go.txt")
	h := filepath.Join(dir, "openssl.txt")
	if err := os.WriteFile(g, []byte(goStreebog+goGost3410), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h, []byte(harness), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-go", g, "-openssl", h}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr.String())
	}
	var ops []string
	for _, l := range strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		// A spec with a Note has it at the end of its line, and only there.
		note := ""
		if i := strings.Index(l, " note="); i >= 0 {
			l, note = l[:i], l[i+len(" note="):]
		}
		f := strings.Fields(l)
		if len(f) == 4 {
			for _, s := range operations() {
				if "op="+s.Name == f[0] && s.Note != note {
					t.Errorf("%s: note %q, want %q", s.Name, note, s.Note)
				}
			}
		}
		if len(f) != 4 || !strings.HasPrefix(f[0], "op=") || !strings.HasPrefix(f[1], "kep=") ||
			!strings.HasPrefix(f[2], "openssl=") || !strings.HasPrefix(f[3], "ratio=") {
			t.Errorf("malformed line %q", l)
			continue
		}
		ops = append(ops, strings.TrimPrefix(f[0], "op="))
	}
	specs := operations()
	if len(ops) != len(specs) {
		t.Fatalf("%d op lines, want %d:\n%s", len(ops), len(specs), stdout.String())
	}
	for i, s := range specs {
		if ops[i] != s.Name {
			t.Errorf("line %d is op %q, want %q", i, ops[i], s.Name)
		}
	}
}

func TestPlan(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-plan"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	if len(lines) != len(operations()) {
		t.Fatalf("%d plan lines, want %d", len(lines), len(operations()))
	}
	for _, want := range []string{
		"streebog256\t./gost/streebog\t^BenchmarkStreebog256$",
		"verify/tc26-512-c\t./gost/gost3410\t^BenchmarkVerify$/^tc26-512-c$",
		"cms-verify/gost256\t./verify\t^BenchmarkCMSVerify$/^gost256$",
		"cms-verify/gost512\t./verify\t^BenchmarkCMSVerify$/^gost512$",
		"cms-verify/rsa\t./verify\t^BenchmarkCMSVerify$/^rsa$",
		"cms-verify-warm/gost256\t./verify\t^BenchmarkCMSVerifyWarm$/^gost256$",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("plan has no line %q:\n%s", want, stdout.String())
		}
	}
	tests := []struct {
		spec opSpec
		want string
	}{
		{opSpec{Name: "a", Pkg: "./p", Bench: "A"}, "a\t./p\t^BenchmarkA$"},
		{opSpec{Name: "b/x.y", Pkg: "./p", Bench: "B/x.y"}, "b/x.y\t./p\t^BenchmarkB$/^x\\.y$"},
		{opSpec{Name: "cms-verify/rsa"}, "cms-verify/rsa\t-\t-"},
	}
	for _, tc := range tests {
		if got := planLine(tc.spec); got != tc.want {
			t.Errorf("planLine(%+v) = %q, want %q", tc.spec, got, tc.want)
		}
	}
}

func TestParseFields(t *testing.T) {
	tests := []struct {
		line string
		want map[string]string
	}{
		{"op=streebog256 unit=MB/s value=91.3", map[string]string{"op": "streebog256", "unit": "MB/s", "value": "91.3"}},
		{"op=sign/x unit=ops/s value=- note=unsupported: a=b c", map[string]string{"op": "sign/x", "unit": "ops/s", "value": "-", "note": "unsupported: a=b c"}},
		{"op=a  value=1\t", map[string]string{"op": "a", "value": "1"}},
	}
	for _, tc := range tests {
		got := parseFields(tc.line)
		if len(got) != len(tc.want) {
			t.Errorf("parseFields(%q) = %v, want %v", tc.line, got, tc.want)
			continue
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("parseFields(%q)[%q] = %q, want %q", tc.line, k, got[k], v)
			}
		}
	}
}

func TestSpread(t *testing.T) {
	dir := t.TempDir()
	var args []string
	for i, v := range [][2]string{{"500000", "100"}, {"250000", "100"}, {"400000", "125"}} {
		g := filepath.Join(dir, fmt.Sprintf("go.%d", i))
		o := filepath.Join(dir, fmt.Sprintf("ssl.%d", i))
		// kep: 1e9/ns ops/s = 2000, 4000, 2500; openssl 100, 100, 125.
		if err := os.WriteFile(g, []byte("BenchmarkSign/cryptopro-a-2 \t 100\t "+v[0]+" ns/op\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(o, []byte("op=sign/cryptopro-a unit=ops/s value="+v[1]+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-go", g, "-openssl", o, "-run", g+":"+o)
	}
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr.String())
	}
	// Ratios 20, 40, 20.
	want := "spread op=sign/cryptopro-a runs=3 ratio-min=20.00 ratio-median=20.00 ratio-max=40.00 kep-median=2500 openssl-median=100\n"
	if !strings.Contains(stdout.String(), want) {
		t.Errorf("no line %q in:\n%s", want, stdout.String())
	}
	// One run prints no spread; a malformed -run is a usage error.
	stdout.Reset()
	if code := run(args[:8], &stdout, &stderr); code != 0 || strings.Contains(stdout.String(), "spread") {
		t.Errorf("one run: status %d, output:\n%s", code, stdout.String())
	}
	if code := run([]string{"-run", "a", "-run", "b"}, &stdout, &stderr); code != 2 {
		t.Errorf("-run without a colon: status %d, want 2", code)
	}
}

func TestOps(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-plan", "-ops", "streebog256|sign/tc26-512-c"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr.String())
	}
	want := "streebog256\t./gost/streebog\t^BenchmarkStreebog256$\nsign/tc26-512-c\t./gost/gost3410\t^BenchmarkSign$/^tc26-512-c$\n"
	if stdout.String() != want {
		t.Errorf("-plan -ops: %q, want %q", stdout.String(), want)
	}
	if code := run([]string{"-ops", "("}, &stdout, &stderr); code != 2 {
		t.Errorf("bad -ops: status %d, want 2", code)
	}
}
