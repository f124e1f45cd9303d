//go:build amd64 && !purego

package field

import (
	"crypto/rand"
	"math/big"
	"testing"
)

// TestPMAsmMatchesGo: the pseudo-Mersenne assembly (mulPM4, sqrPM4,
// mulPM8, sqrPM8) gives exactly what the generated Go code gives, for random
// operands anywhere below 2^(64n) and the edge ones (0, 1, 2, c, m−1, m−2,
// m, m/2, 2^(64n)−1, a limb of ones, carries rippling), in place too, on
// every 2^(64n) − c modulus the curves use and others (c = 1, c large,
// c = 2^64 − 1). TestPseudoMersenne checks both against math/big.
func TestPMAsmMatchesGo(t *testing.T) {
	if !hasMULX {
		// The assembly is then never called: the Go code, tested
		// elsewhere, does all the work.
		t.Skip("this CPU has no BMI2/ADX: the assembly path is not used here")
	}
	cs := []uint64{617, 189, 569, 1, 3, 0x7fffffff, 0x3fffffffffffffff, 1<<64 - 1}
	for _, n := range []int{4, 8} {
		r := new(big.Int).Lsh(big.NewInt(1), uint(64*n))
		for _, c := range cs {
			m := new(big.Int).Sub(r, new(big.Int).SetUint64(c))
			if m.Bit(0) == 0 {
				continue
			}
			f, err := New(m)
			if err != nil {
				t.Fatal(err)
			}
			if !f.pseudoMersenne() {
				t.Fatalf("2^%d − %d: kind %d", 64*n, c, f.kind)
			}
			asmMul, asmSqr := func(z, x, y *Elem) { mulPM8(z, x, y, c) }, func(z, x *Elem) { sqrPM8(z, x, c) }
			if n == 4 {
				asmMul, asmSqr = func(z, x, y *Elem) { mulPM4(z, x, y, c) }, func(z, x *Elem) { sqrPM4(z, x, c) }
			}
			elem := func(v *big.Int) Elem {
				var e Elem
				bigToLimbs(&e, v)
				return e
			}
			var edges []Elem
			for _, v := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2), new(big.Int).SetUint64(c),
				new(big.Int).Sub(m, big.NewInt(1)), new(big.Int).Sub(m, big.NewInt(2)), m,
				new(big.Int).Rsh(m, 1), new(big.Int).Sub(r, big.NewInt(1)), new(big.Int).Sub(r, big.NewInt(2)),
				new(big.Int).Lsh(big.NewInt(1), uint(64*n-1)),
				new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(64*(n-1))), big.NewInt(1)),
				new(big.Int).Lsh(big.NewInt(1), 64),
			} {
				edges = append(edges, elem(v))
			}
			check := func(x, y Elem) {
				t.Helper()
				var want, got Elem
				mul(&want, &x, &y, f)
				asmMul(&got, &x, &y)
				if got != want {
					t.Fatalf("2^%d − %d: %x · %x = %x, want %x", 64*n, c, x, y, got, want)
				}
				got = x // in place, as the curve code calls it
				asmMul(&got, &got, &y)
				if got != want {
					t.Fatalf("2^%d − %d: in place %x · %x = %x, want %x", 64*n, c, x, y, got, want)
				}
				sqr(&want, &x, f)
				got = x
				asmSqr(&got, &got)
				if got != want {
					t.Fatalf("2^%d − %d: %x² = %x, want %x", 64*n, c, x, got, want)
				}
			}
			for _, x := range edges {
				for _, y := range edges {
					check(x, y)
				}
			}
			for i := 0; i < 10000; i++ {
				x, _ := rand.Int(rand.Reader, r)
				y, _ := rand.Int(rand.Reader, r)
				check(elem(x), elem(y))
			}
		}
	}
}

// TestMULXPlus8MatchesGo is the same for m = 2^511 + c: tc26-512-B's
// 2^511 + 111 and others.
func TestMULXPlus8MatchesGo(t *testing.T) {
	if !hasMULX {
		t.Skip("this CPU has no BMI2/ADX: the assembly path is not used here")
	}
	h := new(big.Int).Lsh(big.NewInt(1), 511)
	var plus []*big.Int
	for _, c := range []int64{111, 1, 3, 0x7fffffff, 0x3fffffffffffffff} {
		plus = append(plus, new(big.Int).Add(h, big.NewInt(c)))
	}
	testMULX8(t, plus, kindPlus8, mulPlus8MULX)
}

