package keystore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/cpfixture"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/keyfile/cryptopro"
	"github.com/kepkit/kep/pkcs11"
)

// hashTree returns the SHA-256 of every file under dir (cpfixture.Hashes).
func hashTree(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out, err := cpfixture.Hashes(dir)
	if err != nil {
		t.Fatalf("hashing %s: %v (%d files)", dir, err, len(out))
	}
	return out
}

// sameTree fails t for every change under dir since before.
func sameTree(t *testing.T, dir string, before map[string][32]byte) {
	t.Helper()
	changes, err := cpfixture.Changes(dir, before)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		t.Error(c)
	}
}

// TestCryptoProContainers: containers named and found by the search are
// listed with their certificates (from header.key, or a file beside), key
// states and the non-exportable mark; one without any certificate is an
// error beside the others. A password container asks through the UI with
// honest attempts (a wrong one is ErrPINIncorrect and asked again); one
// with the empty password asks nothing. The key is destroyed after each use
// and the containers are never written.
func TestCryptoProContainers(t *testing.T) {
	pki := testpki.New(t)
	a := pki.Leaf(t, testpki.TC26256A, "Контейнер С Паролем")
	b := pki.Leaf(t, testpki.CryptoProA, "Контейнер Без Пароля")
	root := t.TempDir()
	const pw = "pass-1" // ASCII: one KDF per try (a Cyrillic one costs up to three)
	dirA, dirB, dirC := filepath.Join(root, "aaaa.000"), filepath.Join(root, "drive", "bbbb.000"), filepath.Join(root, "cccc.000")
	if err := cpfixture.Write(dirA, a.Signer.(*gost3410.PrivateKey), a.Cert.Raw, cpfixture.Options{Password: pw, Name: "ivanov-2026"}); err != nil {
		t.Fatal(err)
	}
	if err := cpfixture.Write(dirB, b.Signer.(*gost3410.PrivateKey), nil, cpfixture.Options{NonExportable: true}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "drive", "b.cer"), b.Cert.Raw, 0o600) // at the drive's top
	other := genGOST(t)
	if err := cpfixture.Write(dirC, other, nil, cpfixture.Options{}); err != nil {
		t.Fatal(err)
	}
	before := hashTree(t, root)
	s := openStore(t, Config{CryptoPro: []string{dirA}, CryptoProSearch: true, CryptoProRoots: []string{root}})
	ctx := context.Background()

	toks, err := s.Tokens(ctx)
	if err != nil || len(toks) != 3 {
		t.Fatalf("Tokens = %+v, %v; want the three containers once each", toks, err)
	}
	list, err := s.Certificates(ctx)
	if !errors.Is(err, ErrNoCertificate) || len(list) != 2 {
		t.Fatalf("Certificates = %d entries, %v; want 2 and ErrNoCertificate for cccc.000", len(list), err)
	}
	byID := map[string]*Entry{}
	for _, e := range list {
		byID[e.ID] = e
		ti := e.Token.Info
		if e.Token.Source != SourceCryptoPro || !ti.WriteProtected || ti.PINCountLow || ti.PINFinalTry || ti.PINLocked || !e.CanSign() {
			t.Errorf("%s: token %+v, key %s", e.ID, e.Token, e.Key)
		}
	}
	ea, eb := byID[a.Cert.Thumbprint()], byID[b.Cert.Thumbprint()]
	if ea == nil || eb == nil {
		t.Fatalf("entries %v; want %s and %s", byID, a.Cert.Thumbprint(), b.Cert.Thumbprint())
	}
	if ea.Key != KeyLoginRequired || !ea.AsksPIN() || ea.NonExportable || ea.Label != "ivanov-2026" || ea.Token.Module != dirA {
		t.Errorf("password container: %+v", ea)
	}
	if eb.Key != KeyPresent || eb.AsksPIN() || !eb.NonExportable || eb.Label != "bbbb.000" {
		t.Errorf("empty-password container: %+v", eb)
	}

	// The password: a wrong one, then the right one.
	answers := &pinAnswers{pins: []string{"wrong-1", pw}}
	var lent *gost3410.PrivateKey
	err = s.Use(ctx, a.Cert.Thumbprint(), answers.ui(), func(k Signer) error {
		lent = k.Signer.(*gost3410.PrivateKey)
		return signOnce(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(answers.reqs) != 2 || answers.reqs[0].Attempt != 1 || answers.reqs[0].Retry != nil ||
		answers.reqs[1].Attempt != 2 || !errors.Is(answers.reqs[1].Retry, pkcs11.ErrPINIncorrect) || !errors.Is(answers.reqs[1].Retry, cryptopro.ErrWrongPassword) ||
		answers.reqs[1].Token.Source != SourceCryptoPro {
		t.Errorf("password requests %+v", answers.reqs)
	}
	if _, err := lent.Sign(nil, make([]byte, 32), nil); !errors.Is(err, gost3410.ErrDestroyed) {
		t.Errorf("the lent key still signs after the operation: %v", err)
	}
	// Cancelled by the UI: its error, unchanged.
	if err := signAndCheck(t, s, a.Cert.Thumbprint(), (&pinAnswers{}).ui()); !errors.Is(err, errCancelled) {
		t.Errorf("cancelled: %v", err)
	}
	// The empty password: nothing asked.
	none := &pinAnswers{}
	if err := signAndCheck(t, s, b.Cert.Thumbprint(), none.ui()); err != nil || len(none.reqs) != 0 {
		t.Errorf("empty password: %v, %d requests", err, len(none.reqs))
	}
	sameTree(t, root, before)

	// The container replaced by another key between listing and use: refused.
	swapped := filepath.Join(t.TempDir(), "swap.000")
	if err := cpfixture.Write(swapped, a.Signer.(*gost3410.PrivateKey), a.Cert.Raw, cpfixture.Options{}); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, Config{CryptoPro: []string{swapped}})
	e, err := s2.Find(ctx, a.Cert.Thumbprint())
	if err != nil {
		t.Fatal(err)
	}
	if err := cpfixture.Write(swapped, b.Signer.(*gost3410.PrivateKey), b.Cert.Raw, cpfixture.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := s2.UseEntry(ctx, e, (&pinAnswers{}).ui(), signOnce); !errors.Is(err, ErrNotFound) {
		t.Errorf("swapped container: %v, want ErrNotFound", err)
	}
	// The drive taken out: as a token removed.
	if err := os.RemoveAll(swapped); err != nil {
		t.Fatal(err)
	}
	if err := s2.UseEntry(ctx, e, (&pinAnswers{}).ui(), signOnce); !errors.Is(err, pkcs11.ErrTokenNotPresent) {
		t.Errorf("removed container: %v, want ErrTokenNotPresent", err)
	}
}

// TestContainerKeyCache: with a cache the key is kept for the right
// password only, dropped when the container changes, and cleared on Close.
func TestContainerKeyCache(t *testing.T) {
	key := genGOST(t)
	dir := filepath.Join(t.TempDir(), "k.000")
	// The containers' own passwords play no part here (empty: cheap to
	// write); the cache is keyed by the password it is given.
	if err := cpfixture.Write(dir, key, nil, cpfixture.Options{}); err != nil {
		t.Fatal(err)
	}
	c, err := cryptopro.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cache := NewContainerKeyCache(time.Minute)
	cache.put(dir, c.Digest(), []byte("один"), key)
	if cache.Len() != 1 {
		t.Fatal("not kept")
	}
	if cache.get(dir, c.Digest(), []byte("два")) != nil || cache.get(dir, c.Digest(), nil) != nil {
		t.Error("a wrong password got the kept key")
	}
	got := cache.get(dir, c.Digest(), []byte("один"))
	if got == nil || !got.Equal(key) {
		t.Fatal("the right password did not get the kept key")
	}
	got.Destroy()
	if again := cache.get(dir, c.Digest(), []byte("один")); again == nil || !again.Equal(key) {
		t.Error("destroying a lent copy destroyed the kept key")
	}
	// The container rewritten (as a new password would): the kept key is dropped.
	if err := cpfixture.Write(dir, key, nil, cpfixture.Options{Name: "rewritten"}); err != nil {
		t.Fatal(err)
	}
	c2, _ := cryptopro.Open(dir)
	if cache.get(dir, c2.Digest(), []byte("один")) != nil || cache.Len() != 0 {
		t.Error("kept across a change of the container")
	}
	cache.put(dir, c2.Digest(), []byte("два"), key)
	cache.Close()
	cache.put(dir, c2.Digest(), []byte("два"), key)
	if cache.Len() != 0 {
		t.Error("Close kept a key, or put after Close did")
	}
	short := NewContainerKeyCache(50 * time.Millisecond)
	short.put(dir, c2.Digest(), []byte("два"), key)
	time.Sleep(150 * time.Millisecond)
	if short.Len() != 0 {
		t.Error("the kept key outlived its time")
	}
}

func genGOST(t *testing.T) *gost3410.PrivateKey {
	t.Helper()
	ps, err := gost3410.ParamSetByName("cryptopro-xcha")
	if err != nil {
		t.Fatal(err)
	}
	k, err := gost3410.GenerateKey(ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signOnce signs a digest with the lent key and checks it.
func signOnce(k Signer) error {
	pub := k.Entry.Certificate.PublicKey.(*gost3410.PublicKey)
	digest := make([]byte, pub.Params().Size())
	digest[0] = 1
	sig, err := k.Sign(nil, digest, nil)
	if err != nil {
		return err
	}
	return pub.VerifyDigest(digest, sig)
}

// BenchmarkContainerUse: one signature with a password container's key,
// decrypted each time (2,000 Streebog rounds and the unmasking) or taken
// from a ContainerKeyCache (the agent's --pin-cache).
func BenchmarkContainerUse(b *testing.B) {
	id := testpki.New(b).Leaf(b, testpki.TC26256A, "bench")
	dir := filepath.Join(b.TempDir(), "bench.000")
	if err := cpfixture.Write(dir, id.Signer.(*gost3410.PrivateKey), id.Cert.Raw, cpfixture.Options{Password: "bench-pass"}); err != nil {
		b.Fatal(err)
	}
	s, err := Open(context.Background(), Config{CryptoPro: []string{dir}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	list, err := s.Certificates(context.Background())
	if err != nil || len(list) != 1 {
		b.Fatal(len(list), err)
	}
	for _, tc := range []struct {
		name  string
		cache *ContainerKeyCache
	}{{"decrypt", nil}, {"cached", NewContainerKeyCache(time.Hour)}} {
		b.Run(tc.name, func(b *testing.B) {
			ui := UI{ContainerKeys: tc.cache, RequestPIN: func(context.Context, PINRequest) ([]byte, error) { return []byte("bench-pass"), nil }}
			for b.Loop() {
				if err := s.UseEntry(context.Background(), list[0], ui, signOnce); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
