package pfx

import (
	"bytes"
	"errors"
	"math/big"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
)

// maskedPKCS8 writes key as RFC 9548 section 5.1 masks it: K_M || M_1 ||
// … || M_k with INT(K_M) = INT(K) · (INT(M_1) ⋯ INT(M_k))^-1 mod q, and the
// publicKey [1] given (nil for none).
func maskedPKCS8(key *gost3410.PrivateKey, masks [][]byte, pub []byte) []byte {
	plain, err := gostkey.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	s := cryptobyte.String(plain)
	var pki, alg cryptobyte.String
	var v int64
	if !s.ReadASN1(&pki, cbasn1.SEQUENCE) || !pki.ReadASN1Integer(&v) || !pki.ReadASN1Element(&alg, cbasn1.SEQUENCE) {
		panic("gostkey's PKCS#8")
	}
	size := key.Params().Size()
	q := key.Params().Curve().Q()
	k := leInt(key.Bytes())
	for _, m := range masks {
		inv := new(big.Int).ModInverse(leInt(m), q)
		k.Mul(k, inv).Mod(k, q)
	}
	priv := make([]byte, size)
	k.FillBytes(priv)
	for i, j := 0, size-1; i < j; i, j = i+1, j-1 {
		priv[i], priv[j] = priv[j], priv[i]
	}
	for _, m := range masks {
		priv = append(priv, m...)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddBytes(alg)
		b.AddASN1OctetString(priv)
		if pub != nil {
			b.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(pub) })
		}
	})
	return b.BytesOrPanic()
}

// TestParseKeyMasked: masked keys (one and three masks) unmask to the key,
// on a 256- and a 512-bit set; the publicKey [1] is checked in both forms
// (raw, as RFC 9548's examples carry it, and wrapped in an OCTET STRING) and
// a foreign one is refused.
func TestParseKeyMasked(t *testing.T) {
	for _, name := range []string{"tc26-256-a", "tc26-512-a"} {
		ps, _ := gost3410.ParamSetByName(name)
		size := ps.Size()
		key, err := gost3410.NewPrivateKey(ps, bytes.Repeat([]byte{0x35}, size))
		if err != nil {
			t.Fatal(err)
		}
		other, _ := gost3410.NewPrivateKey(ps, bytes.Repeat([]byte{0x36}, size))
		mask := func(b byte) []byte { return bytes.Repeat([]byte{b}, size-1) } // below q, not zero
		raw := append([]byte{0}, key.PublicKey().Bytes()...)
		wrapped := append([]byte{0}, gostkey.MarshalPublicKeyValue(key.PublicKey())...)
		foreign := append([]byte{0}, other.PublicKey().Bytes()...)
		for _, tc := range []struct {
			name  string
			masks [][]byte
			pub   []byte
			err   string
		}{
			{"one mask", [][]byte{append(mask(0x11), 0)}, nil, ""},
			{"three masks, raw public key", [][]byte{append(mask(0x11), 0), append(mask(0x22), 0), append(mask(0x07), 0)}, raw, ""},
			{"no mask, wrapped public key", nil, wrapped, ""},
			{"foreign public key", [][]byte{append(mask(0x11), 0)}, foreign, "not its own"},
		} {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				got, err := parseKey(maskedPKCS8(key, tc.masks, tc.pub))
				if tc.err != "" {
					if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.err) {
						t.Fatalf("got %v, want %q", err, tc.err)
					}
					return
				}
				if err != nil || !got.Equal(key) {
					t.Fatalf("%v", err)
				}
			})
		}
	}
}

// FuzzParseKey: no PKCS#8 input panics the key-bag parser; a key it returns
// is written by gostkey and read back to the same key.
func FuzzParseKey(f *testing.F) {
	for _, name := range []string{"cryptopro-a", "tc26-512-a"} {
		ps, _ := gost3410.ParamSetByName(name)
		key, _ := gost3410.NewPrivateKey(ps, bytes.Repeat([]byte{0x35}, ps.Size()))
		plain, _ := gostkey.MarshalPKCS8PrivateKey(key)
		f.Add(plain)
		// A masked key with a raw public key, as RFC 9548 section 5 allows.
		masked := maskedPKCS8(key, [][]byte{append(bytes.Repeat([]byte{0x11}, ps.Size()-1), 0)}, append([]byte{0}, key.PublicKey().Bytes()...))
		f.Add(masked)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		key, err := parseKey(der)
		if err != nil {
			return
		}
		again, err := gostkey.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseKey(again)
		if err != nil || !back.Equal(key) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
