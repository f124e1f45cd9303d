package field

import (
	"bytes"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"testing"
)

func hexInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("bad hex " + s)
	}
	return v
}

// pow2 returns 2^k + d.
func pow2(k uint, d int64) *big.Int {
	v := new(big.Int).Lsh(big.NewInt(1), k)
	return v.Add(v, big.NewInt(d))
}

type modulus struct {
	name string
	m    *big.Int
}

var testModuli = []modulus{
	{"2^256-617", pow2(256, -617)},
	{"2^255+3225", pow2(255, 3225)},
	{"p256C", hexInt("9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B")},
	{"q256", hexInt("400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67")},
	{"2^255-19", pow2(255, -19)},
	{"2^256-189", pow2(256, -189)},
	{"2^256-1", pow2(256, -1)},
	{"2^512-569", pow2(512, -569)},
	{"2^511+111", pow2(511, 111)},
	{"generic512", hexInt("C3A5C85C97CB3127B3A0D2F1E4C8B6A59D8F7E6D5C4B3A2918F7E6D5C4B3A291" +
		"7E6D5C4B3A2918F7E6D5C4B3A2918F7E6D5C4B3A2918F7E6D5C4B3A2918F7E6D")},
	{"2^512-1", pow2(512, -1)},
	{"2^256+297", pow2(256, 297)},
	{"2^255+2^64-1", pow2(255, 0).Add(pow2(255, 0), pow2(64, -1))},
	{"2^256-2^64+1", new(big.Int).Sub(pow2(256, 1), pow2(64, 0))},
	{"2^511+2^64-1", pow2(511, 0).Add(pow2(511, 0), pow2(64, -1))},
	{"2^512-2^64+1", new(big.Int).Sub(pow2(512, 1), pow2(64, 0))},
	{"3", big.NewInt(3)},
	{"5", big.NewInt(5)},
	{"2^64-59", pow2(64, -59)},
}

// fixture is a field with the big.Int view of its Montgomery form.
type fixture struct {
	t    testing.TB
	f    *Field
	m    *big.Int
	r    *big.Int // R mod m (R = 1 for a pseudo-Mersenne field)
	rInv *big.Int // R⁻¹ mod m
	bigR *big.Int // 2^(64n), the bound of Mul's first operand
}

func newFixture(t testing.TB, m *big.Int) *fixture {
	t.Helper()
	f, err := New(m)
	if err != nil {
		t.Fatalf("New(%x): %v", m, err)
	}
	bigR := new(big.Int).Lsh(big.NewInt(1), uint(64*f.Limbs()))
	mont := bigR // the Montgomery factor; 1 for a pseudo-Mersenne field
	if f.pseudoMersenne() {
		mont = big.NewInt(1)
	}
	return &fixture{t: t, f: f, m: m, bigR: bigR,
		r:    new(big.Int).Mod(mont, m),
		rInv: new(big.Int).ModInverse(mont, m)}
}

// raw returns the limbs of e as a number and fails if limbs past Limbs() are
// set.
func (x *fixture) raw(e *Elem) *big.Int {
	x.t.Helper()
	for i := x.f.Limbs(); i < len(e); i++ {
		if e[i] != 0 {
			x.t.Fatalf("limb %d of %x is set", i, e)
		}
	}
	var b [64]byte
	for i := range e {
		for j := 0; j < 8; j++ {
			b[63-8*i-j] = byte(e[i] >> (8 * j))
		}
	}
	return new(big.Int).SetBytes(b[:])
}

// elem returns the limbs of 0 ≤ v < 2^512.
func elem(v *big.Int) *Elem {
	var e Elem
	bigToLimbs(&e, v)
	return &e
}

// mont returns the Montgomery form of v mod m, computed with big.Int.
func (x *fixture) mont(v *big.Int) *Elem {
	w := new(big.Int).Mul(v, x.r)
	return elem(w.Mod(w, x.m))
}

