//go:build ignore

// gen writes arith_gen.go: straight-line modular multiplication and
// squaring (Montgomery, or pseudo-Mersenne for 2^(64n) − c), addition and
// subtraction for 4- and 8-limb moduli. Run it with
// `go generate` in this directory.
//
// # Shapes
//
// Besides a generic modulus, two shapes common among GOST curve primes get
// their own reduction, chosen in New (see kind):
//
//   - minus: m = 2^(64n) − c with c < 2^64 (limbs 1..n−1 all ones), e.g.
//     2^256 − 617. The 2n-word product is reduced pseudo-Mersenne style
//     (pmReduce), with 2^(64n) ≡ c: no Montgomery form (R = 1).
//   - plus: m = 2^(64n−1) + c with c < 2^64 (limbs 1..n−2 zero, the top limb
//     2^63), e.g. 2^255 + 3225. Montgomery reduction, where with q the
//     quotient word of a step q·m = q·c + (q<<63)·2^(64(n−1)) costs one
//     64-bit product instead of n.
//
// # Carries and scheduling
//
// Every carry chain is emitted as consecutive bits.Add64/Sub64 calls with
// nothing in between, so the compiler keeps the carry in the flags register
// (ADD/ADC); the products feeding a chain are formed first because MULQ
// clobbers the flags. The modulus may come as close to 2^(64n) as it likes,
// so accumulators carry one extra word and the final conditional subtraction
// takes the carry bit into account.
//
// The compiler schedules the first instruction of a carry chain as late as
// it can, after every other ready instruction, so products that depend only
// on the inputs would all be hoisted to the top of the function and spilled.
// Where that hurts (8 limbs), the operand of the next row of products is
// made to depend on the current row through an OR with f.zero, a field that
// is always zero: it costs two instructions per row and holds the products
// back until the row before them has been consumed.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
)

type gen struct{ bytes.Buffer }

func (g *gen) p(format string, args ...any) {
	fmt.Fprintf(&g.Buffer, format, args...)
	g.WriteByte('\n')
}

// list returns "prefix<from>, ..., prefix<to-1>".
func list(prefix string, from, to int) string {
	var s []string
	for i := from; i < to; i++ {
		s = append(s, fmt.Sprintf("%s%d", prefix, i))
	}
	return strings.Join(s, ", ")
}

func names(prefix string, n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return s
}

// load declares prefix0..prefix(n-1) from src[0..n-1].
func (g *gen) load(prefix, src string, n int) {
	var s []string
	for i := 0; i < n; i++ {
		s = append(s, fmt.Sprintf("%s[%d]", src, i))
	}
	g.p("%s := %s", list(prefix, 0, n), strings.Join(s, ", "))
}

type shape int

const (
	generic shape = iota
	minus
	plus
)

var shapeNames = []string{"Generic", "Minus", "Plus"}

type variant struct {
	n       int
	s       shape
	barrier bool
}

func (v variant) kind() string { return fmt.Sprintf("kind%s%d", shapeNames[v.s], v.n) }

// separate reports whether the variant gets a function of its own rather
// than a case in the dispatching function. Large bodies compile better on
// their own; small ones save a call.
func (v variant) separate() bool { return v.n == 8 }

func (v variant) fn(op string) string { return fmt.Sprintf("%s%s%d", op, shapeNames[v.s], v.n) }

// dispatch emits the function op, which switches on f.kind to the bodies
// written by body, inline or as functions of their own.
func (g *gen) dispatch(op, params, args, doc string, variants []variant, body func(variant)) {
	g.p("%s", doc)
	g.p("func %s(%s, f *Field) {", op, params)
	g.p("switch f.kind {")
	for _, v := range variants {
		g.p("case %s:", v.kind())
		if v.separate() {
			g.p("%s(%s, f)", v.fn(op), args)
		} else {
			body(v)
		}
	}
	g.p("}")
	g.p("}")
	g.p("")
	for _, v := range variants {
		if v.separate() {
			g.p("func %s(%s, f *Field) {", v.fn(op), params)
			body(v)
			g.p("}")
			g.p("")
		}
	}
}

