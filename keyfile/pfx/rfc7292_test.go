package pfx

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/internal/realworld"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/sign"
)

// TestPKCS12KDFVectors: pkcs12KDF against testdata/rfc7292-kdf.txt (Dr
// Henson's published vectors and OpenSSL's PKCS12KDF for long, Cyrillic
// and empty passwords), and bmpPassword against the passwords of those
// vectors.
func TestPKCS12KDFVectors(t *testing.T) {
	list, err := os.ReadFile("testdata/rfc7292-kdf.txt")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, line := range strings.Split(string(list), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			t.Fatalf("line %d: %d columns", i+1, len(f))
		}
		id, _ := strconv.Atoi(f[0])
		var bmp []byte
		if f[1] != "-" {
			bmp = mustHex(f[1])
		}
		iter, _ := strconv.Atoi(f[3])
		want := mustHex(f[4])
		if got := pkcs12KDF(byte(id), bmp, mustHex(f[2]), iter, len(want)); !bytes.Equal(got, want) {
			t.Errorf("line %d (%s): %x, want %x", i+1, f[5], got, want)
		}
		n++
	}
	if n < 16 {
		t.Fatalf("only %d vectors", n)
	}
	for _, tc := range []struct{ password, bmp string }{
		{"smeg", "0073006d006500670000"},
		{"Пароль для PFX", "041f04300440043e043b044c00200434043b044f00200050004600580000"},
		{"", "0000"},
		{"\U0001F600", "d83dde000000"}, // outside the BMP: a surrogate pair, as OpenSSL writes it
	} {
		if got := bmpPassword([]byte(tc.password)); !bytes.Equal(got, mustHex(tc.bmp)) {
			t.Errorf("bmpPassword(%q) = %x, want %s", tc.password, got, tc.bmp)
		}
	}
}

// pfxParts opens a PFX down to its safes, as Decode does.
func pfxParts(t *testing.T, data []byte) (*pfxPDU, []byte, []contentInfo) {
	t.Helper()
	var p pfxPDU
	if err := unmarshal(data, &p, "PFX"); err != nil {
		t.Fatal(err)
	}
	var authSafe []byte
	if err := unmarshal(p.AuthSafe.Content.Bytes, &authSafe, "authSafe"); err != nil {
		t.Fatal(err)
	}
	var infos []contentInfo
	if err := unmarshal(authSafe, &infos, "authenticated safe"); err != nil {
		t.Fatal(err)
	}
	return &p, authSafe, infos
}

