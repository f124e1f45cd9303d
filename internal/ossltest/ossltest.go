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