// check fails unless the fully reduced e is the Montgomery form of want mod m.
func (x *fixture) check(op string, e *Elem, want *big.Int, args ...*big.Int) {
	x.t.Helper()
	w := new(big.Int).Mod(want, x.m)
	if got := x.raw(e); got.Cmp(x.mont(w).big()) != 0 {
		x.t.Fatalf("%s(%x) mod %x: got raw %x, want value %x (raw %x)", op, args, x.m, got, w, x.mont(w).big())
	}
}

func (e *Elem) big() *big.Int {
	var b [64]byte
	for i := range e {
		for j := 0; j < 8; j++ {
			b[63-8*i-j] = byte(e[i] >> (8 * j))
		}
	}
	return new(big.Int).SetBytes(b[:])
}

// samples returns edge values below m followed by count random ones.
func (x *fixture) samples(rng *rand.Rand, count int) []*big.Int {
	one := big.NewInt(1)
	m := x.m
	vs := []*big.Int{
		big.NewInt(0), big.NewInt(1), big.NewInt(2),
		new(big.Int).Sub(m, one),
		new(big.Int).Sub(m, big.NewInt(2)),
		new(big.Int).Rsh(m, 1),
		new(big.Int).Add(new(big.Int).Rsh(m, 1), one),
		new(big.Int).Set(x.r),                          // R mod m: raw limbs of R²
		new(big.Int).Sub(m, x.r),                       // -R
		new(big.Int).Mod(x.rInv, m),                    // raw form 1
		new(big.Int).Mod(x.bigR, m),                    // 2^(64n) mod m (c for 2^(64n) − c)
		new(big.Int).Sub(m, new(big.Int).Lsh(one, 64)), // m - 2^64
	}
	// all-ones limbs: 2^(64k)-1, and 2^b-1 just below the modulus length
	for k := 1; k <= x.f.Limbs(); k++ {
		vs = append(vs, new(big.Int).Sub(new(big.Int).Lsh(one, uint(64*k)), one))
	}
	vs = append(vs, new(big.Int).Sub(new(big.Int).Lsh(one, uint(m.BitLen()-1)), one))
	for i := range vs {
		vs[i].Mod(vs[i], m)
	}
	for i := 0; i < count; i++ {
		vs = append(vs, x.random(rng))
	}
	return vs
}

func (x *fixture) random(rng *rand.Rand) *big.Int {
	var b [65]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	v := new(big.Int).SetBytes(b[:(x.m.BitLen()+7)/8+1])
	// mostly uniform below m; sometimes with high or low limbs saturated
	switch rng.IntN(8) {
	case 0:
		v.Or(v, new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(x.m.BitLen())), big.NewInt(1)))
		v.Rsh(v, uint(rng.IntN(64)))
	case 1:
		v.Sub(x.m, new(big.Int).Rsh(v, uint(x.m.BitLen()-rng.IntN(70))))
	}
	return v.Mod(v, x.m)
}

func forModuli(t *testing.T, fn func(t *testing.T, x *fixture, rng *rand.Rand)) {
	for i, tm := range testModuli {
		t.Run(tm.name, func(t *testing.T) {
			fn(t, newFixture(t, tm.m), rand.New(rand.NewPCG(uint64(i), 0x5eed)))
		})
	}
}

func TestNew(t *testing.T) {
	for _, tm := range testModuli {
		f, err := New(tm.m)
		if err != nil {
			t.Fatalf("%s: %v", tm.name, err)
		}
		wantN := 4
		if tm.m.BitLen() > 256 {
			wantN = 8
		}
		if f.Limbs() != wantN || f.Size() != 8*wantN {
			t.Errorf("%s: Limbs %d Size %d, want %d limbs", tm.name, f.Limbs(), f.Size(), wantN)
		}
		if f.m0inv*f.m[0] != ^uint64(0) {
			t.Errorf("%s: m0inv*m0 = %#x, want -1", tm.name, f.m0inv*f.m[0])
		}
		mod := f.Modulus()
		if mod.Cmp(tm.m) != 0 {
			t.Errorf("%s: Modulus %x", tm.name, mod)
		}
		mod.SetInt64(7)
		if f.Modulus().Cmp(tm.m) != 0 {
			t.Errorf("%s: Modulus does not return a copy", tm.name)
		}
	}
	for _, bad := range []*big.Int{
		big.NewInt(-7), big.NewInt(0), big.NewInt(1), big.NewInt(2), big.NewInt(4),
		pow2(256, 0), pow2(512, 1), pow2(513, -1),
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%x) succeeded", bad)
		}
	}
}