// TestOpenSSLSHA1Files: PFX files made by OpenSSL with RFC 7292's own
// algorithms. A GOST key under gost89 with its certificates under
// pbeWithSHAAnd3-KeyTripleDES-CBC and an HMAC-SHA-1 MAC (CryptoPro's outer
// shape) decodes to the key and both certificates, for a Cyrillic and an
// empty password; a wrong password is ErrWrongPassword. An ECDSA file with
// everything under 3DES (-keypbe PBE-SHA1-3DES, a password longer than a
// 64-byte block in BMP form) is still ErrNotGOST from Decode, before any
// MAC (RSA/ECDSA files go to their own reader as before), but its MAC checks
// under the right password only, its certificate safe decrypts to the
// certificate, and its key bag to the key openssl pkcs8 prints.
func TestOpenSSLSHA1Files(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.TC26256A, "SHA-1 MAC user")
	for _, password := range []string{"Пароль 1", ""} {
		out := p.O.Path("gost-sha1.pfx")
		p.O.MustRun(t, nil, "pkcs12", "-export", "-inkey", id.KeyFile, "-in", id.CertFile, "-certfile", p.Root.CertFile,
			"-keypbe", "gost89", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1", "-passout", "pass:"+password, "-out", out)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Decode(data, []byte(password))
		if err != nil {
			t.Fatalf("password %q: %v", password, err)
		}
		if !f.Key.Equal(id.Signer.(*gost3410.PrivateKey)) || len(f.Certificates) != 2 || len(f.Unread) != 0 ||
			f.Certificates[0].Thumbprint() != id.Cert.Thumbprint() || f.Certificates[1].Thumbprint() != p.Root.Cert.Thumbprint() {
			t.Fatalf("password %q: %d certificates, unread %v", password, len(f.Certificates), f.Unread)
		}
		pdu, authSafe, _ := pfxParts(t, data)
		bmp, err := checkMAC(&pdu.MacData, authSafe, []byte(password))
		t.Logf("password %q: OpenSSL keys its MAC with the BMP form %x", password, bmp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(data, []byte(password+"x")); !errors.Is(err, ErrWrongPassword) {
			t.Errorf("password %q+x: %v", password, err)
		}
	}

	ec := p.Leaf(t, testpki.ECDSAP256, "ECDSA user")
	password := "a password longer than thirty-two characters, so two blocks"
	out := p.O.Path("ec-3des.pfx")
	p.O.MustRun(t, nil, "pkcs12", "-export", "-inkey", ec.KeyFile, "-in", ec.CertFile,
		"-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1", "-passout", "pass:"+password, "-out", out)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(data, []byte("not even the password")); !errors.Is(err, ErrNotGOST) {
		t.Fatalf("Decode of an ECDSA file: %v", err)
	}
	pdu, authSafe, infos := pfxParts(t, data)
	if _, err := checkMAC(&pdu.MacData, authSafe, []byte(password+"x")); !errors.Is(err, ErrWrongPassword) {
		t.Fatalf("MAC under a wrong password: %v", err)
	}
	bmp, err := checkMAC(&pdu.MacData, authSafe, []byte(password))
	if err != nil || !bytes.Equal(bmp, bmpPassword([]byte(password))) {
		t.Fatalf("MAC: %x %v", bmp, err)
	}
	wantKey := p.O.MustRun(t, nil, "pkcs8", "-topk8", "-nocrypt", "-in", ec.KeyFile, "-outform", "DER")
	var sawCert, sawKey bool
	for _, ci := range infos {
		var bags []safeBag
		switch {
		case ci.ContentType.Equal(oidEncryptedData):
			var ed encryptedData
			if err := unmarshal(ci.Content.Bytes, &ed, "encrypted data"); err != nil {
				t.Fatal(err)
			}
			alg := ed.EncryptedContentInfo.ContentEncryptionAlgorithm
			if !alg.Algorithm.Equal(oidPBESHA13DES) {
				t.Fatalf("certificate safe under %v", alg.Algorithm)
			}
			contents, err := decrypt3DES(alg.Parameters.FullBytes, ed.EncryptedContentInfo.EncryptedContent, bmp)
			if err != nil {
				t.Fatal(err)
			}
			if err := unmarshal(contents, &bags, "safe bags"); err != nil {
				t.Fatal(err)
			}
		case ci.ContentType.Equal(oidData):
			var contents []byte
			if err := unmarshal(ci.Content.Bytes, &contents, "safe contents"); err != nil {
				t.Fatal(err)
			}
			if err := unmarshal(contents, &bags, "safe bags"); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range bags {
			switch {
			case b.ID.Equal(oidCertBag):
				var cb certBag
				if err := unmarshal(b.Value.Bytes, &cb, "certificate bag"); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(cb.Data, ec.Cert.Raw) {
					t.Fatal("the certificate safe decrypts to another certificate")
				}
				sawCert = true
			case b.ID.Equal(oidShroudedKeyBag):
				var epki encryptedPrivateKeyInfo
				if err := unmarshal(b.Value.Bytes, &epki, "encrypted key"); err != nil {
					t.Fatal(err)
				}
				key, err := decrypt3DES(epki.Algorithm.Parameters.FullBytes, epki.EncryptedData, bmp)
				if err != nil || !bytes.Equal(key, wantKey) {
					t.Fatalf("the key bag decrypts to another key: %v", err)
				}
				sawKey = true
				// A wrong password: bad padding (an error), or, rarely,
				// padding that happens to look right and another text.
				if other, err := decrypt3DES(epki.Algorithm.Parameters.FullBytes, epki.EncryptedData, bmpPassword([]byte("x"))); err == nil && bytes.Equal(other, wantKey) {
					t.Fatal("the key decrypts under another password")
				}
			}
		}
	}
	if !sawCert || !sawKey {
		t.Fatalf("certificate %v, key %v", sawCert, sawKey)
	}
}

// TestCryptoProPFXSignsCMS: the key of the real CryptoPro CSP PFX
// (pycades-test.pfx, see testdata/cryptopro-samples.txt) signs a CMS that
// openssl cms -verify (gost engine) accepts against CryptoPro's test root
// pycades-root.cer — the whole chain checked, the purpose too (the leaf has
// no extendedKeyUsage, and its keyUsage has digitalSignature). Skipped,
// saying why, when the sample or the root is absent.
func TestCryptoProPFXSignsCMS(t *testing.T) {
	dir := pfxSamplesDir()
	data, err := os.ReadFile(filepath.Join(dir, "pycades-test.pfx"))
	if dir == "" || errors.Is(err, os.ErrNotExist) {
		t.Skip("pycades-test.pfx is not present in $KEP_PFX_SAMPLES or ../shared/samples/pfx (CryptoPro/pycades, not in the repository: see testdata/cryptopro-samples.txt)")
	}
	if err != nil {
		t.Fatal(err)
	}
	rootDER, err := os.ReadFile(filepath.Join(realworld.SamplesDir("../../testdata/realworld"), "pycades", "pycades-root.cer"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("pycades-root.cer is not present in $%s or ../shared/samples/realworld/pycades", realworld.SamplesEnv)
	}
	if err != nil {
		t.Fatal(err)
	}
	f, err := Decode(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Certificates) == 0 || !f.Key.PublicKey().Equal(f.Certificates[0].PublicKey) {
		t.Fatal("no certificate of the key")
	}
	o := ossltest.New(t)
	root := o.WriteFile(t, "root.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}))
	content := []byte("signed with the key of a PFX exported by CryptoPro CSP")
	sig, err := sign.Sign(context.Background(), bytes.NewReader(content), f.Key, f.Certificates[0], sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sigFile, docFile := o.WriteFile(t, "doc.sig", sig), o.WriteFile(t, "doc.txt", content)
	if out, err := o.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", docFile,
		"-CAfile", root, "-out", os.DevNull); err != nil {
		t.Fatalf("openssl rejects the signature: %v\n%s", err, out)
	}
	// And a changed document is refused: the verification above can fail.
	other := o.WriteFile(t, "other.txt", append(content, '!'))
	if _, err := o.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", other,
		"-CAfile", root, "-out", os.DevNull); err == nil {
		t.Fatal("openssl accepts the signature over another document")
	}
}
