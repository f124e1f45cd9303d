package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/cpfixture"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/internal/testpki"
)

// snapshot reads every file of a folder, to check that kep left it unchanged.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

func sameFiles(t *testing.T, dir string, before map[string][]byte) {
	t.Helper()
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Errorf("%s: %d files before, %d after", dir, len(before), len(after))
	}
	for n, b := range before {
		if !bytes.Equal(after[n], b) {
			t.Errorf("%s/%s was modified", dir, n)
		}
	}
}

// TestCryptoProCLI: containers (written by the test-only cpfixture writer
// around keys and certificates made by OpenSSL with the gost engine) are
// listed, imported into the software token and used in place; each
// signature is checked by openssl cms -verify; a wrong password writes
// nothing; the container is never modified.
func TestCryptoProCLI(t *testing.T) {
	p := testpki.New(t)
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	os.WriteFile(pinFile, []byte("4321\n"), 0o600)
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("s3cret пароль\n"), 0o600)
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("s3cret\n"), 0o600)
	doc := filepath.Join(dir, "doc.txt")
	os.WriteFile(doc, []byte("signed with a CryptoPro container"), 0o644)
	verify := func(t *testing.T, sig string) {
		t.Helper()
		if _, err := p.O.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", doc,
			"-CAfile", p.Root.CertFile, "-purpose", "any", "-out", os.DevNull); err != nil {
			t.Fatalf("openssl rejects the signature: %v", err)
		}
	}
	for i, k := range []testpki.Key{testpki.CryptoProA, testpki.TC26512A} {
		t.Run(k.Name, func(t *testing.T) {
			id := p.Leaf(t, k, "Container user "+k.Name)
			key := id.Signer.(*gost3410.PrivateKey)
			cont := filepath.Join(dir, k.Name+".000")
			if err := cpfixture.Write(cont, key, id.Cert.Raw, cpfixture.Options{Password: "s3cret пароль", NonExportable: i == 1, Reserve: true, Name: "kep-" + k.Name}); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, cont)

			out, stderr, code := execute(t, nil, "certs", "list", "--cryptopro", cont, "--json")
			if code != 0 {
				t.Fatalf("certs list: %d %s", code, stderr)
			}
			var info struct {
				Name, Thumbprint string
				Exportable       bool
			}
			if err := json.Unmarshal([]byte(out), &info); err != nil || info.Thumbprint != id.Cert.Thumbprint() || info.Name != "kep-"+k.Name || info.Exportable != (i == 0) {
				t.Fatalf("certs list: %v %s", err, out)
			}

			tok := filepath.Join(dir, "token-"+k.Name)
			if _, stderr, code := execute(t, nil, "soft", "init", tok, "--pin-file", pinFile); code != 0 {
				t.Fatalf("init: %d %s", code, stderr)
			}
			_, stderr, code = execute(t, nil, "soft", "import", tok, "--cryptopro", cont, "--password-file", bad, "--pin-file", pinFile)
			if code != 1 || !strings.Contains(stderr, "wrong container password") {
				t.Fatalf("wrong password: %d %s", code, stderr)
			}
			if out, _, _ := execute(t, nil, "soft", "list", tok, "--json"); strings.TrimSpace(out) != "[]" {
				t.Fatalf("a refused import wrote %s", out)
			}
			_, stderr, code = execute(t, nil, "soft", "import", tok, "--cryptopro", cont, "--password-file", good, "--pin-file", pinFile)
			if code != 0 {
				t.Fatalf("import: %d %s", code, stderr)
			}
			if gotNote := strings.Contains(stderr, "non-exportable"); gotNote != (i == 1) {
				t.Errorf("non-exportable note %v, want %v: %s", gotNote, i == 1, stderr)
			}
			if _, stderr, code := execute(t, nil, "sign", "--soft", tok, "--cert", id.Cert.Thumbprint(), "--pin-file", pinFile, "-o", doc+".soft.sig", doc); code != 0 {
				t.Fatalf("sign --soft: %d %s", code, stderr)
			}
			verify(t, doc+".soft.sig")

			// In place, without importing; the zip of the folder works the same.
			if _, stderr, code := execute(t, nil, "sign", "--cryptopro", cont, "--password-file", good, "-o", doc+".cp.sig", doc); code != 0 {
				t.Fatalf("sign --cryptopro: %d %s", code, stderr)
			}
			verify(t, doc+".cp.sig")
			zipped := filepath.Join(dir, k.Name+".zip")
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			for n, b := range before {
				w, _ := zw.Create(k.Name + ".000/" + n)
				w.Write(b)
			}
			zw.Close()
			os.WriteFile(zipped, buf.Bytes(), 0o600)
			if _, stderr, code := execute(t, nil, "sign", "--cryptopro", zipped, "--password-file", good, "-o", doc+".zip.sig", doc); code != 0 {
				t.Fatalf("sign --cryptopro ZIP: %d %s", code, stderr)
			}
			verify(t, doc+".zip.sig")
			_, stderr, code = execute(t, nil, "sign", "--cryptopro", cont, "--password-file", bad, "-o", doc+".bad.sig", doc)
			if code != 1 || !strings.Contains(stderr, "wrong container password") {
				t.Fatalf("sign, wrong password: %d %s", code, stderr)
			}
			if _, err := os.Stat(doc + ".bad.sig"); err == nil {
				t.Fatal("a refused signature left a file")
			}
			// Вход по КЭП with the container in place.
			if k.Name == testpki.CryptoProA.Name {
				nonces := filepath.Join(dir, "nonces")
				ch, stderr, code := execute(t, nil, "login", "challenge", "--origin", "https://portal.example.ru", "--nonce-store", nonces)
				if code != 0 {
					t.Fatalf("challenge: %d %s", code, stderr)
				}
				chFile := filepath.Join(dir, "challenge.json")
				os.WriteFile(chFile, []byte(ch), 0o600)
				resp, stderr, code := execute(t, nil, "login", "sign", "--cryptopro", cont, "--password-file", good, chFile)
				if code != 0 {
					t.Fatalf("login sign --cryptopro: %d %s", code, stderr)
				}
				respFile := filepath.Join(dir, "response.json")
				os.WriteFile(respFile, []byte(resp), 0o600)
				if out, stderr, code := execute(t, nil, "login", "verify", "--origin", "https://portal.example.ru", "--trust", p.Root.CertFile,
					"--nonce-store", nonces, "--revocation", "off", "--trust-list", "none", respFile); code != 0 {
					t.Fatalf("login verify: %d %s %s", code, out, stderr)
				}
			}
			sameFiles(t, cont, before)
		})
	}

	// auto: one container found in $KEP_CRYPTOPRO_PATH is used; several are listed.
	t.Run("auto", func(t *testing.T) {
		id := p.Leaf(t, testpki.CryptoProC, "Auto user")
		drive := filepath.Join(dir, "drive")
		if err := cpfixture.Write(filepath.Join(drive, "auto0001.000"), id.Signer.(*gost3410.PrivateKey), id.Cert.Raw, cpfixture.Options{}); err != nil {
			t.Fatal(err)
		}
		t.Setenv("KEP_CRYPTOPRO_PATH", drive)
		sig := filepath.Join(dir, "auto.sig")
		_, stderr, code := execute(t, nil, "sign", "--cryptopro", "auto", "-o", sig, doc)
		if code != 0 || !strings.Contains(stderr, "auto0001.000") {
			t.Fatalf("sign --cryptopro auto: %d %s", code, stderr)
		}
		verify(t, sig)
		if err := cpfixture.Write(filepath.Join(drive, "auto0002.000"), id.Signer.(*gost3410.PrivateKey), id.Cert.Raw, cpfixture.Options{}); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := execute(t, nil, "sign", "--cryptopro", "auto", "-o", sig, doc); code != 2 || !strings.Contains(stderr, "auto0002.000") {
			t.Fatalf("two containers: %d %s", code, stderr)
		}
		out, stderr, code := execute(t, nil, "certs", "list", "--cryptopro", "auto", "--json")
		var list []struct{ Thumbprint string }
		if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 2 || list[0].Thumbprint != id.Cert.Thumbprint() {
			t.Fatalf("certs list auto: %d %v %s %s", code, err, out, stderr)
		}
	})

	// A container without a certificate and --cert naming another key's: refused.
	t.Run("foreign-cert", func(t *testing.T) {
		a, b := p.Leaf(t, testpki.CryptoProB, "A"), p.Leaf(t, testpki.CryptoProB, "B")
		cont := filepath.Join(dir, "nocert.000")
		if err := cpfixture.Write(cont, a.Signer.(*gost3410.PrivateKey), nil, cpfixture.Options{}); err != nil {
			t.Fatal(err)
		}
		tok := filepath.Join(dir, "token-foreign")
		execute(t, nil, "soft", "init", tok, "--pin-file", pinFile)
		_, stderr, code := execute(t, nil, "soft", "import", tok, "--cryptopro", cont, "--cert", b.CertFile, "--pin-file", pinFile)
		if code != 1 || !strings.Contains(stderr, "not the container's key") {
			t.Fatalf("foreign certificate: %d %s", code, stderr)
		}
		// A key recorded as GOST R 34.10-2001 is refused, saying why.
		old := filepath.Join(dir, "old.000")
		if err := cpfixture.Write(old, a.Signer.(*gost3410.PrivateKey), nil, cpfixture.Options{GOST2001: true}); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := execute(t, nil, "soft", "import", tok, "--cryptopro", old, "--pin-file", pinFile); code != 1 || !strings.Contains(stderr, "2001") {
			t.Fatalf("2001 key: %d %s", code, stderr)
		}
		// With the right certificate it imports (the container's empty password is tried first).
		if _, stderr, code := execute(t, nil, "soft", "import", tok, "--cryptopro", cont, "--cert", a.CertFile, "--pin-file", pinFile); code != 0 {
			t.Fatalf("import with --cert: %d %s", code, stderr)
		}
	})
}