// TestKinds checks that the moduli above reach every generated variant.
func TestKinds(t *testing.T) {
	want := map[string]kind{
		"2^256-617": kindMinus4, "2^256-189": kindMinus4, "2^256-1": kindMinus4, "2^256-2^64+1": kindMinus4,
		"2^255+3225": kindPlus4, "2^255+2^64-1": kindPlus4,
		"p256C": kindGeneric4, "q256": kindGeneric4, "2^255-19": kindGeneric4, "3": kindGeneric4, "2^64-59": kindGeneric4,
		"2^512-569": kindMinus8, "2^512-1": kindMinus8, "2^512-2^64+1": kindMinus8,
		"2^511+111": kindPlus8, "2^511+2^64-1": kindPlus8,
		"generic512": kindGeneric8, "2^256+297": kindGeneric8,
	}
	for _, tm := range testModuli {
		f, err := New(tm.m)
		if err != nil {
			t.Fatal(err)
		}
		if k, ok := want[tm.name]; ok && f.kind != k {
			t.Errorf("%s: kind %d, want %d", tm.name, f.kind, k)
		}
	}
}

func TestConstants(t *testing.T) {
	forModuli(t, func(t *testing.T, x *fixture, _ *rand.Rand) {
		var one Elem
		x.f.SetOne(&one)
		x.check("SetOne", &one, big.NewInt(1))
		x.f.SetZero(&one)
		x.check("SetZero", &one, big.NewInt(0))
	})
}

