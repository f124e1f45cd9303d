package soft

// Fuzz targets for every file the token reads from disk (token.json,
// pin.json, keys/<ID>.json), at two levels: the parsers on bytes (fast,
// with a round trip: what parses, encoded as the token writes it, parses to
// the same value), and the token's operations on a real directory whose file
// is the fuzzer's input (Open, Login, Objects, Signer: a damaged file is an
// error, and no file makes a wrong key sign or the wrong master key open).

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11"
)

var wrongPIN = []byte("654321")

// fastToken makes a token in dir as Init does but with the cheapest scrypt
// parameters Open accepts (N = 2^14, r = 1, p = 1: 2 MiB, a few
// milliseconds), so that a fuzz target can log in thousands of times. It
// returns the master key.
func fastToken(tb testing.TB, dir string) []byte {
	tb.Helper()
	if err := os.MkdirAll(filepath.Join(dir, keysDir), 0o700); err != nil {
		tb.Fatal(err)
	}
	tf := tokenFile{Format: format, Label: "fuzz", Serial: hex.EncodeToString(random(8)),
		KDF: kdfParams{Name: "scrypt", Salt: random(32), N: 1 << 14, R: 1, P: 1}}
	kek, err := deriveKey(tf.KDF, testPIN)
	if err != nil {
		tb.Fatal(err)
	}
	master := random(32)
	tf.MasterKey = seal(kek, master, masterAD(tf.Serial))
	if err := writeJSON(filepath.Join(dir, pinName), pinFile{}); err != nil {
		tb.Fatal(err)
	}
	if err := writeJSON(filepath.Join(dir, tokenName), tf); err != nil {
		tb.Fatal(err)
	}
	return master
}

// selfSigned makes an ECDSA P-256 key and a self-signed certificate for it.
func selfSigned(tb testing.TB, cn string) (*ecdsa.PrivateKey, *certs.Certificate) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(2000000000, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := certs.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return key, c
}

// fuzzFixture is a logged-in fast token holding one ECDSA key with its
// certificate and a chain certificate, and the bytes of its files.
type fuzzFixture struct {
	dir      string
	master   []byte
	tok      *Token
	obj      *Object
	keyPath  string
	tokenRaw []byte
	keyRaw   []byte
}

func newFuzzFixture(tb testing.TB, dir string) *fuzzFixture {
	tb.Helper()
	fx := &fuzzFixture{dir: dir, master: fastToken(tb, dir)}
	var err error
	if fx.tok, err = Open(dir); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { fx.tok.Close() })
	if err := fx.tok.Login(testPIN); err != nil {
		tb.Fatal(err)
	}
	key, cert := selfSigned(tb, "Fuzz Leaf")
	_, root := selfSigned(tb, "Fuzz Root")
	if fx.obj, err = fx.tok.ImportKey(key, "", cert, root); err != nil {
		tb.Fatal(err)
	}
	fx.keyPath = fx.tok.keyPath(fx.obj.ID)
	if fx.tokenRaw, err = os.ReadFile(filepath.Join(dir, tokenName)); err != nil {
		tb.Fatal(err)
	}
	if fx.keyRaw, err = os.ReadFile(fx.keyPath); err != nil {
		tb.Fatal(err)
	}
	return fx
}

// checkSigns checks that k is the fixture's key: the stored public key, and
// its signatures verify under it.
func (fx *fuzzFixture) checkSigns(t *testing.T, k *Key) {
	t.Helper()
	if !publicEqual(fx.obj.Public, k.Public()) {
		t.Fatalf("Signer returned a key other than the stored one")
	}
	if c := k.Object().Certificate; c != nil && !publicEqual(fx.obj.Public, c.PublicKey) {
		t.Fatalf("the key came with a certificate of another key")
	}
	d, o := digestFor(k.Public(), []byte("fuzz"))
	sig, err := k.Sign(nil, d, o)
	if err != nil {
		t.Fatal(err)
	}
	verify(t, fx.obj.Public, d, sig)
}

// mutations returns a few damaged versions of a file as seeds.
func mutations(data []byte) [][]byte {
	out := [][]byte{data, data[:len(data)/2], bytes.ToUpper(data)}
	for _, at := range []int{len(data) / 3, len(data) / 2, 2 * len(data) / 3} {
		b := bytes.Clone(data)
		b[at] ^= 0x04
		out = append(out, b)
	}
	return out
}

