package gost341194

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/ddulesov/gogost/gost28147"
	"github.com/ddulesov/gogost/gost341194"
)

// gogost (github.com/ddulesov/gogost v1.0.0) is an independent implementation
// used only as a test oracle, on both parameter sets (OpenSSL offers only the
// CryptoPro one).
func gogostSum(p *Params, msg []byte) []byte {
	sbox := &gost28147.SboxIdGostR341194CryptoProParamSet
	if p == Test {
		sbox = &gost28147.SboxIdGostR341194TestParamSet
	}
	h := gost341194.New(sbox)
	h.Write(msg)
	return h.Sum(nil)
}

func TestGogostDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 0
	for _, v := range readVectors(t) {
		n++
		if got := gogostSum(v.params, v.msg); !bytes.Equal(got, v.digest) {
			t.Errorf("gogost on vector %s (%s) = %x, want %x", v.name, v.params.Name, got, v.digest)
		}
	}
	for i := 0; i < 400; i++ {
		m := make([]byte, r.IntN(2000))
		for j := range m {
			m[j] = byte(r.Uint32())
		}
		for _, p := range []*Params{Test, CryptoPro} {
			n++
			if got, want := Sum(p, m), gogostSum(p, m); !bytes.Equal(got[:], want) {
				t.Fatalf("%s, %d bytes: got %x, gogost %x", p.Name, len(m), got, want)
			}
		}
	}
	t.Logf("%d inputs agree with gogost", n)
}