// row emits the products h_j:l_j = a_j*b and folds them into p1..p_k (p0
// is l0): the (k+1)-word value sum a_j*b*2^(64j).
func (g *gen) row(as []string, b string) {
	k := len(as)
	for j, a := range as {
		g.p("h%d, l%d = bits.Mul64(%s, %s)", j, j, a, b)
	}
	if k == 1 {
		g.p("p1 = h0")
		return
	}
	g.p("p1, c = bits.Add64(l1, h0, 0)")
	for j := 2; j < k; j++ {
		g.p("p%d, c = bits.Add64(l%d, h%d, c)", j, j, j-1)
	}
	g.p("p%d, _ = bits.Add64(h%d, 0, c)", k, k-1)
}

// qrow emits the n+1 words of mq*m and returns them as expressions. When
// pend is set it is added into the top word, which cannot overflow: mq*m <
// 2^(64(n+1)) − 2^(64n).
func (g *gen) qrow(v variant, pend bool) []string {
	n := v.n
	q := make([]string, n+1)
	switch v.s {
	case generic:
		g.row(names("m", n), "mq")
		q[0] = "l0"
		for j := 1; j <= n; j++ {
			q[j] = fmt.Sprintf("p%d", j)
		}
	case plus:
		// mq*m = mq*c + (mq<<63)*2^(64(n-1)) + (mq>>1)*2^(64n)
		g.p("p1, l0 = bits.Mul64(mq, cc)")
		g.p("p%d = mq >> 1", n)
		q[0], q[1] = "l0", "p1"
		for j := 2; j < n-1; j++ {
			q[j] = "0"
		}
		q[n-1] = "mq << 63"
		q[n] = fmt.Sprintf("p%d", n)
	}
	if pend {
		g.p("p%d += pend", n)
	}
	return q
}

// finalSub emits z = t − m if t (n words plus the bit top) ≥ m, else z = t,
// without branches.
func (g *gen) finalSub(n int, t func(int) string, top string, m func(int) string) {
	g.p("var br uint64")
	for i := 0; i < n; i++ {
		g.p("s%d, br := bits.Sub64(%s, %s, br)", i, t(i), m(i))
	}
	g.p("_, br = bits.Sub64(%s, 0, br)", top)
	g.p("keep := -br")
	for i := 0; i < n; i++ {
		g.p("z[%d] = s%d ^ ((s%d ^ %s) & keep)", i, i, i, t(i))
	}
}

// prologue loads what the reduction needs and declares the scratch words.
func (g *gen) prologue(v variant, extra string) {
	n := v.n
	if v.s == generic {
		g.load("m", "f.m", n)
	}
	switch v.s {
	case minus:
		g.p("cc := -f.m[0]")
	case plus:
		g.p("cc := f.m[0]")
	}
	if v.barrier {
		g.p("zero := f.zero")
	}
	if v.s == minus {
		// pseudo-Mersenne reduction (pmReduce): no Montgomery words, and
		// the products need p_n only in rows of n words (mul, not sqr)
		extra = strings.Replace(extra, ", pend", "", 1)
		ps := n + 1
		if !strings.Contains(extra, "vy") {
			ps = n
		}
		g.p("var %s, %s, %s, %s, c, top uint64", extra, list("h", 0, n), list("l", 0, n), list("p", 1, ps))
		return
	}
	g.p("inv := f.m0inv")
	decl := fmt.Sprintf("%s, %s, %s, c, mq", list("h", 0, n), list("l", 0, n), list("p", 1, n+1))
	g.p("var %s, %s uint64", extra, decl)
}

// modWord returns the expression for limb i of m in the final subtraction.
func modWord(v variant) func(int) string {
	return func(i int) string {
		switch {
		case v.s == generic:
			return fmt.Sprintf("m%d", i)
		case i == 0:
			return "f.m[0]"
		case i == v.n-1:
			return "1 << 63"
		}
		return "0"
	}
}

// mul emits multiplication: by separated operand scanning for 4 limbs,
// where it measured faster, and for the pseudo-Mersenne shape, whose
// reduction needs the whole product; by coarsely integrated operand scanning
// (CIOS) for 8-limb Montgomery reduction, where the two are level but CIOS
// needs fewer live words.
func (g *gen) mul(v variant) {
	if v.n == 4 || v.s == minus {
		g.mulSOS(v)
	} else {
		g.mulCIOS(v)
	}
}

