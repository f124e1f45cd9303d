package gost3410

// Scalar multiplication. Secret scalars (nonces, private keys) go through
// baseMult, a fixed-window comb over precomputed multiples of G that reads
// every table entry and branches on nothing secret. Public scalars in
// verification use baseMultVar (the same table, indexed directly) and
// scalarMultVar (width-5 NAF).

// combTable returns comb[i][d-1] = d·16^i·G for every 4-bit window i.
func (c *Curve) combTable() [][combRow]affinePoint {
	c.combOnce.Do(func() { c.comb = c.buildComb(&c.g) })
	return c.comb
}

// buildComb returns table[i][d-1] = d·16^i·P for a point P of order q.
func (c *Curve) buildComb(p *affinePoint) [][combRow]affinePoint {
	windows := 2 * c.size
	table := make([][combRow]affinePoint, windows)
	var base jacobian
	c.setAffine(&base, p)
	pts := make([]jacobian, combRow)
	for i := 0; i < windows; i++ {
		pts[0] = base
		for j := 1; j < combRow; j++ {
			c.add(&pts[j], &pts[j-1], &base)
		}
		c.toAffineBatch(table[i][:], pts)
		for k := 0; k < 4; k++ {
			c.double(&base, &base)
		}
	}
	return table
}

// ctEq returns 1 if x == y and 0 otherwise, for values below 2^63.
func ctEq(x, y uint64) uint64 { return ((x ^ y) - 1) >> 63 }

// lookup sets out to row[d-1], or to zeros when d == 0, reading every entry.
func (c *Curve) lookup(out *affinePoint, row *[combRow]affinePoint, d uint64) {
	n := c.fp.Limbs()
	*out = affinePoint{}
	for j := range row {
		m := -ctEq(uint64(j+1), d)
		e := &row[j]
		for l := 0; l < n; l++ {
			out.x[l] |= e.x[l] & m
			out.y[l] |= e.y[l] & m
		}
	}
}

// selectPoint sets r = a when cond == 1 and r = b when cond == 0.
func (c *Curve) selectPoint(r, a, b *jacobian, cond uint64) {
	m := -cond
	n := c.fp.Limbs()
	for l := 0; l < n; l++ {
		r.x[l] = (a.x[l] & m) | (b.x[l] &^ m)
		r.y[l] = (a.y[l] & m) | (b.y[l] &^ m)
		r.z[l] = (a.z[l] & m) | (b.z[l] &^ m)
	}
}

// digit returns the i-th 4-bit window of the little-endian scalar k.
func digit(k []byte, i int) uint64 { return uint64(k[i>>1]>>(4*uint(i&1))) & 15 }

// baseMult sets r = k·G in constant time for a little-endian scalar k with
// 0 ≤ k < q. With k < q no partial sum can equal ± the next table point, so the
// incomplete mixed addition is exact; the infinite start and zero digits are
// handled by selection.
func (c *Curve) baseMult(r *jacobian, k []byte) {
	table := c.combTable()
	var acc, sum, fresh jacobian
	var t affinePoint
	c.fp.SetOne(&fresh.z)
	for i := range table {
		d := digit(k, i)
		c.lookup(&t, &table[i], d)
		c.addMixed(&sum, &acc, &t)
		fresh.x, fresh.y = t.x, t.y
		c.selectPoint(&sum, &fresh, &sum, c.fp.IsZero(&acc.z))
		c.selectPoint(&acc, &acc, &sum, ctEq(d, 0))
	}
	*r = acc
}

// baseMultVar sets r = k·G for a public little-endian scalar k of any value
// below 2^(8·size).
func (c *Curve) baseMultVar(r *jacobian, k []byte) { c.combMultVar(r, c.combTable(), k) }

// combMultVar sets r = k·P from P's comb table, for a public scalar.
func (c *Curve) combMultVar(r *jacobian, table [][combRow]affinePoint, k []byte) {
	var acc jacobian
	for i := range table {
		if d := digit(k, i); d != 0 {
			c.addMixedVar(&acc, &acc, &table[i][d-1])
		}
	}
	*r = acc
}

// wnafWidth is the NAF width for a variable point (8 odd multiples);
// gWidth the width for the base point, whose 64 odd multiples are computed
// once per curve.
const (
	wnafWidth = 5
	gWidth    = 8
)

