package gostkey_test

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
	"github.com/kepkit/kep/internal/ossltest"
)

func TestRoundTrip(t *testing.T) {
	for _, ps := range gost3410.ParamSets() {
		priv, err := gost3410.GenerateKey(ps, nil)
		if err != nil {
			t.Fatal(err)
		}
		der, err := gostkey.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		info, err := gostkey.ParsePKCS8PrivateKey(der)
		if err != nil {
			t.Fatalf("%s: %v", ps.Name, err)
		}
		if !info.Key.Equal(priv) || info.ParamSet != ps {
			t.Fatalf("%s: PKCS#8 round trip changed the key", ps.Name)
		}
		spki, err := gostkey.MarshalPKIXPublicKey(priv.PublicKey())
		if err != nil {
			t.Fatal(err)
		}
		pinfo, err := gostkey.ParsePKIXPublicKey(spki)
		if err != nil {
			t.Fatalf("%s: %v", ps.Name, err)
		}
		if !pinfo.Key.Equal(priv.PublicKey()) || pinfo.ParamSet != ps {
			t.Fatalf("%s: SPKI round trip changed the key", ps.Name)
		}
		wantAlg := gostkey.GOST2012256
		if ps.Size() == 64 {
			wantAlg = gostkey.GOST2012512
		}
		if pinfo.Algorithm != wantAlg {
			t.Fatalf("%s: algorithm %v", ps.Name, pinfo.Algorithm)
		}
		// digestParamSet: with the CryptoPro 256-bit sets (RFC 9215's MUST) and
		// with tc26-512-A/B (as the gost engine writes); TestOpenSSLKeys checks
		// the bytes against OpenSSL for every set it offers.
		want := map[string]asn1.ObjectIdentifier{
			"cryptopro-a": gostkey.OIDStreebog256, "cryptopro-b": gostkey.OIDStreebog256, "cryptopro-c": gostkey.OIDStreebog256,
			"cryptopro-xcha": gostkey.OIDStreebog256, "cryptopro-xchb": gostkey.OIDStreebog256,
			"tc26-512-a": gostkey.OIDStreebog512, "tc26-512-b": gostkey.OIDStreebog512,
		}[ps.Name]
		if !pinfo.DigestParamSet.Equal(want) {
			t.Fatalf("%s: digestParamSet %v, want %v", ps.Name, pinfo.DigestParamSet, want)
		}
	}
}

func pemBlock(t *testing.T, data []byte, typ string) []byte {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil || b.Type != typ {
		t.Fatalf("no %s PEM block in %q", typ, data)
	}
	return b.Bytes
}

// TestOpenSSLKeys reads keys OpenSSL made and has OpenSSL read keys kep made:
// for each set, OpenSSL's public key must equal the one kep derives, and
// OpenSSL must derive from kep's PKCS#8 exactly kep's SubjectPublicKeyInfo.
func TestOpenSSLKeys(t *testing.T) {
	o := ossltest.New(t)
	for _, s := range ossltest.GOSTKeys {
		t.Run(s.Name, func(t *testing.T) {
			ps, err := gost3410.ParamSetByName(s.Name)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 3; i++ {
				keyPEM := o.MustRun(t, nil, append([]string{"genpkey"}, s.GenpkeyArgs()...)...)
				info, err := gostkey.ParsePKCS8PrivateKey(pemBlock(t, keyPEM, "PRIVATE KEY"))
				if err != nil {
					t.Fatalf("parse OpenSSL key: %v", err)
				}
				if info.ParamSet != ps {
					t.Fatalf("parameter set %s, want %s", info.ParamSet.Name, ps.Name)
				}
				pubPEM := o.MustRun(t, keyPEM, "pkey", "-pubout")
				pinfo, err := gostkey.ParsePKIXPublicKey(pemBlock(t, pubPEM, "PUBLIC KEY"))
				if err != nil {
					t.Fatalf("parse OpenSSL public key: %v", err)
				}
				if !pinfo.Key.Equal(info.Key.PublicKey()) {
					t.Fatal("kep derives another public key than OpenSSL")
				}
				ours, err := gostkey.MarshalPKIXPublicKey(info.Key.PublicKey())
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(ours, pemBlock(t, pubPEM, "PUBLIC KEY")) {
					t.Fatalf("SubjectPublicKeyInfo differs from OpenSSL's\n got %x\nwant %x", ours, pemBlock(t, pubPEM, "PUBLIC KEY"))
				}
				// kep's own key, read by OpenSSL
				priv, err := gost3410.GenerateKey(ps, nil)
				if err != nil {
					t.Fatal(err)
				}
				der, err := gostkey.MarshalPKCS8PrivateKey(priv)
				if err != nil {
					t.Fatal(err)
				}
				ourPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
				if !bytes.Equal(o.MustRun(t, ourPEM, "pkey"), ourPEM) {
					t.Fatal("OpenSSL re-encodes kep's PKCS#8 differently")
				}
				theirPub := pemBlock(t, o.MustRun(t, ourPEM, "pkey", "-pubout"), "PUBLIC KEY")
				ourPub, _ := gostkey.MarshalPKIXPublicKey(priv.PublicKey())
				if !bytes.Equal(theirPub, ourPub) {
					t.Fatal("OpenSSL derives another public key from kep's private key")
				}
			}
		})
	}
}