// mulSOS emits the 2n-word product x*y row by row (row i adds x*y_i at word
// i), then its reduction (reduce). For Montgomery x*y < R*m, so the result
// before the final subtraction is below 2m.
func (g *gen) mulSOS(v variant) {
	n := v.n
	g.load("x", "x", n)
	extra := list("r", 0, 2*n) + ", pend, vy"
	g.prologue(v, extra)
	for i := 0; i < n; i++ {
		if v.barrier && i > 0 {
			g.p("vy = y[%d] | (r%d & zero)", i, i-1)
		} else {
			g.p("vy = y[%d]", i)
		}
		g.row(names("x", n), "vy")
		if i == 0 {
			g.p("r0 = l0")
			for t := 1; t <= n; t++ {
				g.p("r%d = p%d", t, t)
			}
			continue
		}
		g.p("r%d, c = bits.Add64(r%d, l0, 0)", i, i)
		for t := 1; t < n; t++ {
			g.p("r%d, c = bits.Add64(r%d, p%d, c)", i+t, i+t, t)
		}
		g.p("r%d, _ = bits.Add64(p%d, 0, c)", i+n, n)
	}
	g.reduce(v)
}

// reduce emits the reduction of the 2n-word r into z: pseudo-Mersenne for
// the minus shape, Montgomery otherwise.
func (g *gen) reduce(v variant) {
	if v.s == minus {
		g.pmReduce(v.n)
	} else {
		g.redc(v)
	}
}

// pmReduce emits z = r mod m for m = 2^(64n) − c and the 2n-word r = H·2^(64n)
// + L, using 2^(64n) ≡ c: first L + H·c < 2^(64(n+1)) (n words and top),
// then (n words) + top·c, which is below 2^(64n) + 2^128. When that last sum
// wraps (carry w), the wrapped value t is below 2^128 − 2^64, and t + c is
// the result; otherwise t is, minus m when t ≥ m, that is when t + c
// carries. Both cases take s = t + c, selected when w or its carry is set.
func (g *gen) pmReduce(n int) {
	g.p("// fold the high half: L + H·c")
	for j := 0; j < n; j++ {
		g.p("h%d, l%d = bits.Mul64(r%d, cc)", j, j, n+j)
	}
	g.p("r0, c = bits.Add64(r0, l0, 0)")
	for j := 1; j < n; j++ {
		g.p("r%d, c = bits.Add64(r%d, l%d, c)", j, j, j)
	}
	g.p("top = c")
	g.p("r1, c = bits.Add64(r1, h0, 0)")
	for j := 2; j < n; j++ {
		g.p("r%d, c = bits.Add64(r%d, h%d, c)", j, j, j-1)
	}
	g.p("top, _ = bits.Add64(top, h%d, c)", n-1)
	g.p("// fold top·c")
	g.p("h0, l0 = bits.Mul64(top, cc)")
	g.p("r0, c = bits.Add64(r0, l0, 0)")
	g.p("r1, c = bits.Add64(r1, h0, c)")
	for j := 2; j < n; j++ {
		g.p("r%d, c = bits.Add64(r%d, 0, c)", j, j)
	}
	g.p("top = c")
	g.p("// s = t + c, taken on a wrap or a carry")
	g.p("s0, c := bits.Add64(r0, cc, 0)")
	for j := 1; j < n; j++ {
		g.p("s%d, c := bits.Add64(r%d, 0, c)", j, j)
	}
	g.p("sel := -(c | top)")
	for j := 0; j < n; j++ {
		g.p("z[%d] = r%d ^ ((r%d ^ s%d) & sel)", j, j, j, j)
	}
}

