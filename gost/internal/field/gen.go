//go:build ignore

// gen writes arith_gen.go: straight-line Montgomery multiplication, squaring,
// addition and subtraction for 4- and 8-limb moduli. Run it with
// `go generate` in this directory.
//
// Every carry chain is emitted as consecutive bits.Add64/Sub64 calls with
// nothing in between, so the compiler keeps the carry in the flags register
// (ADD/ADC); all products of a row are formed first because MULQ clobbers the
// flags. The modulus may be as large as 2^(64n)-1, so the accumulators carry
// one extra word and the final conditional subtraction takes the carry bit
// into account.
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

// load declares prefix0..prefix(n-1) from src[0..n-1].
func (g *gen) load(prefix, src string, n int) {
	var s []string
	for i := 0; i < n; i++ {
		s = append(s, fmt.Sprintf("%s[%d]", src, i))
	}
	g.p("%s := %s", list(prefix, 0, n), strings.Join(s, ", "))
}

// row emits the products h_j:l_j = a_j*b for the given operand names and
// folds them into p1..p_k (p0 is l0): the k+1-word value sum a_j*b*2^(64j).
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

// finalSub emits z = t - m if t (n words t[0..n-1] plus the bit top) >= m,
// else z = t, without branches.
func (g *gen) finalSub(n int, t func(int) string, top string) {
	g.p("var br uint64")
	for i := 0; i < n; i++ {
		g.p("s%d, br := bits.Sub64(%s, m%d, br)", i, t(i), i)
	}
	g.p("_, br = bits.Sub64(%s, 0, br)", top)
	g.p("keep := -br")
	for i := 0; i < n; i++ {
		g.p("z[%d] = s%d ^ ((s%d ^ %s) & keep)", i, i, i, t(i))
	}
}

func names(prefix string, n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return s
}

func (g *gen) header(n int) {
	g.load("m", "f.m", n)
	g.p("inv := f.m0inv")
}

// mul emits CIOS Montgomery multiplication: for each word y_i, t += x*y_i,
// then t = (t + (t_0*inv mod 2^64)*m) / 2^64. t stays below x+m < 2^(64n+1):
// n words plus the bit t_n between iterations, n+2 words within one.
func (g *gen) mul(n int) {
	bits := 64 * n
	g.p("// mul%d sets z = x*y*2^-%d mod m for a modulus m of %d limbs. y must be", n, bits, n)
	g.p("// below m, x below 2^%d; z is fully reduced and may alias x or y.", bits)
	g.p("func mul%d(z, x, y *Elem, f *Field) {", n)
	g.load("x", "x", n)
	g.header(n)
	g.p("var %s, %s, %s, %s, c, v, mq uint64", list("t", 0, n+2), list("h", 0, n), list("l", 0, n), list("p", 1, n+1))
	for i := 0; i < n; i++ {
		g.p("// word %d of y", i)
		g.p("v = y[%d]", i)
		g.row(names("x", n), "v")
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
		g.row(names("m", n), "mq")
		g.p("_, c = bits.Add64(t0, l0, 0)")
		for j := 1; j <= n; j++ {
			g.p("t%d, c = bits.Add64(t%d, p%d, c)", j-1, j, j)
		}
		if i == 0 {
			g.p("t%d = c", n)
		} else {
			g.p("t%d, _ = bits.Add64(t%d, 0, c)", n, n+1)
		}
	}
	g.finalSub(n, func(i int) string { return fmt.Sprintf("t%d", i) }, fmt.Sprintf("t%d", n))
	g.p("}")
	g.p("")
}

// sqr emits squaring by separated operand scanning: the 2n-word square from
// n(n-1)/2 cross products (doubled) and n diagonal squares, then a
// word-by-word Montgomery reduction whose carry out of word i+n is held in
// pend and folded into the next row's top word (which is at most 2^64-2).
func (g *gen) sqr(n int) {
	bits := 64 * n
	g.p("// sqr%d sets z = x*x*2^-%d mod m for a modulus m of %d limbs and x < m;", n, bits, n)
	g.p("// z may alias x.")
	g.p("func sqr%d(z, x *Elem, f *Field) {", n)
	g.load("x", "x", n)
	g.header(n)
	g.p("var %s, %s, %s, %s, c, mq, pend uint64", list("r", 0, 2*n), list("h", 0, n), list("l", 0, n), list("p", 1, n+1))
	g.p("// cross products x_i*x_j, i < j")
	for i := 0; i < n-1; i++ {
		var as []string
		for j := i + 1; j < n; j++ {
			as = append(as, fmt.Sprintf("x%d", j))
		}
		k := len(as)
		g.row(as, fmt.Sprintf("x%d", i))
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
		g.p("h%d, l%d = bits.Mul64(x%d, x%d)", i, i, i, i)
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
	g.p("// Montgomery reduction")
	for i := 0; i < n; i++ {
		g.p("mq = r%d * inv", i)
		g.row(names("m", n), "mq")
		if i > 0 {
			g.p("p%d += pend", n)
		}
		g.p("_, c = bits.Add64(r%d, l0, 0)", i)
		for j := 1; j <= n; j++ {
			g.p("r%d, c = bits.Add64(r%d, p%d, c)", i+j, i+j, j)
		}
		g.p("pend = c")
	}
	g.finalSub(n, func(i int) string { return fmt.Sprintf("r%d", n+i) }, "pend")
	g.p("}")
	g.p("")
}

// add emits z = x + y mod m: the n-word sum with its carry, minus m when
// that does not borrow.
func (g *gen) add(n int) {
	g.p("// add%d sets z = x + y mod m for a modulus m of %d limbs and x, y < m.", n, n)
	g.p("func add%d(z, x, y *Elem, f *Field) {", n)
	g.load("m", "f.m", n)
	g.p("var c uint64")
	for i := 0; i < n; i++ {
		g.p("t%d, c := bits.Add64(x[%d], y[%d], c)", i, i, i)
	}
	g.finalSub(n, func(i int) string { return fmt.Sprintf("t%d", i) }, "c")
	g.p("}")
	g.p("")
}

// sub emits z = x - y mod m: the n-word difference, plus m when it borrowed.
func (g *gen) sub(n int) {
	g.p("// sub%d sets z = x - y mod m for a modulus m of %d limbs and x, y < m.", n, n)
	g.p("func sub%d(z, x, y *Elem, f *Field) {", n)
	g.p("var br uint64")
	for i := 0; i < n; i++ {
		g.p("t%d, br := bits.Sub64(x[%d], y[%d], br)", i, i, i)
	}
	g.p("mask := -br")
	g.p("var c uint64")
	for i := 0; i < n; i++ {
		g.p("z[%d], c = bits.Add64(t%d, f.m[%d]&mask, c)", i, i, i)
	}
	g.p("}")
	g.p("")
}

func main() {
	var g gen
	g.p("// Code generated by gen.go; DO NOT EDIT.")
	g.p("")
	g.p("package field")
	g.p("")
	g.p(`import "math/bits"`)
	g.p("")
	for _, n := range []int{4, 8} {
		g.mul(n)
		g.sqr(n)
		g.add(n)
		g.sub(n)
	}
	src, err := format.Source(g.Bytes())
	if err != nil {
		os.WriteFile("arith_gen.go", g.Bytes(), 0o644)
		log.Fatal(err)
	}
	if err := os.WriteFile("arith_gen.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}