func TestArithmetic(t *testing.T) {
	forModuli(t, func(t *testing.T, x *fixture, rng *rand.Rand) {
		f := x.f
		vs := x.samples(rng, 2000)
		// every edge value against every edge value, then random pairs
		edges := len(vs) - 2000
		var pairs [][2]*big.Int
		for i := 0; i < edges; i++ {
			for j := 0; j < edges; j++ {
				pairs = append(pairs, [2]*big.Int{vs[i], vs[j]})
			}
		}
		for i := edges; i < len(vs); i++ {
			pairs = append(pairs, [2]*big.Int{vs[i], vs[rng.IntN(len(vs))]})
		}
		for _, p := range pairs {
			a, b := p[0], p[1]
			xa, xb := x.mont(a), x.mont(b)
			var z Elem
			f.Mul(&z, xa, xb)
			x.check("Mul", &z, new(big.Int).Mul(a, b), a, b)
			f.Sqr(&z, xa)
			x.check("Sqr", &z, new(big.Int).Mul(a, a), a)
			f.Add(&z, xa, xb)
			x.check("Add", &z, new(big.Int).Add(a, b), a, b)
			f.Sub(&z, xa, xb)
			x.check("Sub", &z, new(big.Int).Sub(a, b), a, b)
			f.Neg(&z, xa)
			x.check("Neg", &z, new(big.Int).Neg(a), a)
			f.Double(&z, xa)
			x.check("Double", &z, new(big.Int).Lsh(a, 1), a)
			if got, want := f.Equal(xa, xb), a.Cmp(b) == 0; got != b2u(want) {
				t.Fatalf("Equal(%x, %x) = %d", a, b, got)
			}
			if got := f.IsZero(xa); got != b2u(a.Sign() == 0) {
				t.Fatalf("IsZero(%x) = %d", a, got)
			}

			// aliasing
			z = *xa
			f.Mul(&z, &z, &z)
			x.check("Mul aliased", &z, new(big.Int).Mul(a, a), a)
			z = *xa
			f.Mul(&z, &z, xb)
			x.check("Mul z=x", &z, new(big.Int).Mul(a, b), a, b)
			z = *xb
			f.Mul(&z, xa, &z)
			x.check("Mul z=y", &z, new(big.Int).Mul(a, b), a, b)
			z = *xa
			f.Sqr(&z, &z)
			x.check("Sqr aliased", &z, new(big.Int).Mul(a, a), a)
			z = *xa
			f.Add(&z, &z, &z)
			x.check("Add aliased", &z, new(big.Int).Lsh(a, 1), a)
			z = *xb
			f.Add(&z, xa, &z)
			x.check("Add z=y", &z, new(big.Int).Add(a, b), a, b)
			z = *xa
			f.Sub(&z, &z, &z)
			x.check("Sub aliased", &z, new(big.Int), a)
			z = *xb
			f.Sub(&z, xa, &z)
			x.check("Sub z=y", &z, new(big.Int).Sub(a, b), a, b)
			z = *xa
			f.Neg(&z, &z)
			x.check("Neg aliased", &z, new(big.Int).Neg(a), a)
		}
	})
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// TestMulWideOperand covers the first operand anywhere below R, as Reduce
// and SetBytes use it.
func TestMulWideOperand(t *testing.T) {
	forModuli(t, func(t *testing.T, x *fixture, rng *rand.Rand) {
		vs := x.samples(rng, 500)
		wide := []*big.Int{new(big.Int).Sub(x.bigR, big.NewInt(1)), new(big.Int).Set(x.m)}
		for i := 0; i < 500; i++ {
			var b [64]byte
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			wide = append(wide, new(big.Int).Mod(new(big.Int).SetBytes(b[:]), x.bigR))
		}
		for i, w := range wide {
			y := vs[i%len(vs)]
			var z Elem
			x.f.Mul(&z, elem(w), elem(y))
			want := new(big.Int).Mul(w, y)
			want.Mul(want, x.rInv).Mod(want, x.m)
			if got := x.raw(&z); got.Cmp(want) != 0 {
				t.Fatalf("Mul(%x, %x) raw = %x, want %x", w, y, got, want)
			}
		}
	})
}

func TestSelect(t *testing.T) {
	a := Elem{1, 2, 3, 4, 5, 6, 7, 8}
	b := Elem{^uint64(0), 0, 1 << 63, 9, 10, 11, 12, 13}
	var z Elem
	Select(&z, &a, &b, 1)
	if z != a {
		t.Errorf("Select(1) = %x", z)
	}
	Select(&z, &a, &b, 0)
	if z != b {
		t.Errorf("Select(0) = %x", z)
	}
	z = a
	Select(&z, &z, &b, 0)
	if z != b {
		t.Errorf("aliased Select(0) = %x", z)
	}
}

func TestInv(t *testing.T) {
	forModuli(t, func(t *testing.T, x *fixture, rng *rand.Rand) {
		var z Elem
		x.f.Inv(&z, &Elem{})
		x.check("Inv", &z, big.NewInt(0), big.NewInt(0))
		// x^(m-2) for any modulus, the inverse for a prime one
		e := new(big.Int).Sub(x.m, big.NewInt(2))
		prime := x.m.ProbablyPrime(20)
		for _, a := range x.samples(rng, 200) {
			xa := x.mont(a)
			x.f.Inv(&z, xa)
			x.check("Inv", &z, new(big.Int).Exp(a, e, x.m), a)
			if prime && a.Sign() != 0 {
				var p Elem
				x.f.Mul(&p, &z, xa)
				x.check("x*Inv(x)", &p, big.NewInt(1), a)
			}
			z = *xa
			x.f.Inv(&z, &z)
			x.check("Inv aliased", &z, new(big.Int).Exp(a, e, x.m), a)
		}
	})
}

// TestInvPlan runs the exponentiation schedule on exponents instead of
// elements: it must rebuild e exactly, for random e and for m−2.
func TestInvPlan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var es []*big.Int
	for _, tm := range testModuli {
		es = append(es, new(big.Int).Sub(tm.m, big.NewInt(2)))
	}
	for i := 0; i < 300; i++ {
		e := new(big.Int)
		for j := rng.IntN(9); j > 0; j-- {
			e.Lsh(e, 64).Or(e, new(big.Int).SetUint64(rng.Uint64()))
		}
		e.Rsh(e, uint(rng.IntN(64)))
		if rng.IntN(3) == 0 { // a leading run of ones
			e.Sub(pow2(uint(e.BitLen()+rng.IntN(300)), 0), e)
		}
		if e.Sign() > 0 {
			es = append(es, e)
		}
	}
	for _, e := range es {
		var f Field
		f.planInv(e)
		acc := big.NewInt(int64(f.invFirst))
		saved := new(big.Int)
		for _, s := range f.invSteps {
			if s.save {
				saved.Set(acc)
			}
			acc.Lsh(acc, uint(s.sq))
			switch {
			case s.mul > 0:
				if s.mul%2 == 0 || s.mul >= 2*f.invTab {
					t.Fatalf("e=%x: table entry %d of %d", e, s.mul, f.invTab)
				}
				acc.Add(acc, big.NewInt(int64(s.mul)))
			case s.mul == mulSaved:
				acc.Add(acc, saved)
			}
		}
		if acc.Cmp(e) != 0 {
			t.Fatalf("plan for %x computes %x", e, acc)
		}
	}
	// the run of ones of m−2 for m = 2^(64n) − c costs a few dozen
	// multiplications at most
	for _, c := range []struct {
		m   *big.Int
		max int
	}{{pow2(256, -617), 25}, {pow2(512, -569), 30}} {
		f, _ := New(c.m)
		muls := f.invTab
		for _, s := range f.invSteps {
			if s.mul != 0 {
				muls++
			}
		}
		if muls > c.max {
			t.Errorf("Inv mod %x: %d multiplications", c.m, muls)
		}
	}
}

