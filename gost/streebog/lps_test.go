package streebog

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// refLPS computes L(P(S(x))) step by step as RFC 6986, Section 6 defines it,
// on a state stored least significant byte first.
func refLPS(x [64]byte) [64]byte {
	var s, p, l [64]byte
	for i, b := range x {
		s[i] = pi[b]
	}
	// P: byte i of the result is byte τ(i) of the input, τ(i) = 8(i mod 8) + i div 8.
	for i := range p {
		p[i] = s[8*(i%8)+i/8]
	}
	for w := range 8 {
		v := binary.LittleEndian.Uint64(p[8*w:])
		var r uint64
		for i := range 64 {
			if v>>(63-i)&1 == 1 {
				r ^= matA[i]
			}
		}
		binary.LittleEndian.PutUint64(l[8*w:], r)
	}
	return l
}

func TestLPS(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := range 1000 {
		var x [64]byte
		for j := range x {
			x[j] = byte(r.Uint32())
		}
		var k, c [8]uint64
		for j := range k {
			k[j], c[j] = r.Uint64(), r.Uint64()
		}
		want := refLPS(x)
		var got, gotK, gotKC [64]byte
		var kw [8]uint64
		lpsData(&lpsTab, &x, &k, &got)
		lpsKey(&lpsTab, &x, &c, &kw, &gotKC)
		for j := range 8 {
			w := binary.LittleEndian.Uint64(want[8*j:])
			binary.LittleEndian.PutUint64(gotK[8*j:], kw[j])
			if g := binary.LittleEndian.Uint64(got[8*j:]); g != w^k[j] {
				t.Fatalf("#%d: lpsData word %d = %x, want %x", i, j, g, w^k[j])
			}
			if g := binary.LittleEndian.Uint64(gotKC[8*j:]); g != w^c[j] {
				t.Fatalf("#%d: lpsKey word %d ⊕ c = %x, want %x", i, j, g, w^c[j])
			}
		}
		if gotK != want {
			t.Fatalf("#%d: lpsKey = %x, want %x", i, gotK, want)
		}
	}
}
