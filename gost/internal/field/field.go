// Package field implements constant-time arithmetic modulo an odd integer m
// of at most 512 bits, for the GOST R 34.10-2012 curve prime p and group
// order q.
//
// # Representation
//
// A modulus below 2^256 is held in n = 4 64-bit limbs, a larger one in n = 8.
// An element a is stored as a·R mod m, fully reduced (below m), in the first n
// little-endian limbs of an [Elem]; the remaining limbs are zero. For most
// moduli R = 2^(64n) and a·R is the Montgomery form: Montgomery
// multiplication computes x·y·R⁻¹ mod m, so the product of two forms is the
// form of the product. For m = 2^(64n) − c with c < 2^64 (the primes
// 2^256 − 617 of tc26-256-A, CryptoPro-A, tc26-256-B and 2^512 − 569 of
// tc26-512-A and tc26-512-C) products are reduced directly, pseudo-Mersenne
// style, by 2^(64n) ≡ c, and R = 1: elements are themselves. Either way
// addition and subtraction work on the forms directly, and conversions in and
// out (SetBytesLE, Reduce, BytesLE, ...) multiply by R² mod m or by 1; code
// above this package never sees the difference.
//
// The moduli may come arbitrarily close to 2^(64n) (2^256−617, 2^512−569):
// every sum and accumulator carries its top bit explicitly.
//
// # Constant time
//
// Apart from New, SetBig and Big, which are meant for public parameters, no
// method branches on or indexes memory by the value of an element: carries
// are propagated with math/bits and results selected with masks. Branches
// depend only on the limb count, on slice lengths and on the modulus (which is
// public; Inv's exponent m−2 is derived from it). Errors report only whether
// an encoding is canonical.
//
// # Code
//
// The 4- and 8-limb multiplication, squaring, addition and subtraction are
// straight-line code written by gen.go (arith_gen.go). Multiplication and
// squaring come in three flavours per limb count, picked once in New: a
// generic Montgomery one, a cheaper Montgomery reduction (one 64-bit product
// per word instead of n) for moduli 2^(64n−1) + c with c < 2^64, and the
// pseudo-Mersenne reduction for 2^(64n) − c.
//
// On amd64 with BMI2 and ADX, Mul and Sqr modulo 2^256 − c and 2^512 − c, and
// modulo 2^511 + c (tc26-512-B), use mul_amd64.s, written by gen_amd64.go: the
// same algorithms with MULX and two carry chains (ADCX/ADOX), a dedicated
// squaring for 2^256 − c and 2^512 − c, constant time like the rest. The tag purego, or
// another architecture, keeps the generated Go code.
package field

//go:generate go run gen.go

import (
	"encoding/binary"
	"errors"
	"math/big"
	"math/bits"
)

// Elem is a field element in Montgomery form as little-endian 64-bit limbs.
// Only the first Field.Limbs() limbs are used; the rest stay zero.
type Elem [8]uint64

// Field holds a modulus m and its precomputed Montgomery constants.
type Field struct {
	n     int    // limbs: 4 or 8
	m     Elem   // the modulus
	m0inv uint64 // -m⁻¹ mod 2^64
	one   Elem   // R mod m: Montgomery form of 1
	rr    Elem   // R² mod m: converts into Montgomery form
	rrr   Elem   // 2^(64n)·R² mod m: converts the high half in Reduce
	mod   *big.Int
	kind  kind // selects the generated code: limb count and shape of m

	// zero is always 0. The generated 8-limb code ORs it, masked, into
	// operands to hold products back until they are needed (see gen.go).
	zero uint64

	// Inv computes x^(m-2) by the public schedule planned in planInv:
	// invTab odd powers x, x³, ..., the accumulator set to x^invFirst,
	// then invSteps.
	invTab   int
	invFirst int // odd
	invSteps []invStep
}

// kind names the generated arithmetic for a modulus; see gen.go.
type kind uint8

const (
	kindGeneric4 kind = iota
	kindMinus4        // 2^256 − c, c < 2^64
	kindPlus4         // 2^255 + c, c < 2^64
	kindGeneric8
	kindMinus8 // 2^512 − c, c < 2^64
	kindPlus8  // 2^511 + c, c < 2^64
)

// invStep optionally copies the accumulator aside, squares it sq times, then
// multiplies it by the odd power x^mul of the table (mul > 0) or by the copy
// (mul == mulSaved), or by nothing (mul == 0).
type invStep struct {
	save bool
	sq   int
	mul  int
}

const mulSaved = -1

// invWindowMax bounds the window width, so the table of odd powers has at
// most 2^(invWindowMax-1) entries.
const invWindowMax = 6