// mulCIOS emits CIOS Montgomery multiplication: for each word y_i, t += x*y_i,
// then t = (t + (t_0*inv mod 2^64)*m) / 2^64. t stays below x+m < 2^(64n+1):
// n words plus the bit t_n between iterations, n+2 words within one.
func (g *gen) mulCIOS(v variant) {
	n := v.n
	g.load("x", "x", n)
	g.prologue(v, list("t", 0, n+2)+", vy")
	g.p("vy = y[0]")
	for i := 0; i < n; i++ {
		g.p("// word %d of y", i)
		g.row(names("x", n), "vy")
		if i == 0 {
			g.p("t0 = l0")
			for j := 1; j <= n; j++ {
				g.p("t%d = p%d", j, j)
			}
		} else {
			g.p("t0, c = bits.Add64(t0, l0, 0)")
			for j := 1; j <= n; j++ {
				g.p("t%d, c = bits.Add64(t%d, p%d, c)", j, j, j)
			}
			g.p("t%d = c", n+1)
		}
		g.p("mq = t0 * inv")
		q := g.qrow(v, false)
		if i+1 < n {
			if v.barrier {
				g.p("vy = y[%d] | (p1 & zero)", i+1)
			} else {
				g.p("vy = y[%d]", i+1)
			}
		}
		g.p("_, c = bits.Add64(t0, %s, 0)", q[0])
		for j := 1; j <= n; j++ {
			g.p("t%d, c = bits.Add64(t%d, %s, c)", j-1, j, q[j])
		}
		if i == 0 {
			g.p("t%d = c", n)
		} else {
			g.p("t%d, _ = bits.Add64(t%d, 0, c)", n, n+1)
		}
	}
	g.finalSub(n, func(i int) string { return fmt.Sprintf("t%d", i) }, fmt.Sprintf("t%d", n), modWord(v))
}

// sqr emits squaring by separated operand scanning: the 2n-word square from
// n(n-1)/2 cross products (doubled) and n diagonal squares, then reduce.
func (g *gen) sqr(v variant) {
	n := v.n
	g.load("x", "x", n)
	extra := list("r", 0, 2*n) + ", pend"
	if v.barrier {
		extra += ", vx"
	}
	g.prologue(v, extra)
	g.p("// cross products x_i*x_j, i < j")
	for i := 0; i < n-1; i++ {
		var as []string
		for j := i + 1; j < n; j++ {
			as = append(as, fmt.Sprintf("x%d", j))
		}
		k := len(as)
		op := fmt.Sprintf("x%d", i)
		if v.barrier && i > 0 {
			g.p("vx = x%d | (r%d & zero)", i, 2*i-1)
			op = "vx"
		}
		g.row(as, op)
		if i == 0 {
			g.p("r1 = l0")
			for t := 1; t <= k; t++ {
				g.p("r%d = p%d", 1+t, t)
			}
			continue
		}
		g.p("r%d, c = bits.Add64(r%d, l0, 0)", 2*i+1, 2*i+1)
		for t := 1; t < k; t++ {
			g.p("r%d, c = bits.Add64(r%d, p%d, c)", 2*i+1+t, 2*i+1+t, t)
		}
		g.p("r%d, _ = bits.Add64(p%d, 0, c)", i+n, k)
	}
	g.p("// double them")
	g.p("r%d = r%d >> 63", 2*n-1, 2*n-2)
	for j := 2*n - 2; j >= 2; j-- {
		g.p("r%d = r%d<<1 | r%d>>63", j, j, j-1)
	}
	g.p("r1 <<= 1")
	g.p("// add the squares x_i^2")
	for i := 0; i < n; i++ {
		if v.barrier {
			g.p("vx = x%d | (r%d & zero)", i, 2*n-1)
			g.p("h%d, l%d = bits.Mul64(vx, vx)", i, i)
		} else {
			g.p("h%d, l%d = bits.Mul64(x%d, x%d)", i, i, i, i)
		}
	}
	g.p("r0 = l0")
	g.p("r1, c = bits.Add64(r1, h0, 0)")
	for i := 1; i < n; i++ {
		g.p("r%d, c = bits.Add64(r%d, l%d, c)", 2*i, 2*i, i)
		if i < n-1 {
			g.p("r%d, c = bits.Add64(r%d, h%d, c)", 2*i+1, 2*i+1, i)
		} else {
			g.p("r%d, _ = bits.Add64(r%d, h%d, c)", 2*i+1, 2*i+1, i)
		}
	}
	g.reduce(v)
}

