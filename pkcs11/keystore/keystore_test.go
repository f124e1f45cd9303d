package keystore

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/soft"
)

const testPIN = "1234"

// pinAnswers answers the PIN requests in turn with the given PINs, records
// them, and cancels when it runs out.
type pinAnswers struct {
	mu   sync.Mutex
	pins []string
	reqs []PINRequest
}

var errCancelled = errors.New("test: cancelled by the user")

func (p *pinAnswers) ui() UI {
	return UI{RequestPIN: func(_ context.Context, req PINRequest) ([]byte, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.reqs = append(p.reqs, req)
		if len(p.pins) == 0 {
			return nil, errCancelled
		}
		pin := p.pins[0]
		p.pins = p.pins[1:]
		return []byte(pin), nil
	}}
}

// softToken makes a software token holding a GOST and an ECDSA identity.
func softToken(t *testing.T) (dir string, ids []*testpki.Identity) {
	t.Helper()
	pki := testpki.New(t)
	ids = []*testpki.Identity{
		pki.Leaf(t, testpki.TC26256A, "Иванов Иван"),
		pki.Leaf(t, testpki.ECDSAP256, "Petrov"),
	}
	dir = filepath.Join(t.TempDir(), "token")
	if err := soft.Init(dir, []byte(testPIN), "kep test"); err != nil {
		t.Fatal(err)
	}
	tok, err := soft.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	if err := tok.Login([]byte(testPIN)); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := tok.ImportKey(id.Signer, "", id.Cert, pki.Root.Cert); err != nil {
			t.Fatal(err)
		}
	}
	return dir, ids
}

func openStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// signAndCheck signs a digest with the certificate id and verifies the
// signature with the certificate's key.
func signAndCheck(t *testing.T, s *Store, id string, ui UI) error {
	t.Helper()
	return s.Use(context.Background(), id, ui, func(k Signer) error {
		pub := k.Entry.Certificate.PublicKey
		d := certs.DefaultDigestFor(pub)
		digest := d.Sum([]byte("kep keystore"))
		sig, err := certs.SignDigest(k, rand.Reader, d, digest)
		if err != nil {
			return err
		}
		alg, err := certs.SignatureAlgorithmFor(pub, d)
		if err != nil {
			return err
		}
		return certs.VerifyDigest(pub, alg, d, digest, sig)
	})
}

func TestSoftTokenListAndUse(t *testing.T) {
	dir, ids := softToken(t)
	s := openStore(t, Config{SoftDir: dir})
	ctx := context.Background()

	toks, err := s.Tokens(ctx)
	if err != nil || len(toks) != 1 || toks[0].Source != SourceSoft || toks[0].Info.Label != "kep test" {
		t.Fatalf("Tokens = %+v, %v", toks, err)
	}
	list, err := s.Certificates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(ids) {
		t.Fatalf("%d certificates, want %d", len(list), len(ids))
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id.Cert.Thumbprint()] = true
	}
	for _, e := range list {
		if !want[e.ID] || e.Key != KeyPresent || len(e.Chain) != 1 {
			t.Errorf("entry %s: key %s chain %d; want one of the imported, present, chain 1", e.ID, e.Key, len(e.Chain))
		}
		delete(want, e.ID)
	}

	for _, id := range ids {
		answers := &pinAnswers{pins: []string{testPIN}}
		// Lower case with colons: as users paste thumbprints.
		sel := strings.ToLower(id.Cert.Thumbprint()[:2]) + ":" + id.Cert.Thumbprint()[2:]
		if err := signAndCheck(t, s, sel, answers.ui()); err != nil {
			t.Fatalf("%s: %v", id.Key.Name, err)
		}
		if len(answers.reqs) != 1 || answers.reqs[0].Attempt != 1 || answers.reqs[0].Retry != nil || answers.reqs[0].Entry.ID != id.Cert.Thumbprint() {
			t.Errorf("%s: PIN requests %+v", id.Key.Name, answers.reqs)
		}
	}
	if _, err := s.Find(ctx, strings.Repeat("AB", 20)); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find(unknown) = %v, want ErrNotFound", err)
	}
}

func TestSoftTokenWrongPIN(t *testing.T) {
	dir, ids := softToken(t)
	s := openStore(t, Config{SoftDir: dir})
	id := ids[0].Cert.Thumbprint()

	// A wrong PIN, then the right one: the UI hears about the failure.
	answers := &pinAnswers{pins: []string{"0000", testPIN}}
	if err := signAndCheck(t, s, id, answers.ui()); err != nil {
		t.Fatal(err)
	}
	if len(answers.reqs) != 2 || answers.reqs[1].Attempt != 2 || !errors.Is(answers.reqs[1].Retry, pkcs11.ErrPINIncorrect) || !answers.reqs[1].Token.Info.PINCountLow {
		t.Fatalf("requests %+v", answers.reqs)
	}

	// Wrong, then cancelled: the cancellation comes back, one try is spent.
	answers = &pinAnswers{pins: []string{"0000"}}
	if err := signAndCheck(t, s, id, answers.ui()); !errors.Is(err, errCancelled) {
		t.Fatalf("err = %v, want the UI's cancellation", err)
	}
	failures := func() int {
		tok, err := soft.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer tok.Close()
		in, err := tok.Info()
		if err != nil {
			t.Fatal(err)
		}
		return in.Failures
	}
	if n := failures(); n != 1 {
		t.Fatalf("failures = %d, want 1", n)
	}
	// A UI that refuses at once costs no try.
	answers = &pinAnswers{}
	if err := signAndCheck(t, s, id, answers.ui()); !errors.Is(err, errCancelled) {
		t.Fatalf("err = %v", err)
	}
	if n := failures(); n != 1 {
		t.Fatalf("failures = %d after a cancelled prompt, want 1", n)
	}
	// Until the lock: the request before the last try says so, and then no
	// PIN is asked at all.
	pins := make([]string, soft.MaxPINTries-1)
	for i := range pins {
		pins[i] = "0000"
	}
	answers = &pinAnswers{pins: pins}
	if err := signAndCheck(t, s, id, answers.ui()); !errors.Is(err, pkcs11.ErrPINLocked) {
		t.Fatalf("err = %v, want ErrPINLocked", err)
	}
	if last := answers.reqs[len(answers.reqs)-1]; !last.Token.Info.PINFinalTry {
		t.Errorf("the last prompt did not warn of the final try: %+v", last.Token.Info)
	}
	answers = &pinAnswers{pins: []string{testPIN}}
	if err := signAndCheck(t, s, id, answers.ui()); !errors.Is(err, pkcs11.ErrPINLocked) || len(answers.reqs) != 0 {
		t.Fatalf("locked token: err %v, %d prompts", err, len(answers.reqs))
	}
}