func TestPrimeModuli(t *testing.T) {
	// the inverse checks above must actually run for the curve moduli
	for _, tm := range testModuli {
		switch tm.name {
		case "2^256-617", "2^255+3225", "p256C", "q256", "2^512-569", "2^511+111", "3", "5", "2^64-59":
			if !tm.m.ProbablyPrime(20) {
				t.Errorf("%s is not prime", tm.name)
			}
		}
	}
}

func TestBytes(t *testing.T) {
	forModuli(t, func(t *testing.T, x *fixture, rng *rand.Rand) {
		f := x.f
		size := f.Size()
		for _, a := range x.samples(rng, 300) {
			le := make([]byte, size)
			be := a.FillBytes(make([]byte, size))
			for i := range be {
				le[i] = be[size-1-i]
			}
			var z Elem
			if err := f.SetBytesLE(&z, le); err != nil {
				t.Fatalf("SetBytesLE(%x): %v", a, err)
			}
			x.check("SetBytesLE", &z, a, a)
			out := make([]byte, size)
			f.BytesLE(out, &z)
			if !bytes.Equal(out, le) {
				t.Fatalf("BytesLE(%x) = %x", a, out)
			}
			z = Elem{}
			if err := f.SetBytesBE(&z, be); err != nil {
				t.Fatalf("SetBytesBE(%x): %v", a, err)
			}
			x.check("SetBytesBE", &z, a, a)
			f.BytesBE(out, &z)
			if !bytes.Equal(out, be) {
				t.Fatalf("BytesBE(%x) = %x", a, out)
			}
			if got := f.Big(&z); got.Cmp(a) != 0 {
				t.Fatalf("Big = %x, want %x", got, a)
			}
			z = Elem{}
			if err := f.SetBig(&z, a); err != nil {
				t.Fatalf("SetBig(%x): %v", a, err)
			}
			x.check("SetBig", &z, a, a)
		}

		// values ≥ m, and wrong lengths, are rejected and leave z alone
		bad := []*big.Int{new(big.Int).Set(x.m), new(big.Int).Add(x.m, big.NewInt(1)),
			new(big.Int).Sub(x.bigR, big.NewInt(1))}
		if x.m.BitLen() < 64*f.Limbs()-1 {
			bad = append(bad, new(big.Int).Lsh(x.m, 1))
		}
		for _, v := range bad {
			if v.Cmp(x.bigR) >= 0 {
				continue
			}
			be := v.FillBytes(make([]byte, size))
			le := make([]byte, size)
			for i := range be {
				le[i] = be[size-1-i]
			}
			z := Elem{7}
			if f.SetBytesLE(&z, le) == nil || f.SetBytesBE(&z, be) == nil || z != (Elem{7}) {
				t.Fatalf("%x accepted", v)
			}
			if f.SetBig(&z, v) == nil || z != (Elem{7}) {
				t.Fatalf("SetBig(%x) accepted", v)
			}
		}
		z := Elem{7}
		if f.SetBig(&z, big.NewInt(-1)) == nil {
			t.Fatal("SetBig(-1) accepted")
		}
		for _, n := range []int{0, 1, size - 1, size + 1, 2 * size} {
			if f.SetBytesLE(&z, make([]byte, n)) == nil || f.SetBytesBE(&z, make([]byte, n)) == nil {
				t.Fatalf("length %d accepted", n)
			}
		}
		if z != (Elem{7}) {
			t.Fatal("rejected input changed z")
		}
	})
}

