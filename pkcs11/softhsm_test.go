//go:build cgo || ((linux || darwin || windows) && (amd64 || arm64))

package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// softhsmModule is where Debian's softhsm2 package puts the module (a
// symbolic link to the multiarch path).
const softhsmModule = "/usr/lib/softhsm/libsofthsm2.so"

const (
	testSOPIN  = "12345678"
	testPIN    = "1234"
	tokenLabel = "kep-test"
)

// softHSM is a SoftHSM2 token directory of the test's own, selected for
// the process through SOFTHSM2_CONF. SoftHSM reads the variable in
// C_Initialize, so every Module of a test is closed at its end (the
// registry then finalises the library) and the next test starts afresh.
type softHSM struct {
	dir, tokens string
}

// newSoftHSM makes an empty token directory and points SOFTHSM2_CONF at it.
// It fails the test when SoftHSM2 or OpenSC is missing (`make deps` installs
// them): their absence is a broken environment, not a reason to skip.
func newSoftHSM(t *testing.T) *softHSM {
	t.Helper()
	if _, err := os.Stat(softhsmModule); err != nil {
		t.Fatalf("SoftHSM2 module: %v (run `make deps`)", err)
	}
	for _, tool := range []string{"softhsm2-util", "pkcs11-tool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s: %v (run `make deps`)", tool, err)
		}
	}
	dir := t.TempDir()
	h := &softHSM{dir: dir, tokens: filepath.Join(dir, "tokens")}
	if err := os.Mkdir(h.tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	text := "directories.tokendir = " + h.tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	return h
}

// initToken initialises a free token with the label and the test PINs.
func (h *softHSM) initToken(t *testing.T, label string) {
	t.Helper()
	run(t, "softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", testSOPIN, "--pin", testPIN)
}

// tool runs pkcs11-tool on the SoftHSM module with the given arguments.
func (h *softHSM) tool(t *testing.T, args ...string) string {
	t.Helper()
	return run(t, "pkcs11-tool", append([]string{"--module", softhsmModule}, args...)...)
}

// toolLogin runs pkcs11-tool logged in to the token with the label.
func (h *softHSM) toolLogin(t *testing.T, label string, args ...string) string {
	t.Helper()
	return h.tool(t, append([]string{"--token-label", label, "--login", "--pin", testPIN}, args...)...)
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// openSoftHSM opens the module and the token with the label, closing both
// when the test ends.
func openSoftHSM(t *testing.T, label string, ui UI) (*Module, *Token) {
	t.Helper()
	ctx := context.Background()
	m, err := Open(ctx, softhsmModule)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Module.Close: %v", err)
		}
	})
	tok, err := m.OpenToken(ctx, Selector{Label: label}, ui)
	if err != nil {
		t.Fatal(err)
	}
	return m, tok
}

// pinUI answers every PIN request with pin and records the requests.
type pinUI struct {
	pin      string
	requests []PINRequest
}

func (p *pinUI) ui() UI {
	return UI{RequestPIN: func(_ context.Context, req PINRequest) ([]byte, error) {
		p.requests = append(p.requests, req)
		return []byte(p.pin), nil
	}}
}

// testCA is an ECDSA certification authority in memory that certifies
// public keys read from the token.
type testCA struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kep pkcs11 test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{key: key, cert: cert}
}

// issue certifies pub for signing and returns the DER certificate.
func (ca *testCA) issue(t *testing.T, cn string, pub crypto.PublicKey) []byte {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (ca *testCA) pemFile(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// toolPublicKey reads the public key object with the id through pkcs11-tool.
func (h *softHSM) toolPublicKey(t *testing.T, label, id string) crypto.PublicKey {
	t.Helper()
	out := filepath.Join(h.dir, "pub-"+id+".der")
	h.tool(t, "--token-label", label, "--read-object", "--type", "pubkey", "--id", id, "--output-file", out)
	der, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// toolWriteCert writes a certificate object with the id through pkcs11-tool.
func (h *softHSM) toolWriteCert(t *testing.T, label, id, name string, der []byte) {
	t.Helper()
	p := filepath.Join(h.dir, "cert-"+id+".der")
	if err := os.WriteFile(p, der, 0o600); err != nil {
		t.Fatal(err)
	}
	h.toolLogin(t, label, "--write-object", p, "--type", "cert", "--id", id, "--label", name)
}
