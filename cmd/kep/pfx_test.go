package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/realworld"
	"github.com/kepkit/kep/internal/testpki"
)

// TestPFXCLI: a PFX made by openssl pkcs12 -export -keypbe gost89 -certpbe
// gost89 -macalg md_gost12_256 imports (--pfx and --p12), signs a CMS that
// openssl verifies; a wrong password writes nothing; kep soft export writes a
// PFX that openssl pkcs12 reads back to the same key, and an RFC 9548 one
// that kep imports again; an RSA PFX still imports through the old reader.
func TestPFXCLI(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "PFX user")
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	os.WriteFile(pinFile, []byte("4321\n"), 0o600)
	passFile := filepath.Join(dir, "pass")
	os.WriteFile(passFile, []byte("Пароль 1\n"), 0o600)
	badFile := filepath.Join(dir, "bad")
	os.WriteFile(badFile, []byte("Пароль 2\n"), 0o600)
	pfxFile := p.O.Path("user.pfx")
	p.O.MustRun(t, nil, "pkcs12", "-export", "-inkey", id.KeyFile, "-in", id.CertFile, "-certfile", p.Root.CertFile,
		"-keypbe", "gost89", "-certpbe", "gost89", "-macalg", "md_gost12_256", "-passout", "pass:Пароль 1", "-out", pfxFile)

	tok := filepath.Join(dir, "token")
	if _, stderr, code := execute(t, nil, "soft", "init", tok, "--pin-file", pinFile); code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	_, stderr, code := execute(t, nil, "soft", "import", tok, "--pfx", pfxFile, "--password-file", badFile, "--pin-file", pinFile)
	if code != 1 || !strings.Contains(stderr, "wrong PFX password") {
		t.Fatalf("wrong password: %d %s", code, stderr)
	}
	if out, _, _ := execute(t, nil, "soft", "list", tok, "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("a refused import wrote %s", out)
	}
	if _, stderr, code := execute(t, nil, "soft", "import", tok, "--p12", pfxFile, "--password-file", passFile, "--pin-file", pinFile); code != 0 {
		t.Fatalf("import --p12: %d %s", code, stderr)
	}
	out, _, _ := execute(t, nil, "soft", "list", tok, "--json")
	var list []struct{ ID, Thumbprint string }
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0].Thumbprint != id.Cert.Thumbprint() {
		t.Fatalf("list: %v %s", err, out)
	}
	doc := filepath.Join(dir, "doc.txt")
	os.WriteFile(doc, []byte("signed with a key from a PFX"), 0o644)
	if _, stderr, code := execute(t, nil, "sign", "--soft", tok, "--cert", list[0].Thumbprint, "--pin-file", pinFile, doc); code != 0 {
		t.Fatalf("sign: %d %s", code, stderr)
	}
	if _, err := p.O.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", doc+".sig", "-content", doc,
		"-CAfile", p.Root.CertFile, "-purpose", "any", "-out", os.DevNull); err != nil {
		t.Fatalf("openssl rejects the signature: %v", err)
	}

	// Export, and openssl reads it back.
	exported := filepath.Join(dir, "export.pfx")
	if _, stderr, code := execute(t, nil, "soft", "export", tok, "--cert", list[0].ID, "--pfx", exported, "--format", "openssl", "--password-file", passFile, "--pin-file", pinFile); code != 0 {
		t.Fatalf("export: %d %s", code, stderr)
	}
	if fi, err := os.Stat(exported); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("exported file: %v %v", fi, err)
	}
	pemOut := p.O.MustRun(t, nil, "pkcs12", "-in", exported, "-passin", "pass:Пароль 1", "-nodes")
	i := strings.Index(string(pemOut), "-----BEGIN PRIVATE KEY-----")
	if i < 0 {
		t.Fatalf("openssl gave no key:\n%s", pemOut)
	}
	got, err := certs.ParsePrivateKey(pemOut[i:])
	if err != nil || !id.Signer.(*gost3410.PrivateKey).Equal(got) {
		t.Fatalf("openssl read another key: %v", err)
	}
	if cs, err := certs.ParseCertificates(pemOut[:i]); err != nil || len(cs) != 2 {
		t.Fatalf("openssl read %d certificates: %v", len(cs), err)
	}
	// The RFC 9548 form: imported back into another token (kep checks the key
	// against its certificate); openssl lists its certificates.
	rfcFile := filepath.Join(dir, "rfc9548.pfx")
	if _, stderr, code := execute(t, nil, "soft", "export", tok, "--cert", list[0].ID, "--pfx", rfcFile, "--format", "rfc9548", "--password-file", passFile, "--pin-file", pinFile); code != 0 {
		t.Fatalf("export rfc9548: %d %s", code, stderr)
	}
	if cs, err := certs.ParseCertificates(p.O.MustRun(t, nil, "pkcs12", "-in", rfcFile, "-passin", "pass:Пароль 1", "-nokeys")); err != nil || len(cs) != 2 {
		t.Fatalf("openssl listed %d certificates of the rfc9548 file: %v", len(cs), err)
	}
	tok2 := filepath.Join(dir, "token2")
	if _, stderr, code := execute(t, nil, "soft", "init", tok2, "--pin-file", pinFile); code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	if _, stderr, code := execute(t, nil, "soft", "import", tok2, "--pfx", rfcFile, "--password-file", badFile, "--pin-file", pinFile); code != 1 || !strings.Contains(stderr, "wrong PFX password") {
		t.Fatalf("rfc9548 file, wrong password: %d %s", code, stderr)
	}
	if _, stderr, code := execute(t, nil, "soft", "import", tok2, "--pfx", rfcFile, "--password-file", passFile, "--pin-file", pinFile); code != 0 {
		t.Fatalf("import rfc9548: %d %s", code, stderr)
	}
	if out, _, _ := execute(t, nil, "soft", "list", tok2, "--json"); !strings.Contains(out, id.Cert.Thumbprint()) {
		t.Fatalf("the rfc9548 import holds %s", out)
	}
	if _, stderr, code := execute(t, nil, "soft", "export", tok, "--cert", list[0].ID, "--pfx", filepath.Join(dir, "x.pfx"), "--format", "pem", "--password-file", passFile, "--pin-file", pinFile); code != 2 || !strings.Contains(stderr, "--format") {
		t.Fatalf("--format pem: %d %s", code, stderr)
	}

	// RSA: the old reader (openssl -legacy writes what it reads).
	rsa := p.Leaf(t, testpki.RSA2048, "RSA user")
	rsaPFX := p.O.Path("rsa.pfx")
	p.O.MustRun(t, nil, "pkcs12", "-export", "-legacy", "-inkey", rsa.KeyFile, "-in", rsa.CertFile, "-passout", "pass:Пароль 1", "-out", rsaPFX)
	if _, stderr, code := execute(t, nil, "soft", "import", tok, "--pfx", rsaPFX, "--password-file", passFile, "--pin-file", pinFile); code != 0 {
		t.Fatalf("RSA import: %d %s", code, stderr)
	}
}