// wnaf writes the width-w NAF of the little-endian scalar k into out, which
// must have 8·len(k)+1 entries; every non-zero digit is odd and below 2^(w-1)
// in absolute value.
func wnaf(out []int8, k []byte, w int) {
	nbits := 8 * len(k)
	bit := func(i int) int { return int(k[i>>3]>>(uint(i)&7)) & 1 }
	bits := func(i, n int) int {
		v := 0
		for j := n - 1; j >= 0; j-- {
			v = v<<1 | bit(i+j)
		}
		return v
	}
	for i := range out {
		out[i] = 0
	}
	carry := 0
	for i := 0; i < nbits; {
		if bit(i) == carry {
			i++
			continue
		}
		now := w
		if now > nbits-i {
			now = nbits - i
		}
		word := bits(i, now) + carry
		carry = (word >> (w - 1)) & 1
		word -= carry << w
		out[i] = int8(word)
		i += now
	}
	out[nbits] = int8(carry)
}

// gOddTable returns G, 3G, 5G, …, (2^(gWidth-1)−1)·G in affine form.
func (c *Curve) gOddTable() []affinePoint {
	c.gOddOnce.Do(func() {
		n := 1 << (gWidth - 2)
		pts := make([]jacobian, n)
		var g2 jacobian
		c.setAffine(&pts[0], &c.g)
		c.double(&g2, &pts[0])
		for i := 1; i < n; i++ {
			c.add(&pts[i], &pts[i-1], &g2)
		}
		c.gOdd = make([]affinePoint, n)
		c.toAffineBatch(c.gOdd, pts)
	})
	return c.gOdd
}

// doubleMultVar sets r = z1·G + z2·p for public scalars by Strauss–Shamir:
// one chain of doublings, with width-8 NAF additions of G's precomputed odd
// multiples and width-5 NAF additions of p's.
func (c *Curve) doubleMultVar(r *jacobian, z1 []byte, p *jacobian, z2 []byte) {
	gTbl := c.gOddTable()
	var tbl [1 << (wnafWidth - 2)]jacobian
	var p2 jacobian
	tbl[0] = *p
	c.double(&p2, p)
	for i := 1; i < len(tbl); i++ {
		c.add(&tbl[i], &tbl[i-1], &p2)
	}
	var b1, b2 [8*64 + 1]int8
	d1, d2 := b1[:8*len(z1)+1], b2[:8*len(z2)+1]
	wnaf(d1, z1, gWidth)
	wnaf(d2, z2, wnafWidth)
	var acc, t jacobian
	var ta affinePoint
	for i := len(d1) - 1; i >= 0; i-- {
		if !c.isInfinity(&acc) {
			c.double(&acc, &acc)
		}
		switch d := d2[i]; {
		case d > 0:
			c.add(&acc, &acc, &tbl[d/2])
		case d < 0:
			c.neg(&t, &tbl[-d/2])
			c.add(&acc, &acc, &t)
		}
		switch d := d1[i]; {
		case d > 0:
			c.addMixedVar(&acc, &acc, &gTbl[d/2])
		case d < 0:
			ta.x = gTbl[-d/2].x
			c.fp.Neg(&ta.y, &gTbl[-d/2].y)
			c.addMixedVar(&acc, &acc, &ta)
		}
	}
	*r = acc
}

// scalarMultVar sets r = k·p for a public little-endian scalar k.
func (c *Curve) scalarMultVar(r, p *jacobian, k []byte) {
	var tbl [1 << (wnafWidth - 2)]jacobian // p, 3p, 5p, …, 15p
	var p2 jacobian
	tbl[0] = *p
	c.double(&p2, p)
	for i := 1; i < len(tbl); i++ {
		c.add(&tbl[i], &tbl[i-1], &p2)
	}
	var buf [8*64 + 1]int8
	digits := buf[:8*len(k)+1]
	wnaf(digits, k, wnafWidth)
	var acc, t jacobian
	for i := len(digits) - 1; i >= 0; i-- {
		if !c.isInfinity(&acc) {
			c.double(&acc, &acc)
		}
		switch d := digits[i]; {
		case d > 0:
			c.add(&acc, &acc, &tbl[d/2])
		case d < 0:
			c.neg(&t, &tbl[-d/2])
			c.add(&acc, &acc, &t)
		}
	}
	*r = acc
}
