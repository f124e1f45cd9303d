//go:build amd64 && !purego

package field

import (
	"crypto/rand"
	"math/big"
	"testing"
)

// TestMULXMatchesGo: the assembly multiplication gives exactly what the
// generated Go code gives, for random operands and the edge ones (0, 1, m−1,
// x up to 2^256−1), on every 2^256 − c modulus the curves use and a few more.
func TestMULXMatchesGo(t *testing.T) {
	if !hasMULX {
		// The assembly is then never called: the Go code, tested
		// elsewhere, does all the work.
		t.Skip("this CPU has no BMI2/ADX: the assembly path is not used here")
	}
	for _, c := range []int64{617, 189, 1, 0x7fffffff, 0x3fffffffffffffff} {
		m := new(big.Int).Lsh(big.NewInt(1), 256)
		m.Sub(m, big.NewInt(c))
		if m.Bit(0) == 0 {
			m.Sub(m, big.NewInt(1))
		}
		f, err := New(m)
		if err != nil {
			t.Fatal(err)
		}
		if f.kind != kindMinus4 {
			t.Fatalf("2^256−%d: kind %d", c, f.kind)
		}
		var edges []Elem
		for _, v := range []*big.Int{big.NewInt(0), big.NewInt(1), new(big.Int).Sub(m, big.NewInt(1)), new(big.Int).Sub(m, big.NewInt(2))} {
			var e Elem
			bigToLimbs(&e, v)
			edges = append(edges, e)
		}
		allOnes := Elem{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)} // x may be any value below 2^256
		random := func(max *big.Int) Elem {
			v, _ := rand.Int(rand.Reader, max)
			var e Elem
			bigToLimbs(&e, v)
			return e
		}
		r := new(big.Int).Lsh(big.NewInt(1), 256)
		check := func(x, y Elem) {
			var want, got Elem
			mul(&want, &x, &y, f)
			mulMinus4MULX(&got, &x, &y, -f.m[0], f.m0inv)
			if got != want {
				t.Fatalf("2^256−%d: %x · %x = %x, want %x", c, x, y, got, want)
			}
		}
		for _, x := range append(edges, allOnes) {
			for _, y := range edges {
				check(x, y)
			}
		}
		for i := 0; i < 20000; i++ {
			check(random(r), random(m))
		}
	}
}

func BenchmarkMulMinus4(b *testing.B) {
	m := new(big.Int).Lsh(big.NewInt(1), 256)
	m.Sub(m, big.NewInt(617))
	f, _ := New(m)
	var x, y Elem
	bigToLimbs(&x, new(big.Int).Sub(m, big.NewInt(12345)))
	bigToLimbs(&y, new(big.Int).Sub(m, big.NewInt(67890)))
	b.Run("go", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			mul(&x, &x, &y, f)
		}
	})
	b.Run("go-sqr", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sqr(&x, &x, f)
		}
	})
	b.Run("mulx", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			mulMinus4MULX(&x, &x, &y, -f.m[0], f.m0inv)
		}
	})
}