// TestPFXCLIUnreadSafe: a GOST PFX whose certificate safe is encrypted in a
// way kep does not read (openssl pkcs12 -certpbe AES-256-CBC beside a gost89
// key bag) imports its key with a note naming the algorithm; --cert then
// supplies the certificate, checked against the key (another one is
// refused and nothing is written).
func TestPFXCLIUnreadSafe(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "PFX unread safe")
	other := p.Leaf(t, testpki.CryptoProA, "someone else")
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	os.WriteFile(pinFile, []byte("4321\n"), 0o600)
	passFile := filepath.Join(dir, "pass")
	os.WriteFile(passFile, []byte("p\n"), 0o600)
	pfxFile := p.O.Path("aes-certs.pfx")
	p.O.MustRun(t, nil, "pkcs12", "-export", "-inkey", id.KeyFile, "-in", id.CertFile,
		"-keypbe", "gost89", "-certpbe", "AES-256-CBC", "-macalg", "md_gost12_256", "-passout", "pass:p", "-out", pfxFile)
	for _, tc := range []struct {
		name, cert string
		code       int
		stderr     string
		imported   bool
	}{
		{"no --cert", "", 0, "imported alone", true},
		{"another's certificate", other.CertFile, 1, "is not the PFX's key's", false},
		{"its certificate", id.CertFile, 0, "left out", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := filepath.Join(t.TempDir(), "token")
			if _, stderr, code := execute(t, nil, "soft", "init", tok, "--pin-file", pinFile); code != 0 {
				t.Fatalf("init: %d %s", code, stderr)
			}
			args := []string{"soft", "import", tok, "--pfx", pfxFile, "--password-file", passFile, "--pin-file", pinFile}
			if tc.cert != "" {
				args = append(args, "--cert", tc.cert)
			}
			_, stderr, code := execute(t, nil, args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) || !strings.Contains(stderr, "PBES2 with AES-256-CBC") && tc.code == 0 {
				t.Fatalf("%d %s", code, stderr)
			}
			out, _, _ := execute(t, nil, "soft", "list", tok, "--json")
			if got := strings.Contains(out, `"id"`); got != tc.imported {
				t.Fatalf("imported %v: %s", got, out)
			}
			if tc.cert == id.CertFile && !strings.Contains(out, id.Cert.Thumbprint()) {
				t.Fatalf("the certificate given is not stored: %s", out)
			}
		})
	}
}

