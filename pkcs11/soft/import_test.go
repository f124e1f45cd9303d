package soft

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/pkcs11"
)

func TestImport(t *testing.T) {
	p := testpki.New(t)
	leaves := map[string]*testpki.Identity{}
	for _, k := range []testpki.Key{testpki.CryptoProA, testpki.TC26512A, testpki.RSA2048, testpki.ECDSAP256} {
		leaves[k.Name] = p.Leaf(t, k, "Leaf "+k.Name)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	rootPEM := read(p.Root.CertFile)

	t.Run("PEM", func(t *testing.T) {
		_, tok := newToken(t)
		for name, id := range leaves {
			certPEM := append(read(id.CertFile), rootPEM...)
			obj, err := tok.ImportPEM(read(id.KeyFile), certPEM, "")
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if obj.Label != "Leaf "+name || obj.Certificate == nil || !bytes.Equal(obj.Certificate.Raw, id.Cert.Raw) ||
				len(obj.Chain) != 1 || !bytes.Equal(obj.Chain[0].Raw, p.Root.Cert.Raw) {
				t.Fatalf("%s: object %+v", name, obj)
			}
			key, err := tok.Signer(obj.ID)
			if err != nil {
				t.Fatal(err)
			}
			d, o := digestFor(key.Public(), []byte("signed by "+name))
			sig, err := key.Sign(nil, d, o)
			if err != nil {
				t.Fatal(err)
			}
			verify(t, id.Cert.PublicKey, d, sig)
			if _, err := tok.ImportPEM(read(id.KeyFile), nil, ""); !errors.Is(err, ErrExists) {
				t.Fatalf("%s imported twice: %v", name, err)
			}
		}
		// A key with someone else's certificate.
		a, b := leaves["cryptopro-a"], leaves["rsa-2048"]
		if _, err := tok.ImportPEM(read(a.KeyFile), read(b.CertFile), ""); !errors.Is(err, pkcs11.ErrKeyMismatch) {
			t.Fatalf("mismatched certificate: %v", err)
		}
		if _, err := tok.ImportPEM([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), nil, ""); err == nil {
			t.Fatal("garbage key imported")
		}
		objs, err := tok.Objects()
		if err != nil || len(objs) != len(leaves) {
			t.Fatalf("Objects: %d %v", len(objs), err)
		}
	})

	t.Run("PKCS12", func(t *testing.T) {
		_, tok := newToken(t)
		for _, name := range []string{"rsa-2048", "ecdsa-p256"} {
			id := leaves[name]
			pfx := p.O.Path(name + ".p12")
			p.O.MustRun(t, nil, "pkcs12", "-export", "-in", id.CertFile, "-inkey", id.KeyFile,
				"-certfile", p.Root.CertFile, "-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES",
				"-macalg", "sha1", "-passout", "pass:secret", "-out", pfx)
			if _, err := tok.ImportPKCS12(read(pfx), "wrong", ""); err == nil {
				t.Fatalf("%s: wrong PKCS#12 password accepted", name)
			}
			obj, err := tok.ImportPKCS12(read(pfx), "secret", "from pfx")
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if obj.Label != "from pfx" || obj.Certificate == nil || !bytes.Equal(obj.Certificate.Raw, id.Cert.Raw) {
				t.Fatalf("%s: object %+v", name, obj)
			}
			key, err := tok.Signer(obj.ID)
			if err != nil {
				t.Fatal(err)
			}
			d, o := digestFor(key.Public(), []byte("pfx"))
			sig, err := key.Sign(nil, d, o)
			if err != nil {
				t.Fatal(err)
			}
			verify(t, id.Cert.PublicKey, d, sig)
		}
		// OpenSSL 3's default PKCS#12 (AES-256, PBKDF2) is refused with a hint.
		id := leaves["rsa-2048"]
		pfx := p.O.Path("aes.p12")
		p.O.MustRun(t, nil, "pkcs12", "-export", "-in", id.CertFile, "-inkey", id.KeyFile, "-passout", "pass:x", "-out", pfx)
		if _, err := tok.ImportPKCS12(read(pfx), "x", ""); err == nil || !bytes.Contains([]byte(err.Error()), []byte("not supported")) {
			t.Fatalf("AES PKCS#12: %v", err)
		}
	})
}