// New returns the field for an odd modulus m > 2 of at most 512 bits; it uses
// 4 limbs when m < 2^256, else 8.
func New(m *big.Int) (*Field, error) {
	if m.Sign() <= 0 || m.Bit(0) == 0 || m.Cmp(big.NewInt(3)) < 0 {
		return nil, errors.New("field: modulus must be odd and greater than 2")
	}
	if m.BitLen() > 512 {
		return nil, errors.New("field: modulus longer than 512 bits")
	}
	f := &Field{n: 4, mod: new(big.Int).Set(m)}
	if m.BitLen() > 256 {
		f.n = 8
	}
	bigToLimbs(&f.m, m)
	f.kind = shapeOf(&f.m, f.n)

	// -m⁻¹ mod 2^64 by Newton iteration: each step doubles the correct bits.
	m0 := f.m[0]
	inv := m0 // correct to 3 bits for odd m0
	for i := 0; i < 5; i++ {
		inv *= 2 - m0*inv
	}
	f.m0inv = -inv

	// R is the Montgomery factor: 2^(64n), or 1 where the reduction is
	// pseudo-Mersenne. Reduce needs 2^(64n)·R² for the high half.
	r := new(big.Int).Lsh(big.NewInt(1), uint(64*f.n))
	if f.pseudoMersenne() {
		r.SetInt64(1)
	}
	r.Mod(r, m)
	bigToLimbs(&f.one, r)
	r2 := new(big.Int).Mul(r, r)
	bigToLimbs(&f.rr, r2.Mod(r2, m))
	r3 := new(big.Int).Lsh(r2, uint(64*f.n))
	bigToLimbs(&f.rrr, r3.Mod(r3, m))

	f.planInv(new(big.Int).Sub(m, big.NewInt(2)))
	return f, nil
}

// pseudoMersenne reports whether m = 2^(64n) − c with c < 2^64, for which
// the generated code reduces products by 2^(64n) ≡ c and elements are kept
// as themselves (R = 1) rather than in Montgomery form.
func (f *Field) pseudoMersenne() bool { return f.kind == kindMinus4 || f.kind == kindMinus8 }

// shapeOf classifies the n-limb modulus m.
func shapeOf(m *Elem, n int) kind {
	minus, plus := true, m[n-1] == 1<<63
	for _, w := range m[1 : n-1] {
		minus = minus && w == ^uint64(0)
		plus = plus && w == 0
	}
	minus = minus && m[n-1] == ^uint64(0)
	k := kindGeneric4
	if n == 8 {
		k = kindGeneric8
	}
	switch {
	case minus:
		k++
	case plus:
		k += 2
	}
	return k
}

// planInv plans x^e with as few multiplications as it finds (the number of
// squarings is always about the bit length of e). It tries fixed-width
// sliding windows over all of e, and, when e starts with a run of ones (as
// m−2 does for m = 2^(64n) − c), x^(2^L−1) for the run by repeated doubling
// of the run length followed by sliding windows over the remaining bits.
func (f *Field) planInv(e *big.Int) {
	best := -1
	try := func(w, first int, steps []invStep) {
		tab := 1 << (w - 1)
		cost := tab - 1 // table products
		if tab > 1 {
			cost++ // x², a squaring but counted as a multiplication
		}
		for _, s := range steps {
			if s.mul != 0 {
				cost++
			}
		}
		if best < 0 || cost < best {
			best = cost
			f.invTab, f.invFirst, f.invSteps = tab, first, steps
		}
	}
	top := e.BitLen()
	run := 0
	for run < top && e.Bit(top-1-run) == 1 {
		run++
	}
	for w := 1; w <= invWindowMax; w++ {
		// the first window of e, then windows below it
		lo := max(top-w, 0)
		for e.Bit(lo) == 0 {
			lo++
		}
		first := 0
		for j := top - 1; j >= lo; j-- {
			first = first<<1 | int(e.Bit(j))
		}
		try(w, first, windows(nil, e, lo, w))
		if run >= 2 {
			try(w, 1, windows(onesChain(run), e, top-run, w))
		}
	}
}

// onesChain returns the steps that take the accumulator from x to
// x^(2^L−1): for each bit of L after the first, the exponent 2^k−1 becomes
// 2^(2k)−1 (square k times, multiply by the saved copy) and, for a one bit,
// 2^(2k+1)−1 (square, multiply by x).
func onesChain(l int) []invStep {
	var steps []invStep
	k := 1
	for i := bits.Len(uint(l)) - 2; i >= 0; i-- {
		steps = append(steps, invStep{save: true, sq: k, mul: mulSaved})
		k *= 2
		if l>>i&1 == 1 {
			steps = append(steps, invStep{sq: 1, mul: 1})
			k++
		}
	}
	return steps
}

