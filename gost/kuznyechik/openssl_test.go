package kuznyechik

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/kepkit/kep/gost/internal/vectors"
	"github.com/kepkit/kep/internal/ossltest"
)

// TestOpenSSL encrypts with `openssl enc -kuznyechik-ecb -nopad` under the
// gost engine: the RFC 7801 / GOST R 34.13-2015 ECB examples (so that an
// independent implementation confirms the published values) and 20 random
// keys with 1–64 blocks each, which kep must also decrypt.
func TestOpenSSL(t *testing.T) {
	o := ossltest.New(t)
	type tc struct{ key, in, out []byte }
	var cases []tc
	for _, v := range vectors.Load(t, "testdata/vectors.txt") {
		if v.Str(t, "kind") == "ecb" {
			cases = append(cases, tc{v.Hex(t, "key"), v.Hex(t, "in"), v.Hex(t, "out")})
		}
	}
	if len(cases) != 2 {
		t.Fatalf("%d ECB vectors", len(cases))
	}
	r := rand.New(rand.NewPCG(7801, 2))
	for i := 0; i < 20; i++ {
		key, in := make([]byte, 32), make([]byte, 16*(1+r.IntN(64)))
		for _, b := range [][]byte{key, in} {
			for j := range b {
				b[j] = byte(r.Uint32())
			}
		}
		cases = append(cases, tc{key, in, nil})
	}
	for i, c := range cases {
		f := o.WriteFile(t, fmt.Sprintf("in%d", i), c.in)
		got := o.MustRun(t, nil, "enc", "-kuznyechik-ecb", "-nopad", "-K", hex.EncodeToString(c.key), "-in", f)
		k, _ := NewCipher(c.key)
		mine := make([]byte, len(c.in))
		for j := 0; j < len(c.in); j += BlockSize {
			k.Encrypt(mine[j:], c.in[j:])
		}
		if c.out != nil && !bytes.Equal(got, c.out) {
			t.Errorf("vector %d: OpenSSL computes %x, the standard says %x", i, got, c.out)
		}
		if !bytes.Equal(got, mine) {
			t.Errorf("case %d key %x: kep %x, OpenSSL %x", i, c.key, mine, got)
		}
		back := make([]byte, len(got))
		for j := 0; j < len(got); j += BlockSize {
			k.Decrypt(back[j:], got[j:])
		}
		if !bytes.Equal(back, c.in) {
			t.Errorf("case %d: kep does not decrypt OpenSSL's ciphertext", i)
		}
	}
}
