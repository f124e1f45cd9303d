// Package ossltest runs OpenSSL with the GOST engine as an interop peer in tests.
//
// It writes an OpenSSL configuration that loads the gost engine into a temporary
// directory and runs the openssl binary with OPENSSL_CONF pointing at it. Tests
// call New, which fails the test (never skips it) when OpenSSL or the engine is
// missing: `make test` installs both, so their absence is a broken environment.
package ossltest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// EnginePaths are the places the gost engine is looked for, in order.
var EnginePaths = []string{
	"/usr/lib/x86_64-linux-gnu/engines-3/gost.so",
	"/usr/lib/aarch64-linux-gnu/engines-3/gost.so",
	"/usr/lib64/engines-3/gost.so",
	"/usr/lib/engines-3/gost.so",
}

// OpenSSL is an openssl binary configured with the gost engine.
type OpenSSL struct {
	Bin  string // path of the openssl binary
	Conf string // path of the generated OPENSSL_CONF
	Dir  string // a scratch directory owned by the test
}

// FindEngine returns the path of the gost engine, or an error naming what is missing.
func FindEngine() (string, error) {
	if p := os.Getenv("KEP_GOST_ENGINE"); p != "" {
		return p, nil
	}
	for _, p := range EnginePaths {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("gost engine not found in %v (install libengine-gost-openssl, or set KEP_GOST_ENGINE)", EnginePaths)
}

// Config returns the text of an OpenSSL configuration that loads the engine at enginePath.
func Config(enginePath string) string {
	return `openssl_conf = openssl_def
[openssl_def]
engines = engine_section
[engine_section]
gost = gost_section
[gost_section]
engine_id = gost
dynamic_path = ` + enginePath + `
default_algorithms = ALL
`
}

// New returns an OpenSSL peer for the test, failing it when OpenSSL or the engine is missing.
func New(tb testing.TB) *OpenSSL {
	tb.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		tb.Fatalf("openssl not found: %v (run `make deps`)", err)
	}
	engine, err := FindEngine()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	conf := filepath.Join(dir, "openssl-gost.cnf")
	if err := os.WriteFile(conf, []byte(Config(engine)), 0o600); err != nil {
		tb.Fatal(err)
	}
	o := &OpenSSL{Bin: bin, Conf: conf, Dir: dir}
	if out, err := o.Run(nil, "dgst", "-md_gost12_256"); err != nil {
		tb.Fatalf("openssl cannot load the gost engine: %v\n%s", err, out)
	}
	return o
}

// Run runs openssl with args, feeding stdin, and returns standard output.
// On failure the error carries standard error.
func (o *OpenSSL) Run(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(o.Bin, args...)
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+o.Conf)
	cmd.Dir = o.Dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("openssl %v: %w: %s", args, err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// MustRun is Run that fails the test on error.
func (o *OpenSSL) MustRun(tb testing.TB, stdin []byte, args ...string) []byte {
	tb.Helper()
	out, err := o.Run(stdin, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// Path returns name inside the scratch directory.
func (o *OpenSSL) Path(name string) string { return filepath.Join(o.Dir, name) }

// WriteFile writes data to name inside the scratch directory and returns its path.
func (o *OpenSSL) WriteFile(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	p := o.Path(name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// GOSTKey names a GOST parameter set the gost engine offers: kep's name and
// the engine's `openssl genpkey` algorithm and paramset.
type GOSTKey struct{ Name, Algorithm, ParamSet string }

// GenpkeyArgs returns the genpkey arguments that make a key on the set.
func (k GOSTKey) GenpkeyArgs() []string {
	return []string{"-algorithm", k.Algorithm, "-pkeyopt", "paramset:" + k.ParamSet}
}

// GOSTKeys are every parameter set the gost engine generates keys on. The
// tc26-512-test and gost2001-test sets are not among them.
var GOSTKeys = []GOSTKey{
	{"cryptopro-a", "gost2012_256", "A"}, {"cryptopro-b", "gost2012_256", "B"},
	{"cryptopro-c", "gost2012_256", "C"}, {"cryptopro-xcha", "gost2012_256", "XA"},
	{"cryptopro-xchb", "gost2012_256", "XB"}, {"tc26-256-a", "gost2012_256", "TCA"},
	{"tc26-256-b", "gost2012_256", "TCB"}, {"tc26-256-c", "gost2012_256", "TCC"},
	{"tc26-256-d", "gost2012_256", "TCD"}, {"tc26-512-a", "gost2012_512", "A"},
	{"tc26-512-b", "gost2012_512", "B"}, {"tc26-512-c", "gost2012_512", "C"},
}