// redc emits the word-by-word Montgomery reduction of the 2n-word r (below
// R*m) and the final subtraction into z. The carry out of word i+n is held
// in pend and folded into the next row's top word.
func (g *gen) redc(v variant) {
	n := v.n
	g.p("// Montgomery reduction")
	for i := 0; i < n; i++ {
		g.p("mq = r%d * inv", i)
		q := g.qrow(v, i > 0)
		g.p("_, c = bits.Add64(r%d, %s, 0)", i, q[0])
		for j := 1; j <= n; j++ {
			g.p("r%d, c = bits.Add64(r%d, %s, c)", i+j, i+j, q[j])
		}
		g.p("pend = c")
	}
	g.finalSub(n, func(i int) string { return fmt.Sprintf("r%d", n+i) }, "pend", modWord(v))
}

// add emits z = x + y mod m: the n-word sum with its carry, minus m when
// that does not borrow. For m = 2^(64n) − c, x + y ≥ m exactly when the sum
// carries or the sum plus c does, and then the result is the sum plus c:
// no limbs of m are loaded.
func (g *gen) add(v variant) {
	n := v.n
	if v.s == minus {
		g.p("cc := -f.m[0]")
		g.p("var c uint64")
		for i := 0; i < n; i++ {
			g.p("t%d, c := bits.Add64(x[%d], y[%d], c)", i, i, i)
		}
		g.p("k := c")
		g.p("s0, c := bits.Add64(t0, cc, 0)")
		for i := 1; i < n; i++ {
			g.p("s%d, c := bits.Add64(t%d, 0, c)", i, i)
		}
		g.p("sel := -(k | c)")
		for i := 0; i < n; i++ {
			g.p("z[%d] = t%d ^ ((t%d ^ s%d) & sel)", i, i, i, i)
		}
		return
	}
	g.load("m", "f.m", n)
	g.p("var c uint64")
	for i := 0; i < n; i++ {
		g.p("t%d, c := bits.Add64(x[%d], y[%d], c)", i, i, i)
	}
	g.finalSub(n, func(i int) string { return fmt.Sprintf("t%d", i) }, "c", func(i int) string { return fmt.Sprintf("m%d", i) })
}

// sub emits z = x − y mod m: the n-word difference, plus m when it borrowed.
// For m = 2^(64n) − c adding m is subtracting c (the borrow out of the
// difference cancels the 2^(64n)), which cannot borrow again.
func (g *gen) sub(v variant) {
	n := v.n
	g.p("var br uint64")
	for i := 0; i < n; i++ {
		g.p("t%d, br := bits.Sub64(x[%d], y[%d], br)", i, i, i)
	}
	g.p("mask := -br")
	if v.s == minus {
		g.p("z[0], br = bits.Sub64(t0, -f.m[0]&mask, 0)")
		for i := 1; i < n; i++ {
			g.p("z[%d], br = bits.Sub64(t%d, 0, br)", i, i)
		}
		return
	}
	g.p("var c uint64")
	for i := 0; i < n; i++ {
		g.p("z[%d], c = bits.Add64(t%d, f.m[%d]&mask, c)", i, i, i)
	}
}

func main() {
	variants := []variant{
		{4, generic, false}, {4, minus, false}, {4, plus, false},
		{8, generic, true}, {8, minus, true}, {8, plus, true},
	}
	var g gen
	g.p("// Code generated by gen.go; DO NOT EDIT.")
	g.p("")
	g.p("package field")
	g.p("")
	g.p(`import "math/bits"`)
	g.p("")
	g.dispatch("mul", "z, x, y *Elem", "z, x, y", "// mul sets z = x*y*R^-1 mod m. y must be below m and x below R; z is\n// fully reduced and may alias x or y.", variants, g.mul)
	g.dispatch("sqr", "z, x *Elem", "z, x", "// sqr sets z = x*x*R^-1 mod m for x < m; z may alias x.", variants, g.sqr)
	g.dispatch("add", "z, x, y *Elem", "z, x, y", "// add sets z = x + y mod m for x, y < m.", variants, g.add)
	g.dispatch("sub", "z, x, y *Elem", "z, x, y", "// sub sets z = x − y mod m for x, y < m.", variants, g.sub)
	src, err := format.Source(g.Bytes())
	if err != nil {
		os.WriteFile("arith_gen.go", g.Bytes(), 0o644)
		log.Fatal(err)
	}
	if err := os.WriteFile("arith_gen.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}