// windows appends the steps for bits hi−1..0 of e to steps: odd windows of
// at most w bits, separated by zeros.
func windows(steps []invStep, e *big.Int, hi, w int) []invStep {
	sq := 0
	for i := hi - 1; i >= 0; {
		if e.Bit(i) == 0 {
			sq++
			i--
			continue
		}
		lo := max(i-w+1, 0)
		for e.Bit(lo) == 0 {
			lo++
		}
		win := 0
		for j := i; j >= lo; j-- {
			win = win<<1 | int(e.Bit(j))
		}
		steps = append(steps, invStep{sq: sq + i - lo + 1, mul: win})
		sq = 0
		i = lo - 1
	}
	if sq > 0 {
		steps = append(steps, invStep{sq: sq})
	}
	return steps
}

// bigToLimbs sets z to the little-endian limbs of 0 ≤ v < 2^512.
func bigToLimbs(z *Elem, v *big.Int) {
	var b [64]byte
	v.FillBytes(b[:])
	for i := range z {
		z[i] = binary.BigEndian.Uint64(b[64-8*(i+1):])
	}
}

// Limbs returns the number of limbs in use: 4 or 8.
func (f *Field) Limbs() int { return f.n }

// Size returns the length in bytes of a canonical encoding: 32 or 64.
func (f *Field) Size() int { return 8 * f.n }

// Modulus returns a copy of m.
func (f *Field) Modulus() *big.Int { return new(big.Int).Set(f.mod) }

// Mul sets z = x·y·R⁻¹ mod m, the Montgomery form of the product.
func (f *Field) Mul(z, x, y *Elem) {
	if hasMULX {
		switch f.kind {
		case kindMinus4:
			mulPM4(z, x, y, -f.m[0])
			return
		case kindMinus8:
			mulPM8(z, x, y, -f.m[0])
			return
		case kindPlus8:
			mulPlus8MULX(z, x, y, f.m[0], f.m0inv)
			return
		}
	}
	mul(z, x, y, f)
}

// Sqr sets z = x·x·R⁻¹ mod m.
func (f *Field) Sqr(z, x *Elem) {
	if hasMULX {
		switch f.kind {
		case kindMinus4:
			sqrPM4(z, x, -f.m[0])
			return
		case kindMinus8:
			sqrPM8(z, x, -f.m[0])
			return
		case kindPlus8:
			mulPlus8MULX(z, x, x, f.m[0], f.m0inv)
			return
		}
	}
	sqr(z, x, f)
}

// Add sets z = x + y mod m.
func (f *Field) Add(z, x, y *Elem) {
	if asmAddSub {
		switch f.kind {
		case kindMinus4:
			addPM4(z, x, y, -f.m[0])
			return
		case kindMinus8:
			addPM8(z, x, y, -f.m[0])
			return
		}
	}
	add(z, x, y, f)
}

// Sub sets z = x − y mod m.
func (f *Field) Sub(z, x, y *Elem) {
	if asmAddSub {
		switch f.kind {
		case kindMinus4:
			subPM4(z, x, y, -f.m[0])
			return
		case kindMinus8:
			subPM8(z, x, y, -f.m[0])
			return
		}
	}
	sub(z, x, y, f)
}

// Neg sets z = −x mod m.
func (f *Field) Neg(z, x *Elem) {
	var zero Elem
	f.Sub(z, &zero, x)
}

// Double sets z = 2x mod m.
func (f *Field) Double(z, x *Elem) { f.Add(z, x, x) }

// Inv sets z = x^(m−2) mod m, which is x⁻¹ when m is prime (and 0 for x = 0).
// For a composite m the result is not an inverse. The sequence of squarings
// and multiplications depends only on m.
func (f *Field) Inv(z, x *Elem) {
	// tab[k] = x^(2k+1)
	var tab [1 << (invWindowMax - 1)]Elem
	var x2, acc, saved Elem
	tab[0] = *x
	if f.invTab > 1 {
		f.Sqr(&x2, x)
		for k := 1; k < f.invTab; k++ {
			f.Mul(&tab[k], &tab[k-1], &x2)
		}
	}
	acc = tab[f.invFirst>>1]
	for _, s := range f.invSteps {
		if s.save {
			saved = acc
		}
		for i := 0; i < s.sq; i++ {
			f.Sqr(&acc, &acc)
		}
		switch {
		case s.mul > 0:
			f.Mul(&acc, &acc, &tab[s.mul>>1])
		case s.mul == mulSaved:
			f.Mul(&acc, &acc, &saved)
		}
	}
	*z = acc
}

// SetOne sets z to the Montgomery form of 1.
func (f *Field) SetOne(z *Elem) { *z = f.one }

// SetZero sets z = 0.
func (f *Field) SetZero(z *Elem) { *z = Elem{} }