func FuzzTokenFile(f *testing.F) {
	fx := newFuzzFixture(f, filepath.Join(f.TempDir(), "t"))
	for _, m := range mutations(fx.tokenRaw) {
		f.Add(m)
	}
	f.Add([]byte(`{"format":"kep-soft-token-v1","serial":"00","kdf":{"name":"scrypt","salt":"AAAAAAAAAAAAAAAAAAAAAA==","N":1048576,"r":32,"p":16},"masterKey":"` +
		strings.Repeat("A", 96) + `"}`))
	f.Add([]byte(`{"format":"kep-soft-token-v1","FORMAT":"x","format":"kep-soft-token-v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tf, err := parseTokenFile(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("not ErrCorrupt: %v", err)
			}
			return
		}
		k := tf.KDF
		if !k.valid() || 128*int64(k.N)*int64(k.R) > maxScryptMemory || int64(k.N)*int64(k.R)*int64(k.P) > maxScryptWork {
			t.Fatalf("accepted scrypt parameters a login cannot afford: %+v", k)
		}
		if len(tf.MasterKey) != 24+32+16 || tf.Serial == "" {
			t.Fatalf("accepted %+v", tf)
		}
		enc, err := encodeJSON(tf)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseTokenFile(enc)
		if err != nil {
			t.Fatalf("re-encoded token file: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(tf, again) {
			t.Fatalf("round trip:\n%+v\n%+v", tf, again)
		}
	})
}

func FuzzPINFile(f *testing.F) {
	for _, s := range []string{"{\n  \"failures\": 0\n}\n", `{"failures":9}`, `{"failures":-1}`, `{"failures":1e3}`,
		`{"failures":99999999999999999999}`, `[]`, `{"failures":"3"}`, ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := parseFailures(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("not ErrCorrupt: %v", err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("accepted %d failures", n)
		}
		enc, err := encodeJSON(pinFile{Failures: n})
		if err != nil {
			t.Fatal(err)
		}
		if again, err := parseFailures(enc); err != nil || again != n {
			t.Fatalf("round trip of %d: %d, %v", n, again, err)
		}
	})
}

// keyFileName is the name a key file must have to be read: its ID's, when
// its ID can be found, so that the fuzzer gets past the name check.
func keyFileName(data []byte) string {
	var kf keyFile
	if json.Unmarshal(data, &kf) == nil && len(kf.ID) > 0 {
		return hex.EncodeToString(kf.ID) + ".json"
	}
	return "00.json"
}

func sameObject(a, b *Object) bool {
	if !bytes.Equal(a.ID, b.ID) || a.Label != b.Label || !publicEqual(a.Public, b.Public) ||
		(a.Certificate == nil) != (b.Certificate == nil) || len(a.Chain) != len(b.Chain) {
		return false
	}
	if a.Certificate != nil && !bytes.Equal(a.Certificate.Raw, b.Certificate.Raw) {
		return false
	}
	for i := range a.Chain {
		if !bytes.Equal(a.Chain[i].Raw, b.Chain[i].Raw) {
			return false
		}
	}
	return true
}

func FuzzKeyFile(f *testing.F) {
	fx := newFuzzFixture(f, filepath.Join(f.TempDir(), "t"))
	for _, m := range mutations(fx.keyRaw) {
		f.Add(m)
	}
	gost, err := fx.tok.GenerateKey(pkcs11.KeyOptions{Type: pkcs11.KeyGOST})
	if err != nil {
		f.Fatal(err)
	}
	raw, err := os.ReadFile(fx.tok.keyPath(gost.ID))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		name := keyFileName(data)
		kf, obj, err := parseKeyFile(name, data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("not ErrCorrupt: %v", err)
			}
			return
		}
		if len(kf.ID) == 0 || len(kf.ID) > MaxIDLen || name != hex.EncodeToString(obj.ID)+".json" || obj.Public == nil {
			t.Fatalf("accepted %+v", obj)
		}
		if obj.Certificate != nil && !publicEqual(obj.Public, obj.Certificate.PublicKey) {
			t.Fatal("accepted a certificate of another key")
		}
		enc, err := encodeJSON(kf)
		if err != nil {
			t.Fatal(err)
		}
		kf2, obj2, err := parseKeyFile(name, enc)
		if err != nil {
			t.Fatalf("re-encoded key file: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(kf, kf2) || !sameObject(obj, obj2) {
			t.Fatalf("round trip:\n%+v\n%+v", kf, kf2)
		}
	})
}

// FuzzLoginTokenFile writes the input as token.json of a real token and
// logs in with the right and a wrong PIN: either the login fails, or it
// opens the token's own master key and the key signs as itself.
func FuzzLoginTokenFile(f *testing.F) {
	fx := newFuzzFixture(f, filepath.Join(f.TempDir(), "t"))
	for _, m := range mutations(fx.tokenRaw) {
		f.Add(m)
	}
	var tf tokenFile
	if err := json.Unmarshal(fx.tokenRaw, &tf); err != nil {
		f.Fatal(err)
	}
	for _, edit := range []func(*tokenFile){
		func(t *tokenFile) { t.Label = "relabelled" },               // not authenticated: still the token
		func(t *tokenFile) { t.Serial = "0000000000000000" },        // bound to the master key
		func(t *tokenFile) { t.KDF.Salt[0] ^= 1 },                   // another PIN key
		func(t *tokenFile) { t.KDF.N *= 2 },                         // another PIN key, still affordable
		func(t *tokenFile) { t.MasterKey[len(t.MasterKey)-1] ^= 1 }, // the tag
	} {
		c := tf
		c.KDF.Salt = bytes.Clone(tf.KDF.Salt)
		c.MasterKey = bytes.Clone(tf.MasterKey)
		edit(&c)
		enc, err := encodeJSON(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	tokenPath := filepath.Join(fx.dir, tokenName)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(tokenPath, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, pin := range [][]byte{testPIN, wrongPIN} {
			if err := writeJSON(filepath.Join(fx.dir, pinName), pinFile{}); err != nil {
				t.Fatal(err)
			}
			tok, err := Open(fx.dir)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Open: not ErrCorrupt: %v", err)
				}
				return
			}
			err = tok.Login(pin)
			if err != nil {
				tok.Close()
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, pkcs11.ErrPINIncorrect) {
					t.Fatalf("Login: %v", err)
				}
				continue
			}
			right := bytes.Equal(tok.master, fx.master)
			if bytes.Equal(pin, wrongPIN) && right {
				t.Fatal("a wrong PIN opened the master key")
			}
			k, err := tok.Signer(fx.obj.ID)
			switch {
			case right && err != nil:
				t.Fatalf("the right master key, but Signer: %v", err)
			case right:
				fx.checkSigns(t, k)
			case err == nil:
				t.Fatal("another master key, and yet the key decrypted")
			case !errors.Is(err, ErrCorrupt):
				t.Fatalf("another master key: Signer: %v, want ErrCorrupt", err)
			}
			tok.Close()
		}
	})
}

// FuzzKeyFileOnDisk writes the input as the key file of a logged-in token:
// Objects and Signer fail with ErrCorrupt, or the key is the stored one and
// signs as itself.
func FuzzKeyFileOnDisk(f *testing.F) {
	fx := newFuzzFixture(f, filepath.Join(f.TempDir(), "t"))
	for _, m := range mutations(fx.keyRaw) {
		f.Add(m)
	}
	var kf keyFile
	if err := json.Unmarshal(fx.keyRaw, &kf); err != nil {
		f.Fatal(err)
	}
	_, other := selfSigned(f, "Another key")
	for _, edit := range []func(*keyFile){
		func(k *keyFile) { k.Label = "relabelled" },                      // not authenticated
		func(k *keyFile) { k.Certificate = other.Raw },                   // someone else's certificate
		func(k *keyFile) { k.Chain = nil },                               // not authenticated
		func(k *keyFile) { k.PublicKey = other.RawSubjectPublicKeyInfo }, // bound to the private key
		func(k *keyFile) { k.PrivateKey[30] ^= 1 },
	} {
		c := kf
		c.PrivateKey = bytes.Clone(kf.PrivateKey)
		edit(&c)
		enc, err := encodeJSON(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(fx.keyPath, data, 0o600); err != nil {
			t.Fatal(err)
		}
		objs, err := fx.tok.Objects()
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Objects: not ErrCorrupt: %v", err)
			}
		} else if len(objs) != 1 || !bytes.Equal(objs[0].ID, fx.obj.ID) {
			t.Fatalf("Objects lists %d objects: %+v", len(objs), objs)
		}
		k, err := fx.tok.Signer(fx.obj.ID)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Signer: not ErrCorrupt: %v", err)
			}
			return
		}
		fx.checkSigns(t, k)
	})
}
