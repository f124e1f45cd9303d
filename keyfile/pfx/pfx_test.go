package pfx_test

import (
	"bytes"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/keyfile/pfx"
)

// TestOpenSSLFiles: PFX files made by openssl pkcs12 -export with the gost
// engine (gost89 PBE, Streebog MACs; a chain longer than the 1 KiB key-meshing
// period) decode to the key and certificates OpenSSL was given; a wrong
// password is ErrWrongPassword.
func TestOpenSSLFiles(t *testing.T) {
	p := testpki.New(t)
	extra := []*testpki.Identity{p.Leaf(t, testpki.CryptoProB, "other 1"), p.Leaf(t, testpki.CryptoProC, "other 2"), p.Leaf(t, testpki.TC26512B, "other 3")}
	var chain []byte
	for _, id := range append([]*testpki.Identity{p.Root}, extra...) {
		b, err := os.ReadFile(id.CertFile)
		if err != nil {
			t.Fatal(err)
		}
		chain = append(chain, b...)
	}
	chainFile := p.O.WriteFile(t, "chain.pem", chain)
	for _, tc := range []struct {
		key      testpki.Key
		mac      string
		password string
		chain    bool
	}{
		{testpki.CryptoProA, "md_gost12_256", "12345678", false},
		{testpki.CryptoProA, "md_gost12_256", "", true},
		{testpki.TC26256A, "md_gost12_512", "Пароль для PFX", true},
		{testpki.TC26512A, "md_gost12_256", "qawsqaws", false},
		{testpki.TC26512C, "md_gost94", "x", true},
	} {
		t.Run(tc.key.Name+"/"+tc.mac, func(t *testing.T) {
			id := p.Leaf(t, tc.key, "PFX "+tc.key.Name)
			out := p.O.Path(tc.key.Name + tc.mac + ".pfx")
			args := []string{"pkcs12", "-export", "-inkey", id.KeyFile, "-in", id.CertFile, "-keypbe", "gost89", "-certpbe", "gost89",
				"-macalg", tc.mac, "-passout", "pass:" + tc.password, "-name", "ключ " + tc.key.Name, "-out", out}
			if tc.chain {
				args = append(args, "-certfile", chainFile)
			}
			p.O.MustRun(t, nil, args...)
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			f, err := pfx.Decode(data, []byte(tc.password))
			if err != nil {
				t.Fatal(err)
			}
			want := id.Signer.(*gost3410.PrivateKey)
			if !f.Key.Equal(want) {
				t.Fatal("another key")
			}
			n := 1
			if tc.chain {
				n = 5
			}
			if len(f.Certificates) != n || !bytes.Equal(f.Certificates[0].Raw, id.Cert.Raw) {
				t.Fatalf("%d certificates, want %d with the key's first", len(f.Certificates), n)
			}
			if f.FriendlyName != "ключ "+tc.key.Name {
				t.Errorf("friendly name %q", f.FriendlyName)
			}
			if _, err := pfx.Decode(data, []byte(tc.password+"!")); !errors.Is(err, pfx.ErrWrongPassword) {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
}

// TestOpenSSLCTRACPKM: the gost engine's PBES2 with Kuznyechik and Magma in
// CTR-ACPKM, with a certificate safe past several ACPKM sections.
func TestOpenSSLCTRACPKM(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "ACPKM")
	other, err := os.ReadFile(p.Leaf(t, testpki.TC26512A, "a long common name to fill the safe").CertFile)
	if err != nil {
		t.Fatal(err)
	}
	chain := bytes.Repeat(other, 16) // openssl keeps every copy: a safe of several ACPKM sections
	chainFile := p.O.WriteFile(t, "acpkm-chain.pem", chain)
	for _, c := range []string{"kuznyechik-ctr-acpkm", "magma-ctr-acpkm"} {
		t.Run(c, func(t *testing.T) {
			out := p.O.Path(c + ".pfx")
			p.O.MustRun(t, nil, "pkcs12", "-export", "-inkey", id.KeyFile, "-in", id.CertFile, "-certfile", chainFile,
				"-keypbe", c, "-certpbe", c, "-macalg", "md_gost12_512", "-passout", "pass:acpkm", "-out", out)
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) < 8<<10 {
				t.Fatalf("only %d bytes: the safe does not cross enough sections", len(data))
			}
			f, err := pfx.Decode(data, []byte("acpkm"))
			if err != nil {
				t.Fatal(err)
			}
			if !f.Key.Equal(id.Signer.(*gost3410.PrivateKey)) || len(f.Certificates) != 17 || !bytes.Equal(f.Certificates[0].Raw, id.Cert.Raw) {
				t.Fatalf("key or %d certificates wrong", len(f.Certificates))
			}
			if _, err := pfx.Decode(data, []byte("acpkM")); !errors.Is(err, pfx.ErrWrongPassword) {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
}

// TestEncodeReadByOpenSSL: what Encode writes, openssl pkcs12 reads back
// (key and certificates), and Decode reads back too.
func TestEncodeReadByOpenSSL(t *testing.T) {
	p := testpki.New(t)
	for _, k := range []testpki.Key{testpki.CryptoProA, testpki.TC26512A} {
		t.Run(k.Name, func(t *testing.T) {
			id := p.Leaf(t, k, "export "+k.Name)
			key := id.Signer.(*gost3410.PrivateKey)
			for _, password := range []string{"s3cret пароль", ""} {
				data, err := pfx.Encode(key, [][]byte{id.Cert.Raw, p.Root.Cert.Raw}, []byte(password), pfx.Options{FriendlyName: "kep export"})
				if err != nil {
					t.Fatal(err)
				}
				file := p.O.WriteFile(t, k.Name+".pfx", data)
				pemOut := p.O.MustRun(t, nil, "pkcs12", "-in", file, "-passin", "pass:"+password, "-nodes")
				got, err := certs.ParsePrivateKey(pemBlock(t, pemOut, "PRIVATE KEY"))
				if err != nil {
					t.Fatalf("openssl's output: %v\n%s", err, pemOut)
				}
				if !key.Equal(got) {
					t.Fatal("openssl read another key")
				}
				cs, err := certs.ParseCertificates(pemOut)
				if err != nil || len(cs) != 2 {
					t.Fatalf("openssl gave %d certificates: %v", len(cs), err)
				}
				if !strings.Contains(string(pemOut), "friendlyName: kep export") {
					t.Errorf("friendly name not seen by openssl:\n%s", pemOut)
				}
				if _, err := p.O.Run(nil, "pkcs12", "-in", file, "-passin", "pass:wrong", "-nodes"); err == nil {
					t.Error("openssl accepted a wrong password")
				}
				f, err := pfx.Decode(data, []byte(password))
				if err != nil || !f.Key.Equal(key) || len(f.Certificates) != 2 || f.FriendlyName != "kep export" {
					t.Fatalf("Decode(Encode): %v", err)
				}
			}
		})
	}
}

func TestLimits(t *testing.T) {
	if _, err := pfx.Decode(make([]byte, pfx.MaxSize+1), nil); !errors.Is(err, pfx.ErrTooLarge) {
		t.Errorf("huge: %v", err)
	}
	for _, b := range [][]byte{nil, {0x30, 0x00}, []byte("not DER")} {
		if _, err := pfx.Decode(b, nil); !errors.Is(err, pfx.ErrFormat) {
			t.Errorf("%x: %v", b, err)
		}
	}
	ps, _ := gost3410.ParamSetByName("cryptopro-a")
	key, _ := gost3410.NewPrivateKey(ps, bytes.Repeat([]byte{7}, 32))
	if _, err := pfx.Encode(key, nil, nil, pfx.Options{Format: "cryptopro"}); !errors.Is(err, pfx.ErrUnsupported) {
		t.Errorf("an unknown format: %v", err)
	}
	if _, err := pfx.Encode(key, nil, nil, pfx.Options{Iterations: pfx.MaxIterations + 1}); err == nil {
		t.Error("too many iterations accepted")
	}
}

func pemBlock(t *testing.T, data []byte, typ string) []byte {
	t.Helper()
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			t.Fatalf("no %s block", typ)
		}
		if b.Type == typ {
			return pem.EncodeToMemory(b)
		}
	}
}

// TestEncodeRFC9548ReadByOpenSSL: OpenSSL's gost engine checks the MAC of a
// file Encode writes in the RFC 9548 form and lists its certificates; a
// wrong password fails its MAC check. The engine (3.0) cannot decrypt a
// CTR-ACPKM-OMAC key bag — it fails the same way on RFC 9548's own
// examples — so the key itself is checked by Decode only.
func TestEncodeRFC9548ReadByOpenSSL(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.TC26256A, "rfc9548 export")
	key := id.Signer.(*gost3410.PrivateKey)
	data, err := pfx.Encode(key, [][]byte{id.Cert.Raw, p.Root.Cert.Raw}, []byte("пароль"), pfx.Options{Format: pfx.FormatRFC9548, FriendlyName: "kep"})
	if err != nil {
		t.Fatal(err)
	}
	file := p.O.WriteFile(t, "rfc9548.pfx", data)
	out := p.O.MustRun(t, nil, "pkcs12", "-in", file, "-passin", "pass:пароль", "-nokeys")
	cs, err := certs.ParseCertificates(out)
	if err != nil || len(cs) != 2 || !bytes.Equal(cs[0].Raw, id.Cert.Raw) {
		t.Fatalf("openssl listed %d certificates: %v\n%s", len(cs), err, out)
	}
	if !strings.Contains(string(out), "friendlyName: kep") {
		t.Errorf("openssl did not see the friendly name:\n%s", out)
	}
	if _, err := p.O.Run(nil, "pkcs12", "-in", file, "-passin", "pass:wrong", "-nokeys"); err == nil {
		t.Error("openssl accepted a wrong password")
	}
	if f, err := pfx.Decode(data, []byte("пароль")); err != nil || !f.Key.Equal(key) {
		t.Fatalf("Decode: %v", err)
	}
}