// TestPrivateKeyForms reads the three encodings of the scalar.
func TestPrivateKeyForms(t *testing.T) {
	priv, err := gost3410.GenerateKey(gost3410.CryptoProA, nil)
	if err != nil {
		t.Fatal(err)
	}
	le := priv.Bytes()
	be := make([]byte, len(le))
	for i := range le {
		be[len(le)-1-i] = le[i]
	}
	var nested, integer cryptobyte.Builder
	nested.AddASN1OctetString(le)
	integer.AddASN1(cbasn1.INTEGER, func(b *cryptobyte.Builder) {
		if be[0]&0x80 != 0 {
			b.AddUint8(0)
		}
		b.AddBytes(be)
	})
	for name, inner := range map[string][]byte{"bare": le, "nested OCTET STRING": nested.BytesOrPanic(), "INTEGER": integer.BytesOrPanic()} {
		der := pkcs8(t, gostkey.OIDPublicKey2012256, gost3410.CryptoProA.OID, inner)
		info, err := gostkey.ParsePKCS8PrivateKey(der)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !info.Key.Equal(priv) {
			t.Fatalf("%s: other key", name)
		}
	}
}

func pkcs8(t *testing.T, alg, ps asn1.ObjectIdentifier, inner []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(alg)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(ps) })
		})
		b.AddASN1OctetString(inner)
	})
	return b.BytesOrPanic()
}

func TestBadKeys(t *testing.T) {
	priv, err := gost3410.GenerateKey(gost3410.CryptoProA, nil)
	if err != nil {
		t.Fatal(err)
	}
	good, _ := gostkey.MarshalPKCS8PrivateKey(priv)
	cases := map[string][]byte{
		"empty":                 nil,
		"garbage":               []byte("not a key"),
		"truncated":             good[:len(good)-1],
		"trailing data":         append(append([]byte(nil), good...), 0),
		"512 alg, 256 paramset": pkcs8(t, gostkey.OIDPublicKey2012512, gost3410.CryptoProA.OID, priv.Bytes()),
		"unknown paramset":      pkcs8(t, gostkey.OIDPublicKey2012256, asn1.ObjectIdentifier{1, 2, 3}, priv.Bytes()),
		"RSA algorithm":         pkcs8(t, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, gost3410.CryptoProA.OID, priv.Bytes()),
		"short scalar":          pkcs8(t, gostkey.OIDPublicKey2012256, gost3410.CryptoProA.OID, priv.Bytes()[:31]),
		"zero scalar":           pkcs8(t, gostkey.OIDPublicKey2012256, gost3410.CryptoProA.OID, make([]byte, 32)),
	}
	for name, der := range cases {
		if _, err := gostkey.ParsePKCS8PrivateKey(der); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := gostkey.ParsePKCS8PrivateKey(cases["RSA algorithm"]); !errors.Is(err, gostkey.ErrNotGOST) {
		t.Errorf("RSA key: %v, want ErrNotGOST", err)
	}
	spki, _ := gostkey.MarshalPKIXPublicKey(priv.PublicKey())
	for i := range spki {
		bad := append([]byte(nil), spki...)
		bad[i] ^= 0xFF
		if info, err := gostkey.ParsePKIXPublicKey(bad); err == nil && info.Key.Equal(priv.PublicKey()) {
			// Only bytes that don't change the key may be flipped and still parse
			// to the same key; that would be a malleable encoding.
			t.Errorf("byte %d flipped: still parses to the same key", i)
		}
	}
}

func FuzzParsePKCS8(f *testing.F) {
	priv, _ := gost3410.GenerateKey(gost3410.TC26512A, nil)
	der, _ := gostkey.MarshalPKCS8PrivateKey(priv)
	f.Add(der)
	f.Fuzz(func(t *testing.T, der []byte) {
		info, err := gostkey.ParsePKCS8PrivateKey(der)
		if err != nil {
			return
		}
		again, err := gostkey.MarshalPKCS8PrivateKey(info.Key)
		if err != nil {
			t.Fatal(err)
		}
		info2, err := gostkey.ParsePKCS8PrivateKey(again)
		if err != nil || !info2.Key.Equal(info.Key) {
			t.Fatalf("re-encoded key does not parse to the same key: %v", err)
		}
	})
}

func FuzzParsePKIX(f *testing.F) {
	priv, _ := gost3410.GenerateKey(gost3410.CryptoProA, nil)
	der, _ := gostkey.MarshalPKIXPublicKey(priv.PublicKey())
	f.Add(der)
	f.Fuzz(func(t *testing.T, der []byte) {
		info, err := gostkey.ParsePKIXPublicKey(der)
		if err != nil {
			return
		}
		again, err := gostkey.MarshalPKIXPublicKey(info.Key)
		if err != nil {
			t.Fatal(err)
		}
		info2, err := gostkey.ParsePKIXPublicKey(again)
		if err != nil || !info2.Key.Equal(info.Key) {
			t.Fatalf("re-encoded key does not parse to the same key: %v", err)
		}
	})
}