func TestReduce(t *testing.T) {
	forModuli(t, func(t *testing.T, x *fixture, rng *rand.Rand) {
		f := x.f
		check := func(le []byte) {
			t.Helper()
			be := make([]byte, len(le))
			for i := range le {
				be[len(le)-1-i] = le[i]
			}
			v := new(big.Int).SetBytes(be)
			z := Elem{}
			f.Reduce(&z, le)
			x.check("Reduce", &z, v, v)
		}
		for n := 0; n <= 2*f.Size(); n++ {
			ff := bytes.Repeat([]byte{0xff}, n)
			check(ff)
			for k := 0; k < 20; k++ {
				b := make([]byte, n)
				for i := range b {
					b[i] = byte(rng.Uint32())
				}
				check(b)
			}
		}
		for i := 0; i < 1000; i++ {
			b := make([]byte, rng.IntN(2*f.Size()+1))
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			check(b)
		}
		// m, m·R and m·R + m - 1 as inputs
		for _, v := range []*big.Int{x.m, new(big.Int).Mul(x.m, x.bigR),
			new(big.Int).Sub(new(big.Int).Mul(x.m, new(big.Int).Add(x.bigR, big.NewInt(1))), big.NewInt(1))} {
			if v.BitLen() > 16*f.Size() {
				continue
			}
			be := v.FillBytes(make([]byte, 2*f.Size()))
			le := make([]byte, len(be))
			for i := range be {
				le[len(be)-1-i] = be[i]
			}
			check(le)
		}
		defer func() {
			if recover() == nil {
				t.Error("Reduce accepted an over-long input")
			}
		}()
		var z Elem
		f.Reduce(&z, make([]byte, 2*f.Size()+1))
	})
}

func TestAllocs(t *testing.T) {
	for _, tm := range []modulus{testModuli[0], testModuli[7]} {
		f, _ := New(tm.m)
		var a, b, z Elem
		f.SetOne(&a)
		f.Add(&b, &a, &a)
		buf := make([]byte, 2*f.Size())
		ops := map[string]func(){
			"Mul":    func() { f.Mul(&z, &a, &b) },
			"Sqr":    func() { f.Sqr(&z, &a) },
			"Add":    func() { f.Add(&z, &a, &b) },
			"Sub":    func() { f.Sub(&z, &a, &b) },
			"Neg":    func() { f.Neg(&z, &a) },
			"Inv":    func() { f.Inv(&z, &b) },
			"Reduce": func() { f.Reduce(&z, buf) },
			"BytesLE": func() {
				f.BytesLE(buf[:f.Size()], &a)
			},
			"SetBytesLE": func() { _ = f.SetBytesLE(&z, buf[:f.Size()]) },
		}
		for name, op := range ops {
			if n := testing.AllocsPerRun(100, op); n != 0 {
				t.Errorf("%s %s: %v allocs", tm.name, name, n)
			}
		}
	}
}

