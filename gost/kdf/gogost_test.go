package kdf

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/ddulesov/gogost/gost34112012256"
)

// TestGogostKDF compares KDF256 with gogost's gost34112012256.KDF
// (github.com/ddulesov/gogost v1.0.0, a test oracle only) on random inputs.
func TestGogostKDF(t *testing.T) {
	r := rand.New(rand.NewPCG(7836, 45))
	b := func(n int) []byte {
		x := make([]byte, n)
		for i := range x {
			x[i] = byte(r.Uint32())
		}
		return x
	}
	for i := 0; i < 200; i++ {
		key, label, seed := b(1+r.IntN(80)), b(r.IntN(40)), b(r.IntN(40))
		want := gost34112012256.NewKDF(key).Derive(nil, label, seed)
		if got := KDF256(key, label, seed); !bytes.Equal(got, want) {
			t.Fatalf("key %x label %x seed %x: got %x, gogost %x", key, label, seed, got, want)
		}
	}
}