// IsZero returns 1 if x == 0, else 0.
func (f *Field) IsZero(x *Elem) uint64 {
	var acc uint64
	for _, v := range x {
		acc |= v
	}
	return 1 ^ (acc|-acc)>>63
}

// Equal returns 1 if x == y, else 0.
func (f *Field) Equal(x, y *Elem) uint64 {
	var acc uint64
	for i := range x {
		acc |= x[i] ^ y[i]
	}
	return 1 ^ (acc|-acc)>>63
}

// Select sets z = a if cond == 1 and z = b if cond == 0, without branching.
// cond must be 0 or 1.
func Select(z, a, b *Elem, cond uint64) {
	mask := -cond
	for i := range z {
		z[i] = b[i] ^ ((a[i] ^ b[i]) & mask)
	}
}

var (
	errLength = errors.New("field: wrong encoding length")
	errRange  = errors.New("field: value not below the modulus")
)

// SetBytesLE sets z to the Montgomery form of the little-endian value b,
// which must be Size() bytes long and below m; otherwise it returns an error
// and leaves z unchanged. It runs in time independent of the value.
func (f *Field) SetBytesLE(z *Elem, b []byte) error {
	if len(b) != f.Size() {
		return errLength
	}
	var t Elem
	for i := 0; i < f.n; i++ {
		t[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return f.setCanonical(z, &t)
}

// SetBytesBE is SetBytesLE for a big-endian encoding.
func (f *Field) SetBytesBE(z *Elem, b []byte) error {
	if len(b) != f.Size() {
		return errLength
	}
	var t Elem
	for i := 0; i < f.n; i++ {
		t[i] = binary.BigEndian.Uint64(b[len(b)-8*(i+1):])
	}
	return f.setCanonical(z, &t)
}

// setCanonical sets z to the Montgomery form of t if t < m.
func (f *Field) setCanonical(z, t *Elem) error {
	var br uint64
	for i := 0; i < f.n; i++ {
		_, br = bits.Sub64(t[i], f.m[i], br)
	}
	if br == 0 {
		return errRange
	}
	f.Mul(z, t, &f.rr)
	return nil
}

// Reduce sets z to the Montgomery form of b mod m, where b is a little-endian
// number of up to 2·Size() bytes (shorter inputs are zero-extended). It runs
// in time independent of the value and panics if len(b) > 2·Size(); callers
// control the length.
func (f *Field) Reduce(z *Elem, b []byte) {
	size := f.Size()
	if len(b) > 2*size {
		panic("field: Reduce input longer than twice the element size")
	}
	var buf [128]byte
	copy(buf[:], b)
	var lo, hi Elem
	for i := 0; i < f.n; i++ {
		lo[i] = binary.LittleEndian.Uint64(buf[8*i:])
		hi[i] = binary.LittleEndian.Uint64(buf[size+8*i:])
	}
	// lo·R² ·R⁻¹ + hi·R³·R⁻¹ = (lo + hi·R)·R. Montgomery multiplication
	// accepts any first operand below R.
	f.Mul(&lo, &lo, &f.rr)
	f.Mul(&hi, &hi, &f.rrr)
	f.Add(z, &lo, &hi)
}

// BytesLE writes the canonical little-endian encoding of x to out, which
// must be Size() bytes long.
func (f *Field) BytesLE(out []byte, x *Elem) {
	var t Elem
	f.fromMont(&t, x)
	out = out[:f.Size()]
	for i := 0; i < f.n; i++ {
		binary.LittleEndian.PutUint64(out[8*i:], t[i])
	}
}

// BytesBE writes the canonical big-endian encoding of x to out, which must
// be Size() bytes long.
func (f *Field) BytesBE(out []byte, x *Elem) {
	var t Elem
	f.fromMont(&t, x)
	out = out[:f.Size()]
	for i := 0; i < f.n; i++ {
		binary.BigEndian.PutUint64(out[len(out)-8*(i+1):], t[i])
	}
}

// fromMont sets z = x·R⁻¹ mod m, the value whose Montgomery form is x.
func (f *Field) fromMont(z, x *Elem) {
	f.Mul(z, x, &Elem{1})
}

// SetBig sets z to the Montgomery form of v, which must satisfy 0 ≤ v < m.
// It is meant for public parameters and is not constant time.
func (f *Field) SetBig(z *Elem, v *big.Int) error {
	if v.Sign() < 0 || v.Cmp(f.mod) >= 0 {
		return errRange
	}
	var t Elem
	bigToLimbs(&t, v)
	f.Mul(z, &t, &f.rr)
	return nil
}

// Big returns the value whose Montgomery form is x. It is meant for public
// parameters and tests and is not constant time.
func (f *Field) Big(x *Elem) *big.Int {
	var b [64]byte
	f.BytesBE(b[:f.Size()], x)
	return new(big.Int).SetBytes(b[:f.Size()])
}