// mulLooped is the straightforward loop form of mul4/mul8 (CIOS), kept as a
// reference and as the baseline the unrolled code must beat.
func mulLooped(z, x, y *Elem, f *Field) {
	n := f.n
	var t [10]uint64
	for i := 0; i < n; i++ {
		var c uint64
		for j := 0; j < n; j++ {
			hi, lo := bits.Mul64(x[j], y[i])
			var cc uint64
			t[j], cc = bits.Add64(lo, t[j], 0)
			hi += cc
			t[j], cc = bits.Add64(t[j], c, 0)
			c = hi + cc
		}
		t[n], c = bits.Add64(t[n], c, 0)
		t[n+1] = c
		mq := t[0] * f.m0inv
		hi, lo := bits.Mul64(mq, f.m[0])
		_, cc := bits.Add64(lo, t[0], 0)
		c = hi + cc
		for j := 1; j < n; j++ {
			hi, lo := bits.Mul64(mq, f.m[j])
			t[j-1], cc = bits.Add64(lo, t[j], 0)
			hi += cc
			t[j-1], cc = bits.Add64(t[j-1], c, 0)
			c = hi + cc
		}
		t[n-1], cc = bits.Add64(t[n], c, 0)
		t[n] = t[n+1] + cc
	}
	var s Elem
	var br uint64
	for j := 0; j < n; j++ {
		s[j], br = bits.Sub64(t[j], f.m[j], br)
	}
	_, br = bits.Sub64(t[n], 0, br)
	for j := 0; j < n; j++ {
		z[j] = s[j] ^ ((s[j] ^ t[j]) & -br)
	}
}

func TestMulLooped(t *testing.T) {
	forModuli(t, func(t *testing.T, x *fixture, rng *rand.Rand) {
		vs := x.samples(rng, 300)
		for i, a := range vs {
			b := vs[(i*7+3)%len(vs)]
			var z1, z2 Elem
			x.f.Mul(&z1, x.mont(a), x.mont(b))
			// mulLooped divides by 2^(64n): for a pseudo-Mersenne field
			// (R = 1) its second operand carries that factor.
			bm := x.mont(b)
			if x.f.pseudoMersenne() {
				bm = elem(new(big.Int).Mod(new(big.Int).Mul(b, x.bigR), x.m))
			}
			mulLooped(&z2, x.mont(a), bm, x.f)
			if z1 != z2 {
				t.Fatalf("Mul(%x, %x): unrolled %x, looped %x", a, b, z1, z2)
			}
		}
	})
}

var benchModuli = []struct {
	name string
	m    *big.Int
}{
	{"256", pow2(256, -617)},
	{"512", pow2(512, -569)},
	{"256plus", pow2(255, 3225)},
	{"512plus", pow2(511, 111)},
	{"256generic", hexInt("9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B")},
	{"512generic", hexInt("4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D" +
		"F1D852741AF4704A0458047E80E4546D35B8336FAC224DD81664BBF528BE6373")},
}

func benchOp(b *testing.B, op func(f *Field, z, x, y *Elem)) {
	for _, bm := range benchModuli {
		b.Run(bm.name, func(b *testing.B) {
			f, _ := New(bm.m)
			var x, y Elem
			f.Reduce(&x, bytes.Repeat([]byte{0x5a}, f.Size()+3))
			f.Reduce(&y, bytes.Repeat([]byte{0xa7}, f.Size()-1))
			for b.Loop() {
				op(f, &x, &x, &y)
			}
		})
	}
}

func BenchmarkMul(b *testing.B) {
	benchOp(b, func(f *Field, z, x, y *Elem) { f.Mul(z, x, y) })
}

func BenchmarkMulLooped(b *testing.B) {
	benchOp(b, func(f *Field, z, x, y *Elem) { mulLooped(z, x, y, f) })
}

func BenchmarkSqr(b *testing.B) {
	benchOp(b, func(f *Field, z, x, _ *Elem) { f.Sqr(z, x) })
}

func BenchmarkAdd(b *testing.B) {
	benchOp(b, func(f *Field, z, x, y *Elem) { f.Add(z, x, y) })
}

func BenchmarkSub(b *testing.B) {
	benchOp(b, func(f *Field, z, x, y *Elem) { f.Sub(z, x, y) })
}