// TestPFXCLIRealCryptoPro: the PFX exported by CryptoPro CSP
// (pycades-test.pfx of CryptoPro's pycades tests, empty password; not in the
// repository, read from $KEP_PFX_SAMPLES or ../shared/samples/pfx, see
// keyfile/pfx/testdata/cryptopro-samples.txt) imports without a password
// file (the empty password is tried first), a wrong password from a file is
// refused and writes nothing, kep sign signs with the imported key, and
// kep verify accepts the signature against CryptoPro's test root
// pycades-root.cer with its CRL. Skipped, saying why, when the sample or
// the root is absent.
func TestPFXCLIRealCryptoPro(t *testing.T) {
	dir := os.Getenv("KEP_PFX_SAMPLES")
	if dir == "" {
		dir, _ = filepath.Abs("../../../shared/samples/pfx")
	}
	pfxFile := filepath.Join(dir, "pycades-test.pfx")
	rw := realworld.SamplesDir("../../testdata/realworld")
	root, crl := filepath.Join(rw, "pycades", "pycades-root.cer"), filepath.Join(rw, "pycades", "pycades-root.crl")
	for _, f := range []string{pfxFile, root, crl} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("the real CryptoPro PFX sample or its root is not present (%v): CryptoPro/pycades files, not in the repository (keyfile/pfx/testdata/cryptopro-samples.txt)", err)
		}
	}
	const thumbprint = "48E7FDBDEE5FCA4E03491E73FA7E1568C716369B" // pycades-test.cer, openssl x509 -fingerprint -sha1
	tmp := t.TempDir()
	pinFile := filepath.Join(tmp, "pin")
	os.WriteFile(pinFile, []byte("4321\n"), 0o600)
	wrong := filepath.Join(tmp, "wrong")
	os.WriteFile(wrong, []byte("x\n"), 0o600)
	tok := filepath.Join(tmp, "token")
	if _, stderr, code := execute(t, nil, "soft", "init", tok, "--pin-file", pinFile); code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	if _, stderr, code := execute(t, nil, "soft", "import", tok, "--pfx", pfxFile, "--password-file", wrong, "--pin-file", pinFile); code != 1 || !strings.Contains(stderr, "wrong PFX password") {
		t.Fatalf("wrong password: %d %s", code, stderr)
	}
	if out, _, _ := execute(t, nil, "soft", "list", tok, "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("a refused import wrote %s", out)
	}
	out, stderr, code := execute(t, nil, "soft", "import", tok, "--pfx", pfxFile, "--pin-file", pinFile)
	if code != 0 || strings.Contains(stderr, "left out") {
		t.Fatalf("import: %d %s %s", code, out, stderr)
	}
	if out, _, _ := execute(t, nil, "soft", "list", tok, "--json"); !strings.Contains(out, thumbprint) {
		t.Fatalf("the token holds %s, not the certificate %s", out, thumbprint)
	}
	doc := filepath.Join(tmp, "doc.txt")
	os.WriteFile(doc, []byte("signed with the key of a PFX exported by CryptoPro CSP"), 0o644)
	if _, stderr, code := execute(t, nil, "sign", "--soft", tok, "--cert", thumbprint, "--pin-file", pinFile, doc); code != 0 {
		t.Fatalf("sign: %d %s", code, stderr)
	}
	out, stderr, code = execute(t, nil, "verify", "--revocation", "off", "--crl", crl, "--trust", root, "--content", doc, "--json", doc+".sig")
	if code != 0 || !strings.Contains(out, "not on the CRL of 2026-04-06") {
		t.Fatalf("verify (the CRL checked): %d %s %s", code, out, stderr)
	}
	// The same check fails against another root: the acceptance above is the
	// pycades root's.
	other := testpki.New(t)
	if _, _, code := execute(t, nil, "verify", "--revocation", "off", "--trust", other.Root.CertFile, "--content", doc, doc+".sig"); code == 0 {
		t.Fatal("verify accepts the signature against another root")
	}
}
