package agent

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/cpfixture"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/keystore"
)

const containerPassword = "s3cret-pass" // ASCII: one KDF per try under -race

// fileHashes returns the SHA-256 of every file under dir (cpfixture.Hashes).
func fileHashes(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out, err := cpfixture.Hashes(dir)
	if err != nil || len(out) == 0 {
		t.Fatalf("hashing %s: %v (%d files)", dir, err, len(out))
	}
	return out
}

// sameHashes fails t for every change under dir since before.
func sameHashes(t *testing.T, dir string, before map[string][32]byte) {
	t.Helper()
	changes, err := cpfixture.Changes(dir, before)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		t.Error(c)
	}
}

// containers writes two CryptoPro containers in a folder: one with a
// password and its certificate in header.key, one without a password,
// marked non-exportable, its certificate in a .cer file beside it.
func containers(t *testing.T, pki *testpki.PKI) (root, withPW string, pw, empty *testpki.Identity) {
	t.Helper()
	pw = pki.Leaf(t, testpki.TC26256A, "Сидоров Пётр Контейнерович")
	empty = pki.Leaf(t, testpki.CryptoProA, "Без Пароля")
	root = t.TempDir()
	withPW = filepath.Join(root, "sidorov.000")
	if err := cpfixture.Write(withPW, pw.Signer.(*gost3410.PrivateKey), pw.Cert.Raw, cpfixture.Options{Password: containerPassword, Name: "sidorov-2026"}); err != nil {
		t.Fatal(err)
	}
	flash := filepath.Join(root, "FLASH", "bezparol.000")
	if err := cpfixture.Write(flash, empty.Signer.(*gost3410.PrivateKey), nil, cpfixture.Options{NonExportable: true}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(flash, "cert.cer"), empty.Cert.Raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return root, withPW, pw, empty
}

// opensslVerify checks a CMS signature with OpenSSL and the gost engine.
func opensslVerify(t *testing.T, o interface {
	WriteFile(testing.TB, string, []byte) string
	Run([]byte, ...string) ([]byte, error)
}, name string, cms, doc []byte, caFile string, extra ...string) {
	t.Helper()
	docFile := o.WriteFile(t, name+".txt", doc)
	sigFile := o.WriteFile(t, name+".sig", cms)
	args := append([]string{"cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", docFile, "-CAfile", caFile, "-purpose", "any", "-out", os.DevNull}, extra...)
	if out, err := o.Run(nil, args...); err != nil {
		t.Fatalf("openssl cms -verify rejects the %s signature: %v %s", name, err, out)
	}
}

// TestCryptoProInAgent: containers named (--cryptopro) and found (the
// search) are listed beside the software token; signing with the password
// container asks for its password in the agent's page (labelled as a
// password, saying it has no try counter), a wrong one is reported and
// asked again, and the CMS verifies with OpenSSL; with --pin-cache the
// second signature asks none (the decrypted key is kept by the cache); the
// empty-password container signs without asking; the real CryptoPro CSP
// container, when present, is listed and signs too; no container's files
// change. One agent for all: its fixture is the costly part under -race.
func TestCryptoProInAgent(t *testing.T) {
	var root, withPW string
	var pw, empty *testpki.Identity
	real := realContainer()
	f := newFixtureKeys(t, Config{AllowOrigins: []string{siteOrigin}, PINCache: 5 * time.Minute}, func(pki *testpki.PKI) keystore.Config {
		root, withPW, pw, empty = containers(t, pki)
		kc := keystore.Config{CryptoPro: []string{withPW}, CryptoProSearch: true, CryptoProRoots: []string{root}}
		if real != "" {
			kc.CryptoPro = append(kc.CryptoPro, real)
		}
		return kc
	})
	before := fileHashes(t, root)
	pki := f.pki
	c := f.dial(t, siteOrigin)

	list := mustCall[map[string][]CertJSON](t, c, "certs.list", nil)["certificates"]
	got := map[string]CertJSON{}
	var realEntry *CertJSON
	for _, e := range list {
		got[e.ID] = e
		if e.Token.Source == keystore.SourceCryptoPro && strings.Contains(e.Subject, "test.91.gost.dev") {
			realEntry = &e
		}
	}
	want := len(f.ids) + 2
	if real != "" {
		want++
	}
	if len(list) != want {
		t.Fatalf("%d certificates listed, want %d: %+v", len(list), want, list)
	}
	cp, ce := got[pw.Cert.Thumbprint()], got[empty.Cert.Thumbprint()]
	if cp.Key != keystore.KeyLoginRequired || !cp.CanSign || cp.NonExportable || cp.Token.Source != keystore.SourceCryptoPro || cp.Token.Label != "sidorov-2026" {
		t.Errorf("password container listed as %+v", cp)
	}
	if ce.Key != keystore.KeyPresent || !ce.CanSign || !ce.NonExportable || ce.Token.Source != keystore.SourceCryptoPro {
		t.Errorf("empty-password container listed as %+v", ce)
	}

	doc := []byte("Подписано ключом из контейнера CryptoPro")
	u := f.expect(answer{Approve: true, PIN: "wrong-pass"}, answer{Approve: true, PIN: containerPassword})
	res := mustCall[SignResult](t, c, "sign", map[string]any{"certId": pw.Cert.Thumbprint(), "data": doc})
	u.wait(t)
	if len(u.shown) != 1 || !u.shown[0].NeedPIN || u.shown[0].PINLabel != containerPINLabel || !strings.Contains(u.shown[0].PINHint, "нет счётчика попыток") ||
		u.shown[0].Certificate == nil || u.shown[0].Certificate.Token != "sidorov-2026 (контейнер CryptoPro)" {
		t.Errorf("the page showed %+v", u.shown)
	}
	if len(u.results) != 2 || u.results[0].Status != "retry" || u.results[0].Message != wrongPasswordText || u.results[1].Status != "done" {
		t.Errorf("page results %+v", u.results)
	}
	if strings.Contains(u.results[0].Message, "Осталось") {
		t.Errorf("a container's wrong password claims tries: %q", u.results[0].Message)
	}
	opensslVerify(t, pki.O, "password", res.CMS, doc, pki.Root.CertFile)
	if n := f.agent.pins.containerKeys().Len(); n != 1 {
		t.Errorf("%d container keys kept with --pin-cache, want 1", n)
	}

	// --pin-cache: the second signature asks no password.
	doc2 := []byte("second document")
	u = f.expect(answer{Approve: true})
	res = mustCall[SignResult](t, c, "sign", map[string]any{"certId": pw.Cert.Thumbprint(), "data": doc2})
	u.wait(t)
	if len(u.shown) != 1 || u.shown[0].NeedPIN || len(u.results) != 1 || u.results[0].Status != "done" {
		t.Errorf("second signature: shown %+v, results %+v", u.shown, u.results)
	}
	opensslVerify(t, pki.O, "cached", res.CMS, doc2, pki.Root.CertFile)

	u = f.expect(answer{Approve: true})
	res = mustCall[SignResult](t, c, "sign", map[string]any{"certId": empty.Cert.Thumbprint(), "data": doc})
	u.wait(t)
	if len(u.shown) != 1 || u.shown[0].NeedPIN || len(u.results) != 1 || u.results[0].Status != "done" ||
		u.shown[0].Certificate == nil || !strings.HasSuffix(u.shown[0].Certificate.Token, "(контейнер CryptoPro), ключ помечен как неэкспортируемый") {
		t.Errorf("empty password: shown %+v, results %+v", u.shown, u.results)
	}
	opensslVerify(t, pki.O, "empty", res.CMS, doc, pki.Root.CertFile)

	log, err := os.ReadFile(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte(`"method":"sign.pin"`)) || bytes.Contains(log, []byte(containerPassword)) || bytes.Contains(log, []byte("wrong-pass")) {
		t.Errorf("audit log: want the wrong password on the record, never a password:\n%s", log)
	}
	sameHashes(t, root, before)

	t.Run("real container", func(t *testing.T) {
		if real == "" {
			t.Skip("the real container 91team-srv is not present: set KEP_CRYPTOPRO_SAMPLES or see testdata/cryptopro/SOURCES.md")
		}
		realBefore := fileHashes(t, real)
		if realEntry == nil || !realEntry.CanSign || realEntry.NonExportable {
			t.Fatalf("the real container is listed as %+v", realEntry)
		}
		der, err := base64.StdEncoding.DecodeString(realEntry.Certificate)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := certs.ParseCertificate(der)
		if err != nil || cert.Thumbprint() != realEntry.ID {
			t.Fatalf("its certificate: %v", err)
		}
		doc := []byte("signed through the agent with a real CryptoPro container")
		u := f.expect(answer{Approve: true})
		res := mustCall[SignResult](t, c, "sign", map[string]any{"certId": realEntry.ID, "data": doc})
		u.wait(t)
		if u.shown[0].NeedPIN {
			t.Error("the empty-password container asked for a password")
		}
		certFile := pki.O.WriteFile(t, "real.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
		// Its CA is not at hand and it expired in 2024: checked against the
		// certificate itself, at a time it was valid.
		opensslVerify(t, pki.O, "real", res.CMS, doc, certFile, "-partial_chain", "-attime", "1712000000")
		sameHashes(t, real, realBefore)
	})
}

// realContainer is the real CryptoPro CSP 5.0 container's folder (empty
// password; testdata/cryptopro/SOURCES.md), or "" when it is not here.
func realContainer() string {
	root := os.Getenv("KEP_CRYPTOPRO_SAMPLES")
	if root == "" {
		root, _ = filepath.Abs("../../shared/samples/cryptopro")
	}
	cont := filepath.Join(root, "91team-srv")
	if _, err := os.Stat(filepath.Join(cont, "header.key")); err != nil {
		return ""
	}
	return cont
}

// TestFileConfigCryptoPro: agent.json's containers are taken from the
// file's folder when relative; the search is on unless set false.
func TestFileConfigCryptoPro(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		json   string
		paths  []string
		search bool
	}{
		{`{"cryptopro": ["keys/a.000", "/media/me/FLASH/b.000"], "cryptoproSearch": false}`, []string{filepath.Join(dir, "keys/a.000"), "/media/me/FLASH/b.000"}, false},
		{`{"cryptoproSearch": true}`, nil, true},
		{`{}`, nil, true},
	} {
		p := filepath.Join(dir, "agent.json")
		if err := os.WriteFile(p, []byte(tc.json), 0o600); err != nil {
			t.Fatal(err)
		}
		fc, err := LoadFileConfig(p, false)
		if err != nil {
			t.Fatalf("%s: %v", tc.json, err)
		}
		search := fc.CryptoProSearch == nil || *fc.CryptoProSearch
		if strings.Join(fc.CryptoPro, "|") != strings.Join(tc.paths, "|") || search != tc.search {
			t.Errorf("%s: containers %q search %v, want %q %v", tc.json, fc.CryptoPro, search, tc.paths, tc.search)
		}
	}
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{"cryptoproDirs": ["x"]}`), 0o600)
	if _, err := LoadFileConfig(filepath.Join(dir, "bad.json"), false); err == nil {
		t.Error("a misspelt member was accepted")
	}
}

// TestTerminalUIContainerPassword: in the terminal a container's password
// is asked as such (Enter for none), and a wrong one is told without tries.
func TestTerminalUIContainerPassword(t *testing.T) {
	tty := &scriptedTTY{in: strings.NewReader("y\n\n" + "y\nright\n")}
	ui := &TerminalUI{TTY: tty}
	e := &keystore.Entry{ID: "AB", Certificate: &certs.Certificate{Certificate: &x509.Certificate{}}, Token: keystore.Token{Source: keystore.SourceCryptoPro, Info: pkcs11.TokenInfo{Label: "ivanov", LoginRequired: true}}}
	conf, err := ui.Confirm(context.Background(), Operation{Kind: OpSign, Origin: siteOrigin, Entry: e, NeedPIN: true, Size: 1, DigestAlg: "streebog256"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := conf.PIN(context.Background(), keystore.PINRequest{Token: e.Token, Entry: e, Attempt: 1})
	if err != nil || len(first) != 0 {
		t.Fatalf("first password %q, %v; want the empty one typed", first, err)
	}
	again, err := conf.PIN(context.Background(), keystore.PINRequest{Token: e.Token, Entry: e, Attempt: 2, Retry: pkcs11.ErrPINIncorrect})
	if err != nil || string(again) != "right" {
		t.Fatalf("second password %q, %v", again, err)
	}
	conf.Done(nil)
	screen := tty.text()
	for _, want := range []string{containerPrompt, wrongPasswordText, "Ввести пароль контейнера?"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal did not show %q:\n%s", want, screen)
		}
	}
	for _, bad := range []string{"PIN-код токена", "Осталось", "right"} {
		if strings.Contains(screen, bad) {
			t.Errorf("the terminal showed %q:\n%s", bad, screen)
		}
	}
}
