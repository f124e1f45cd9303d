package cryptopro_test

import (
	"archive/zip"
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/cpfixture"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/keyfile/cryptopro"
)

// TestCertificateBeside: a container whose header.key holds no certificate
// finds its certificate in a file beside it (its folder or the drive's top),
// by the fingerprint only: a stranger's certificate there is not taken, nor
// is anything for a zip. Digest changes with the files, not with a re-read.
func TestCertificateBeside(t *testing.T) {
	p := testpki.New(t)
	mine := p.Leaf(t, testpki.TC26256A, "Владелец контейнера")
	other := p.Leaf(t, testpki.TC26256A, "Чужой")
	drive := t.TempDir()
	dir := filepath.Join(drive, "abcdefgh.000")
	key := mine.Signer.(*gost3410.PrivateKey)
	if err := cpfixture.Write(dir, key, nil, cpfixture.Options{Password: "1"}); err != nil {
		t.Fatal(err)
	}
	open := func() *cryptopro.Container {
		t.Helper()
		c, err := cryptopro.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := open()
	if c.Certificate(cryptopro.Primary) != nil || c.CertificateBeside(cryptopro.Primary) != nil {
		t.Fatal("a certificate found where there is none")
	}
	if !c.MatchesPublicKey(cryptopro.Primary, key.PublicKey()) || c.MatchesPublicKey(cryptopro.Primary, other.Signer.(*gost3410.PrivateKey).PublicKey()) {
		t.Error("MatchesPublicKey")
	}
	// A stranger's certificate (DER) in the folder is not the container's.
	os.WriteFile(filepath.Join(dir, "other.cer"), other.Cert.Raw, 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), mine.Cert.Raw, 0o600) // not a certificate's name
	if c.CertificateBeside(cryptopro.Primary) != nil {
		t.Fatal("took a stranger's certificate or a .txt file")
	}
	// The owner's certificate as PEM (after another block) at the drive's top.
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: mine.Cert.Raw})...)
	os.WriteFile(filepath.Join(drive, "Владелец.PEM"), pemData, 0o600)
	if got := c.CertificateBeside(cryptopro.Primary); !bytes.Equal(got, mine.Cert.Raw) {
		t.Fatal("the owner's certificate beside the container was not found")
	}
	// A zip of the same container finds nothing beside it.
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	for _, n := range []string{"header.key", "masks.key", "primary.key"} {
		w, _ := zw.Create("abcdefgh.000/" + n)
		b, _ := os.ReadFile(filepath.Join(dir, n))
		w.Write(b)
	}
	zw.Close()
	zc, err := cryptopro.ReadZip(zb.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if zc.CertificateBeside(cryptopro.Primary) != nil {
		t.Error("a zip found a certificate beside it")
	}
	// Digest: the same on a re-read, another after the password changed.
	if open().Digest() != c.Digest() || zc.Digest() == ([32]byte{}) {
		t.Error("Digest changed on a re-read, or is empty")
	}
	if err := cpfixture.Write(dir, key, nil, cpfixture.Options{Password: "2"}); err != nil {
		t.Fatal(err)
	}
	if open().Digest() == c.Digest() {
		t.Error("Digest did not change with the files")
	}
	// Without a fingerprint nothing beside can be matched.
	nofp := filepath.Join(drive, "nofp.000")
	if err := cpfixture.Write(nofp, key, nil, cpfixture.Options{NoFingerprint: true}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(nofp, "mine.cer"), mine.Cert.Raw, 0o600)
	if nc, err := cryptopro.Open(nofp); err != nil || nc.CertificateBeside(cryptopro.Primary) != nil {
		t.Errorf("no fingerprint: %v", err)
	}
}