func testMULX8(t *testing.T, moduli []*big.Int, want kind, asm func(z, x, y *Elem, c, inv uint64)) {
	r := new(big.Int).Lsh(big.NewInt(1), 512)
	for _, m := range moduli {
		if m.Bit(0) == 0 {
			m.Add(m, big.NewInt(1))
		}
		f, err := New(m)
		if err != nil {
			t.Fatal(err)
		}
		if f.kind != want {
			t.Fatalf("%x: kind %d, want %d", m, f.kind, want)
		}
		c := f.m[0]
		if want == kindMinus8 {
			c = -f.m[0]
		}
		elem := func(v *big.Int) Elem {
			var e Elem
			bigToLimbs(&e, v)
			return e
		}
		var edges []Elem
		for _, v := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(2),
			new(big.Int).Sub(m, big.NewInt(1)), new(big.Int).Sub(m, big.NewInt(2)),
			new(big.Int).Rsh(m, 1), // about m/2
			new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 448), big.NewInt(1)), // seven limbs of ones
			new(big.Int).Lsh(big.NewInt(1), 510),
		} {
			edges = append(edges, elem(v))
		}
		allOnes := Elem{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
		random := func(max *big.Int) Elem {
			v, _ := rand.Int(rand.Reader, max)
			return elem(v)
		}
		check := func(x, y Elem) {
			t.Helper()
			var want, got Elem
			mul(&want, &x, &y, f)
			asm(&got, &x, &y, c, f.m0inv)
			if got != want {
				t.Fatalf("%x: %x · %x = %x, want %x", m, x, y, got, want)
			}
			// In place, as the curve code calls it (z == x).
			got = x
			asm(&got, &got, &y, c, f.m0inv)
			if got != want {
				t.Fatalf("%x: in place %x · %x = %x, want %x", m, x, y, got, want)
			}
		}
		for _, x := range append(edges, allOnes) {
			for _, y := range edges {
				check(x, y)
			}
		}
		for i := 0; i < 20000; i++ {
			check(random(r), random(m))
			x := random(m)
			check(x, x) // squares
		}
		// Against math/big directly: x·y·2^-512 mod m.
		rinv := new(big.Int).ModInverse(r, m)
		for i := 0; i < 2000; i++ {
			x, y := random(m), random(m)
			var got Elem
			asm(&got, &x, &y, c, f.m0inv)
			xb, yb := limbsToBig(&x), limbsToBig(&y)
			want := new(big.Int).Mul(xb, yb)
			want.Mul(want, rinv).Mod(want, m)
			if limbsToBig(&got).Cmp(want) != 0 {
				t.Fatalf("%x: %v·%v·2^-512 = %v, want %v", m, xb, yb, limbsToBig(&got), want)
			}
		}
	}
}

func BenchmarkMulMinus8(b *testing.B) {
	m := new(big.Int).Lsh(big.NewInt(1), 512)
	m.Sub(m, big.NewInt(569))
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
			mulPM8(&x, &x, &y, -f.m[0])
		}
	})
}

func BenchmarkMulPlus8(b *testing.B) {
	m := new(big.Int).Lsh(big.NewInt(1), 511)
	m.Add(m, big.NewInt(111))
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
			mulPlus8MULX(&x, &x, &y, f.m[0], f.m0inv)
		}
	})
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
			mulPM4(&x, &x, &y, -f.m[0])
		}
	})
	b.Run("mulx-sqr", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sqrPM4(&x, &x, -f.m[0])
		}
	})
}

// limbsToBig is the integer of the little-endian limbs of e.
func limbsToBig(e *Elem) *big.Int {
	v := new(big.Int)
	for i := len(e) - 1; i >= 0; i-- {
		v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(e[i]))
	}
	return v
}

// TestPMAddSubAsmMatchesGo: addPM4/8 and subPM4/8 give what the generated Go
// add and sub give, and what math/big gives, modulo 2^(64n) − c for operands
// below m: edge pairs whose sum is below m, equals m, lies between m and
// 2^(64n), equals 2^(64n) or exceeds it, differences that borrow or not, in
// place, and random pairs.
func TestPMAddSubAsmMatchesGo(t *testing.T) {
	for _, n := range []int{4, 8} {
		r := new(big.Int).Lsh(big.NewInt(1), uint(64*n))
		for _, c := range []uint64{617, 569, 1, 3, 0x7fffffff, 1<<64 - 1} {
			m := new(big.Int).Sub(r, new(big.Int).SetUint64(c))
			f, err := New(m)
			if err != nil {
				t.Fatal(err)
			}
			addAsm, subAsm := addPM8, subPM8
			if n == 4 {
				addAsm, subAsm = addPM4, subPM4
			}
			one := big.NewInt(1)
			cb := new(big.Int).SetUint64(c)
			var vs []*big.Int
			for _, v := range []*big.Int{big.NewInt(0), one, big.NewInt(2), cb, new(big.Int).Add(cb, one),
				new(big.Int).Sub(m, one), new(big.Int).Sub(m, big.NewInt(2)), new(big.Int).Rsh(m, 1),
				new(big.Int).Add(new(big.Int).Rsh(m, 1), one), new(big.Int).Sub(m, cb),
				new(big.Int).Sub(new(big.Int).Lsh(one, uint(64*n-64)), one)} {
				vs = append(vs, v.Mod(v, m))
			}
			for i := 0; i < 2000; i++ {
				v, _ := rand.Int(rand.Reader, m)
				vs = append(vs, v)
			}
			check := func(a, b *big.Int) {
				t.Helper()
				var x, y, want, got Elem
				bigToLimbs(&x, a)
				bigToLimbs(&y, b)
				for _, op := range []struct {
					name  string
					asm   func(z, x, y *Elem, c uint64)
					gen   func(z, x, y *Elem, f *Field)
					exact *big.Int
				}{{"add", addAsm, add, new(big.Int).Add(a, b)}, {"sub", subAsm, sub, new(big.Int).Sub(a, b)}} {
					op.gen(&want, &x, &y, f)
					op.asm(&got, &x, &y, c)
					if got != want || limbsToBig(&got).Cmp(op.exact.Mod(op.exact, m)) != 0 {
						t.Fatalf("2^%d − %d: %s(%x, %x) = %x, Go %x, want %x", 64*n, c, op.name, a, b, limbsToBig(&got), limbsToBig(&want), op.exact)
					}
					got = x
					op.asm(&got, &got, &y, c)
					if got != want {
						t.Fatalf("2^%d − %d: in place %s(%x, %x) = %x, want %x", 64*n, c, op.name, a, b, got, want)
					}
				}
			}
			for i, a := range vs {
				if i < 11 {
					for _, b := range vs[:11] {
						check(a, b)
					}
				}
				check(a, vs[(i*7+1)%len(vs)])
			}
		}
	}
}