// TestCryptoProCLIRealSample: the real CryptoPro CSP containers of
// testdata/cryptopro/samples.txt, when present, import and sign; openssl
// accepts the signature against the container's own certificate (as its own
// trust anchor, at a time inside its validity: it was issued by CryptoPro's
// test CA, whose certificate is not at hand).
func TestCryptoProCLIRealSample(t *testing.T) {
	root := os.Getenv("KEP_CRYPTOPRO_SAMPLES")
	if root == "" {
		root, _ = filepath.Abs("../../../shared/samples/cryptopro")
	}
	cont := filepath.Join(root, "91team-srv")
	if _, err := os.Stat(filepath.Join(cont, "header.key")); err != nil {
		t.Skipf("the real container 91team-srv is not present (%v): see testdata/cryptopro/SOURCES.md", err)
	}
	o := ossltest.New(t)
	dir := t.TempDir()
	before := snapshot(t, cont)
	pinFile := filepath.Join(dir, "pin")
	os.WriteFile(pinFile, []byte("4321\n"), 0o600)
	tok := filepath.Join(dir, "token")
	execute(t, nil, "soft", "init", tok, "--pin-file", pinFile)
	if _, stderr, code := execute(t, nil, "soft", "import", tok, "--cryptopro", cont, "--pin-file", pinFile); code != 0 {
		t.Fatalf("import: %d %s", code, stderr)
	}
	doc := filepath.Join(dir, "doc.txt")
	os.WriteFile(doc, []byte("signed with a real CryptoPro container"), 0o644)
	wrong := filepath.Join(dir, "wrong")
	os.WriteFile(wrong, []byte("12345678\n"), 0o600)
	if _, stderr, code := execute(t, nil, "sign", "--cryptopro", cont, "--password-file", wrong, doc); code != 1 || !strings.Contains(stderr, "wrong container password") {
		t.Fatalf("wrong password: %d %s", code, stderr)
	}
	out, _, _ := execute(t, nil, "certs", "list", "--cryptopro", cont, "--json")
	var info struct{ Thumbprint string }
	json.Unmarshal([]byte(out), &info)
	certPEM, stderr, code := execute(t, nil, "certs", "export", "--soft", tok, info.Thumbprint)
	if code != 0 {
		t.Fatalf("certs export: %d %s", code, stderr)
	}
	certFile := filepath.Join(dir, "cert.pem")
	os.WriteFile(certFile, []byte(certPEM), 0o600)
	for _, args := range [][]string{{"--cryptopro", cont}, {"--soft", tok, "--cert", info.Thumbprint, "--pin-file", pinFile}} {
		sig := filepath.Join(dir, "doc.sig")
		if _, stderr, code := execute(t, nil, append(append([]string{"sign"}, args...), "-o", sig, doc)...); code != 0 {
			t.Fatalf("sign %v: %d %s", args, code, stderr)
		}
		if _, err := o.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", doc,
			"-CAfile", certFile, "-partial_chain", "-attime", "1712000000", "-purpose", "any", "-out", os.DevNull); err != nil {
			t.Fatalf("openssl rejects the signature (%v): %v", args, err)
		}
	}
	sameFiles(t, cont, before)
}