func TestConcurrentUse(t *testing.T) {
	dir, ids := softToken(t)
	s := openStore(t, Config{SoftDir: dir})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			answers := &pinAnswers{pins: []string{testPIN}}
			errs <- signAndCheck(t, s, ids[i%2].Cert.Thumbprint(), answers.ui())
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

const softhsmModule = "/usr/lib/softhsm/libsofthsm2.so"

// softHSMToken makes a SoftHSM2 token holding an ECDSA key generated by
// pkcs11-tool and a certificate for it.
func softHSMToken(t *testing.T) (certDER []byte) {
	t.Helper()
	if _, err := os.Stat(softhsmModule); err != nil {
		t.Fatalf("SoftHSM2: %v (run `make deps`)", err)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	run := func(name string, args ...string) {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("softhsm2-util", "--init-token", "--free", "--label", "hsm", "--so-pin", "87654321", "--pin", testPIN)
	tool := []string{"--module", softhsmModule, "--token-label", "hsm", "--login", "--pin", testPIN}
	run("pkcs11-tool", append(tool, "--keypairgen", "--key-type", "EC:prime256v1", "--id", "42", "--label", "signer")...)
	pubFile := filepath.Join(dir, "pub.der")
	run("pkcs11-tool", append(tool, "--read-object", "--type", "pubkey", "--id", "42", "--output-file", pubFile)...)
	pubDER, err := os.ReadFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(pubDER)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "hsm signer"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	certDER, err = x509.CreateCertificate(rand.Reader, leaf, ca, pub, caKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "cert.der")
	if err := os.WriteFile(certFile, certDER, 0o600); err != nil {
		t.Fatal(err)
	}
	run("pkcs11-tool", append(tool, "--write-object", certFile, "--type", "cert", "--id", "42", "--label", "signer")...)
	return certDER
}

func TestPKCS11Module(t *testing.T) {
	der := softHSMToken(t)
	cert, err := certs.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	dir, softIDs := softToken(t)
	missing := filepath.Join(t.TempDir(), "no-such-module.so")
	s := openStore(t, Config{Modules: []string{softhsmModule, missing}, SoftDir: dir})
	ctx := context.Background()

	mods := s.Modules()
	if len(mods) != 2 || !mods[0].Loaded || mods[1].Loaded || !errors.Is(mods[1].Err, pkcs11.ErrModuleLoad) {
		t.Fatalf("Modules = %+v", mods)
	}
	list, err := s.Certificates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1+len(softIDs) {
		t.Fatalf("%d certificates, want %d", len(list), 1+len(softIDs))
	}
	// Explicit modules come first, then the software token.
	e := list[0]
	if e.ID != cert.Thumbprint() || e.Token.Source != SourcePKCS11 || e.HexID() != "42" || !e.CanSign() {
		t.Fatalf("first entry %+v", e)
	}
	if list[1].Token.Source != SourceSoft {
		t.Errorf("second entry from %s, want the software token", list[1].Token.Source)
	}

	answers := &pinAnswers{pins: []string{"9999", testPIN}}
	if err := signAndCheck(t, s, e.ID, answers.ui()); err != nil {
		t.Fatal(err)
	}
	if len(answers.reqs) != 2 || !errors.Is(answers.reqs[1].Retry, pkcs11.ErrPINIncorrect) || answers.reqs[1].Token.Source != SourcePKCS11 {
		t.Fatalf("requests %+v", answers.reqs)
	}
	// Logged out afterwards: the next use asks again.
	answers = &pinAnswers{pins: []string{testPIN}}
	if err := signAndCheck(t, s, e.ID, answers.ui()); err != nil || len(answers.reqs) != 1 {
		t.Fatalf("second use: %v, %d prompts", err, len(answers.reqs))
	}
}

// TestSignerIsTheCertificatesKey guards Use against lending a key of another
// certificate: the signature must verify with the requested certificate.
func TestSignerIsTheCertificatesKey(t *testing.T) {
	dir, ids := softToken(t)
	s := openStore(t, Config{SoftDir: dir})
	for _, id := range ids {
		answers := &pinAnswers{pins: []string{testPIN}}
		err := s.Use(context.Background(), id.Cert.Thumbprint(), answers.ui(), func(k Signer) error {
			if !publicEqual(k.Public(), id.Cert.PublicKey) {
				t.Errorf("%s: lent key is not the certificate's", id.Key.Name)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func publicEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}
