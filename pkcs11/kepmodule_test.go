//go:build cgo || ((linux || darwin || windows) && (amd64 || arm64))

package pkcs11_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/soft"
	"github.com/kepkit/kep/sign"
)

// TestKepModuleGOST loads kep's own PKCS#11 module (pkcs11/module built
// with -buildmode=c-shared, as bin/kep-pkcs11.so) through whichever loader
// this build has, the only GOST PKCS#11 module available without hardware,
// and signs through it: token info, login, the identity with its matched
// key, a CAdES-BES signature with CryptoPro-A that `openssl cms -verify`
// accepts. Run with CGO_ENABLED=0 (make test) it drives the cgo-free loader
// through the real C ABI.
func TestKepModuleGOST(t *testing.T) {
	dir := t.TempDir()
	so := filepath.Join(dir, "kep-pkcs11.so")
	build := exec.Command("go", "build", "-buildmode=c-shared", "-o", so, "./module")
	build.Env = append(os.Environ(), "CGO_ENABLED=1") // the module is C-callable: it needs cgo whatever this test binary has
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the module: %v\n%s", err, out)
	}

	p := testpki.New(t)
	tokDir := filepath.Join(dir, "token")
	const pin = "246810"
	if err := soft.Init(tokDir, []byte(pin), "kep loader test"); err != nil {
		t.Fatal(err)
	}
	st, err := soft.Open(tokDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Login([]byte(pin)); err != nil {
		t.Fatal(err)
	}
	leaf := p.Leaf(t, testpki.CryptoProA, "Loader Test")
	keyPEM, _ := os.ReadFile(leaf.KeyFile)
	certPEM, _ := os.ReadFile(leaf.CertFile)
	obj, err := st.ImportPEM(keyPEM, certPEM, "")
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	t.Setenv("KEP_SOFT_DIR", tokDir)
	ctx := context.Background()
	m, err := pkcs11.Open(ctx, so)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	info, err := m.Info(ctx)
	if err != nil || info.Cryptoki != "2.40" || info.Manufacturer == "" {
		t.Fatalf("Info %+v %v", info, err)
	}
	toks, err := m.Tokens(ctx)
	if err != nil || len(toks) != 1 || toks[0].Label != "kep loader test" || !toks[0].LoginRequired || toks[0].MaxPINLen < toks[0].MinPINLen {
		t.Fatalf("Tokens %+v %v", toks, err)
	}
	ui := pkcs11.UI{RequestPIN: func(context.Context, pkcs11.PINRequest) ([]byte, error) { return []byte(pin), nil }}
	tok, err := m.OpenToken(ctx, pkcs11.Selector{Label: "kep loader test"}, ui)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	if err := tok.Login(ctx); err != nil {
		t.Fatal(err)
	}
	ids, err := tok.Identities(ctx)
	if err != nil || len(ids) != 1 || !bytes.Equal(ids[0].ID, obj.ID) || !ids[0].KeyMatched || !bytes.Equal(ids[0].Certificate.Raw, leaf.Cert.Raw) {
		t.Fatalf("Identities %+v %v", ids, err)
	}
	content := []byte("Договор поставки № 17\n")
	sig, err := sign.Sign(ctx, bytes.NewReader(content), ids[0].Key, ids[0].Certificate, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sigFile := p.O.WriteFile(t, "loader.sig", sig)
	contentFile := p.O.WriteFile(t, "loader.txt", content)
	p.O.MustRun(t, nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile,
		"-content", contentFile, "-CAfile", p.Root.CertFile, "-purpose", "any", "-out", os.DevNull)
}