func BenchmarkInv(b *testing.B) {
	benchOp(b, func(f *Field, z, x, _ *Elem) { f.Inv(z, x) })
}

func BenchmarkReduce(b *testing.B) {
	for _, bm := range benchModuli {
		b.Run(bm.name, func(b *testing.B) {
			f, _ := New(bm.m)
			var z Elem
			buf := bytes.Repeat([]byte{0xc3}, 2*f.Size())
			for b.Loop() {
				f.Reduce(&z, buf)
			}
		})
	}
}

// TestPseudoMersenne checks the pseudo-Mersenne reduction of 2^(64n) − c
// (generated Go code and, through Mul and Sqr, the assembly where the CPU has
// it) against math/big for operands anywhere below 2^(64n), and that the
// operands reach each of its three outcomes, simulated here with big.Int:
// the second fold wraps past 2^(64n), or it does not and t ≥ m (so t − m is
// taken), or neither.
func TestPseudoMersenne(t *testing.T) {
	forModuli(t, func(t *testing.T, x *fixture, rng *rand.Rand) {
		f := x.f
		if !f.pseudoMersenne() {
			if f.kind == kindMinus4 || f.kind == kindMinus8 {
				t.Fatal("a 2^(64n) − c modulus is not pseudo-Mersenne")
			}
			return
		}
		r, m := x.bigR, x.m
		c := new(big.Int).Sub(r, m)
		bits := uint(64 * f.Limbs())
		one := big.NewInt(1)
		vs := []*big.Int{big.NewInt(0), one, big.NewInt(2), c, m, new(big.Int).Add(m, big.NewInt(5)),
			new(big.Int).Sub(m, one), new(big.Int).Sub(r, one), new(big.Int).Sub(r, big.NewInt(2)),
			new(big.Int).Lsh(one, bits-1), new(big.Int).Rsh(r, 64)}
		for _, v := range vs {
			v.Mod(v, r) // m + 5 for c < 5
		}
		for i := 0; i < 300; i++ {
			v := x.random(rng)
			if i%2 == 0 { // anywhere below 2^(64n)
				v.Add(v, new(big.Int).Rsh(new(big.Int).Mul(c, big.NewInt(int64(rng.IntN(1<<20)))), 20))
				v.Mod(v, r)
			}
			vs = append(vs, v)
		}
		var wrap, ge, plain int
		mask := new(big.Int).Sub(r, one)
		for i, a := range vs {
			for j, b := range vs {
				if i >= 40 && j >= 40 && (i+j)%7 != 0 {
					continue
				}
				p := new(big.Int).Mul(a, b)
				t1 := new(big.Int).Mul(new(big.Int).Rsh(p, bits), c)
				t1.Add(t1, new(big.Int).And(p, mask))
				t2 := new(big.Int).Mul(new(big.Int).Rsh(t1, bits), c)
				t2.Add(t2, new(big.Int).And(t1, mask))
				switch {
				case t2.Cmp(r) >= 0:
					wrap++
				case t2.Cmp(m) >= 0:
					ge++
				default:
					plain++
				}
				want := elem(p.Mod(p, m))
				var z Elem
				mul(&z, elem(a), elem(b), f)
				if z != *want {
					t.Fatalf("mul(%x, %x) = %x, want %x", a, b, z.big(), want.big())
				}
				f.Mul(&z, elem(a), elem(b))
				if z != *want {
					t.Fatalf("Mul(%x, %x) = %x, want %x", a, b, z.big(), want.big())
				}
				if i == j {
					sqr(&z, elem(a), f)
					if z != *want {
						t.Fatalf("sqr(%x) = %x, want %x", a, z.big(), want.big())
					}
					f.Sqr(&z, elem(a))
					if z != *want {
						t.Fatalf("Sqr(%x) = %x, want %x", a, z.big(), want.big())
					}
				}
			}
		}
		if plain == 0 || ge == 0 || (wrap == 0 && c.Cmp(big.NewInt(3)) >= 0) {
			t.Errorf("outcomes reached: wrap %d, t ≥ m %d, neither %d", wrap, ge, plain)
		}
	})
}
