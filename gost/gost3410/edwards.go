package gost3410

import (
	"math/big"
	"sync"
)

// Twisted Edwards arithmetic for the two parameter sets that have an Edwards
// form (tc26-256-a and tc26-512-c, RFC 7836): e·u² + v² = 1 + d·u²v² with
// e = 1 and d a non-square, for which the extended-coordinate formulas of
// Hisil–Wong–Carter–Dawson are complete — no exceptional cases, so the
// constant-time comb needs no special handling of the identity. Points enter
// and leave in the short Weierstrass form of keys and signatures through the
// birational map of RFC 7836:
//
//	u = (x − t)/y, v = (x − t − s)/(x − t + s);  x = s(1+v)/(1−v) + t, y = s(1+v)/((1−v)u)
//
// with s = (e − d)/4 and t = (e + d)/6.

// edParams holds a curve's Edwards constants in field form.
type edParams struct {
	d, s, t fe

	combOnce sync.Once
	comb     [][combRow]edAffine
	gOddOnce sync.Once
	gOdd     []edAffine
}

// edPoint is (X : Y : Z : T) with u = X/Z, v = Y/Z, uv = T/Z.
type edPoint struct{ x, y, z, t fe }

// edAffine is a point prepared for mixed addition: u, v, u+v and d·u·v.
type edAffine struct{ u, v, upv, duv fe }

// edwardsSpecs gives the Edwards d of each Edwards curve (e = 1 for both).
var edwardsSpecs = map[string]string{
	"tc26-256-a": "0605F6B7C183FA81578BC39CFAD518132B9DF62897009AF7E522C32D6DC7BFFB",
	"tc26-512-c": "9E4F5D8C017D8D9F13A5CF3CDF5BFE4DAB402D54198E31EBDE28A0621050439CA6B39E0A515C06B304E2CE43E79E369E91A0CFC2BC2A22B4CA302DBB33EE7550",
}

// newEdParams returns the Edwards constants for a curve, or nil.
func newEdParams(c *Curve) (*edParams, error) {
	dh, ok := edwardsSpecs[c.name]
	if !ok {
		return nil, nil
	}
	d := hexInt(dh)
	e := big.NewInt(1)
	inv := func(v int64) *big.Int { return new(big.Int).ModInverse(big.NewInt(v), c.p) }
	s := new(big.Int).Sub(e, d)
	s.Mul(s, inv(4)).Mod(s, c.p)
	t := new(big.Int).Add(e, d)
	t.Mul(t, inv(6)).Mod(t, c.p)
	ep := &edParams{}
	for _, kv := range []struct {
		dst *fe
		v   *big.Int
	}{{&ep.d, d}, {&ep.s, s}, {&ep.t, t}} {
		if err := c.fp.SetBig(kv.dst, kv.v); err != nil {
			return nil, err
		}
	}
	return ep, nil
}

// edFromWeierstrass maps a finite Weierstrass point of odd order to Edwards
// affine form (variable time: public points and table building only).
func (c *Curve) edFromWeierstrass(out *edAffine, pt *affinePoint) {
	f, ep := c.fp, c.ed
	var xt, num, den, inv fe
	f.Sub(&xt, &pt.x, &ep.t)
	f.Inv(&inv, &pt.y)
	f.Mul(&out.u, &xt, &inv)
	f.Sub(&num, &xt, &ep.s)
	f.Add(&den, &xt, &ep.s)
	f.Inv(&inv, &den)
	f.Mul(&out.v, &num, &inv)
	c.edPrepare(out)
}

func (c *Curve) edPrepare(a *edAffine) {
	f := c.fp
	f.Add(&a.upv, &a.u, &a.v)
	f.Mul(&a.duv, &a.u, &a.v)
	f.Mul(&a.duv, &a.duv, &c.ed.d)
}

func (c *Curve) edSetAffine(r *edPoint, a *edAffine) {
	r.x, r.y = a.u, a.v
	c.fp.SetOne(&r.z)
	c.fp.Mul(&r.t, &a.u, &a.v)
}

func (c *Curve) edIdentity(r *edPoint) {
	*r = edPoint{}
	c.fp.SetOne(&r.y)
	c.fp.SetOne(&r.z)
}

// edDouble sets r = 2p (dbl-2008-hwcd with a = 1, E = 2XY: 5M + 3S).
func (c *Curve) edDouble(r, p *edPoint) { c.edDoubleT(r, p, true) }

// edDoubleT is edDouble that leaves T stale when withT is false: a doubling
// followed by another doubling does not read T, saving one multiplication.
// E = 2XY is one multiplication and one addition where (X+Y)² − A − B is a
// squaring, an addition and two subtractions: fewer instructions with this
// package's field code (callgrind).
func (c *Curve) edDoubleT(r, p *edPoint, withT bool) {
	f := c.fp
	var a, b, cc, e, g, ff, h fe
	f.Sqr(&a, &p.x)
	f.Sqr(&b, &p.y)
	f.Sqr(&cc, &p.z)
	f.Add(&cc, &cc, &cc)
	f.Mul(&e, &p.x, &p.y)
	f.Add(&e, &e, &e)
	f.Add(&g, &a, &b)
	f.Sub(&ff, &g, &cc)
	f.Sub(&h, &a, &b)
	f.Mul(&r.x, &e, &ff)
	f.Mul(&r.y, &g, &h)
	if withT {
		f.Mul(&r.t, &e, &h)
	}
	f.Mul(&r.z, &ff, &g)
}

// edAdd sets r = p + q (add-2008-hwcd with a = 1: 9M + 1·d), complete.
func (c *Curve) edAdd(r, p, q *edPoint) { c.edAddT(r, p, q, true) }

// edAddT is edAdd that leaves T stale when withT is false (an addition
// followed by a doubling, which does not read T), saving one multiplication.
func (c *Curve) edAddT(r, p, q *edPoint, withT bool) {
	f := c.fp
	var a, b, cc, d, e, t1, t2, ff, g, h fe
	f.Mul(&a, &p.x, &q.x)
	f.Mul(&b, &p.y, &q.y)
	f.Mul(&cc, &p.t, &q.t)
	f.Mul(&cc, &cc, &c.ed.d)
	f.Mul(&d, &p.z, &q.z)
	f.Add(&t1, &p.x, &p.y)
	f.Add(&t2, &q.x, &q.y)
	f.Mul(&e, &t1, &t2)
	f.Sub(&e, &e, &a)
	f.Sub(&e, &e, &b)
	f.Sub(&ff, &d, &cc)
	f.Add(&g, &d, &cc)
	f.Sub(&h, &b, &a)
	f.Mul(&r.x, &e, &ff)
	f.Mul(&r.y, &g, &h)
	if withT {
		f.Mul(&r.t, &e, &h)
	}
	f.Mul(&r.z, &ff, &g)
}

// edAddAffine sets r = p + q for a prepared affine q (8M), complete.
func (c *Curve) edAddAffine(r, p *edPoint, q *edAffine) { c.edAddAffineT(r, p, q, true) }

// edAddAffineT is edAddAffine that leaves T stale when withT is false.
func (c *Curve) edAddAffineT(r, p *edPoint, q *edAffine, withT bool) {
	f := c.fp
	var a, b, cc, e, ff, g, h fe
	f.Mul(&a, &p.x, &q.u)
	f.Mul(&b, &p.y, &q.v)
	f.Mul(&cc, &p.t, &q.duv)
	f.Add(&e, &p.x, &p.y)
	f.Mul(&e, &e, &q.upv)
	f.Sub(&e, &e, &a)
	f.Sub(&e, &e, &b)
	f.Sub(&ff, &p.z, &cc)
	f.Add(&g, &p.z, &cc)
	f.Sub(&h, &b, &a)
	f.Mul(&r.x, &e, &ff)
	f.Mul(&r.y, &g, &h)
	if withT {
		f.Mul(&r.t, &e, &h)
	}
	f.Mul(&r.z, &ff, &g)
}

func (c *Curve) edNeg(r, p *edPoint) {
	c.fp.Neg(&r.x, &p.x)
	r.y, r.z = p.y, p.z
	c.fp.Neg(&r.t, &p.t)
}

func (c *Curve) edIsIdentity(p *edPoint) bool {
	return c.fp.IsZero(&p.x) == 1 && c.fp.Equal(&p.y, &p.z) == 1
}

// edCombTable returns comb[i][d-1] = d·16^i·G in prepared affine form.
func (c *Curve) edCombTable() [][combRow]edAffine {
	ep := c.ed
	ep.combOnce.Do(func() {
		var g edAffine
		c.edFromWeierstrass(&g, &c.g)
		ep.comb = c.edBuildComb(&g)
	})
	return ep.comb
}

// edBuildComb returns table[i][d-1] = d·16^i·P in prepared affine form.
func (c *Curve) edBuildComb(p *edAffine) [][combRow]edAffine {
	f := c.fp
	windows := 2 * c.size
	table := make([][combRow]edAffine, windows)
	var base edPoint
	c.edSetAffine(&base, p)
	pts := make([]edPoint, combRow)
	zs := make([]fe, combRow)
	for i := 0; i < windows; i++ {
		pts[0] = base
		for j := 1; j < combRow; j++ {
			c.edAdd(&pts[j], &pts[j-1], &base)
		}
		// batch-normalise: one inversion per window
		acc := pts[0].z
		zs[0] = acc
		for j := 1; j < combRow; j++ {
			f.Mul(&acc, &acc, &pts[j].z)
			zs[j] = acc
		}
		var inv fe
		f.Inv(&inv, &acc)
		for j := combRow - 1; j >= 0; j-- {
			var zinv fe
			if j > 0 {
				f.Mul(&zinv, &inv, &zs[j-1])
				f.Mul(&inv, &inv, &pts[j].z)
			} else {
				zinv = inv
			}
			e := &table[i][j]
			f.Mul(&e.u, &pts[j].x, &zinv)
			f.Mul(&e.v, &pts[j].y, &zinv)
			c.edPrepare(e)
		}
		for k := 0; k < 4; k++ {
			c.edDouble(&base, &base)
		}
	}
	return table
}

// edLookup sets out to row[d-1], or to the identity when d == 0, reading
// every entry.
func (c *Curve) edLookup(out *edAffine, row *[combRow]edAffine, d uint64) {
	n := c.fp.Limbs()
	*out = edAffine{}
	for j := range row {
		m := -ctEq(uint64(j+1), d)
		e := &row[j]
		for l := 0; l < n; l++ {
			out.u[l] |= e.u[l] & m
			out.v[l] |= e.v[l] & m
			out.upv[l] |= e.upv[l] & m
			out.duv[l] |= e.duv[l] & m
		}
	}
	var one fe
	c.fp.SetOne(&one)
	m := -ctEq(d, 0)
	for l := 0; l < n; l++ {
		out.v[l] |= one[l] & m
		out.upv[l] |= one[l] & m
	}
}

// edBaseMult sets r = k·G in constant time; the complete formulas make the
// identity an ordinary table entry.
func (c *Curve) edBaseMult(r *edPoint, k []byte) {
	table := c.edCombTable()
	var t edAffine
	c.edIdentity(r)
	for i := range table {
		c.edLookup(&t, &table[i], digit(k, i))
		c.edAddAffine(r, r, &t)
	}
}

// edBaseMultVar is edBaseMult for public scalars.
func (c *Curve) edBaseMultVar(r *edPoint, k []byte) { c.edCombMultVar(r, c.edCombTable(), k) }

// edCombMultVar sets r = k·P from P's comb table, for a public scalar.
func (c *Curve) edCombMultVar(r *edPoint, table [][combRow]edAffine, k []byte) {
	c.edIdentity(r)
	for i := range table {
		if d := digit(k, i); d != 0 {
			c.edAddAffine(r, r, &table[i][d-1])
		}
	}
}

// edScalarMultVar sets r = k·p for a public scalar (width-5 NAF).
func (c *Curve) edScalarMultVar(r, p *edPoint, k []byte) {
	var tbl [1 << (wnafWidth - 2)]edPoint
	var p2 edPoint
	tbl[0] = *p
	c.edDouble(&p2, p)
	for i := 1; i < len(tbl); i++ {
		c.edAdd(&tbl[i], &tbl[i-1], &p2)
	}
	var buf [8*64 + 1]int8
	digits := buf[:8*len(k)+1]
	wnaf(digits, k, wnafWidth)
	var t edPoint
	c.edIdentity(r)
	for i := len(digits) - 1; i >= 0; i-- {
		c.edDouble(r, r)
		switch d := digits[i]; {
		case d > 0:
			c.edAdd(r, r, &tbl[d/2])
		case d < 0:
			c.edNeg(&t, &tbl[-d/2])
			c.edAdd(r, r, &t)
		}
	}
}

// edToWeierstrass converts a point other than the identity and the point of
// order two to Weierstrass affine form with one (constant-time) inversion:
// with w = (Z − Y)·X, x = s(Z+Y)·X/w + t and y = s(Z+Y)·Z/w.
func (c *Curve) edToWeierstrass(out *affinePoint, p *edPoint) {
	f, ep := c.fp, c.ed
	var zmy, zpy, w, inv fe
	f.Sub(&zmy, &p.z, &p.y)
	f.Add(&zpy, &p.z, &p.y)
	f.Mul(&zpy, &zpy, &ep.s)
	f.Mul(&w, &zmy, &p.x)
	f.Inv(&inv, &w)
	f.Mul(&inv, &inv, &zpy) // s(Z+Y)/w
	f.Mul(&out.x, &inv, &p.x)
	f.Add(&out.x, &out.x, &ep.t)
	f.Mul(&out.y, &inv, &p.z)
}

// edXModQIs is xModQIs for an Edwards point: x = s(Z+Y)/(Z−Y) + t, so each
// candidate c for x must satisfy (c − t)(Z − Y) = s(Z + Y).
func (c *Curve) edXModQIs(p *edPoint, rBE []byte) bool {
	f, ep := c.fp, c.ed
	var zmy, rhs, cand, lhs fe
	f.Sub(&zmy, &p.z, &p.y)
	if f.IsZero(&zmy) == 1 {
		return false
	}
	f.Add(&rhs, &p.z, &p.y)
	f.Mul(&rhs, &rhs, &ep.s)
	v := new(big.Int).SetBytes(rBE)
	for ; v.Cmp(c.p) < 0; v.Add(v, c.q) {
		if err := f.SetBig(&cand, v); err != nil {
			return false
		}
		f.Sub(&lhs, &cand, &ep.t)
		f.Mul(&lhs, &lhs, &zmy)
		if f.Equal(&lhs, &rhs) == 1 {
			return true
		}
	}
	return false
}

// edGOddTable returns G, 3G, …, (2^(gWidth-1)−1)·G in prepared affine form.
func (c *Curve) edGOddTable() []edAffine {
	ep := c.ed
	ep.gOddOnce.Do(func() {
		f := c.fp
		n := 1 << (gWidth - 2)
		var g edAffine
		c.edFromWeierstrass(&g, &c.g)
		pts := make([]edPoint, n)
		var g2 edPoint
		c.edSetAffine(&pts[0], &g)
		c.edDouble(&g2, &pts[0])
		for i := 1; i < n; i++ {
			c.edAdd(&pts[i], &pts[i-1], &g2)
		}
		ep.gOdd = make([]edAffine, n)
		for i := range pts { // once per curve: plain inversions suffice
			var zinv fe
			f.Inv(&zinv, &pts[i].z)
			f.Mul(&ep.gOdd[i].u, &pts[i].x, &zinv)
			f.Mul(&ep.gOdd[i].v, &pts[i].y, &zinv)
			c.edPrepare(&ep.gOdd[i])
		}
	})
	return ep.gOdd
}

// edDoubleMultVar sets r = z1·G + z2·p for public scalars (Strauss–Shamir,
// as doubleMultVar). r's T is left stale (the last addition does not compute
// it): r is for edIsIdentity, edXModQIs and edToWeierstrass, which read X, Y
// and Z only.
func (c *Curve) edDoubleMultVar(r *edPoint, z1 []byte, p *edPoint, z2 []byte) {
	f := c.fp
	gTbl := c.edGOddTable()
	var tbl [1 << (wnafWidth - 2)]edPoint
	var p2 edPoint
	tbl[0] = *p
	c.edDouble(&p2, p)
	for i := 1; i < len(tbl); i++ {
		c.edAdd(&tbl[i], &tbl[i-1], &p2)
	}
	var b1, b2 [8*64 + 1]int8
	d1, d2 := b1[:8*len(z1)+1], b2[:8*len(z2)+1]
	wnaf(d1, z1, gWidth)
	wnaf(d2, z2, wnafWidth)
	var t edPoint
	var ta edAffine
	c.edIdentity(r)
	for i := len(d1) - 1; i >= 0; i-- {
		c.edDoubleT(r, r, d1[i] != 0 || d2[i] != 0)
		// T is read by a following addition only, not by a doubling
		switch d := d2[i]; {
		case d > 0:
			c.edAddT(r, r, &tbl[d/2], d1[i] != 0)
		case d < 0:
			c.edNeg(&t, &tbl[-d/2])
			c.edAddT(r, r, &t, d1[i] != 0)
		}
		switch d := d1[i]; {
		case d > 0:
			c.edAddAffineT(r, r, &gTbl[d/2], false)
		case d < 0:
			g := &gTbl[-d/2]
			f.Neg(&ta.u, &g.u)
			ta.v = g.v
			f.Sub(&ta.upv, &g.v, &g.u)
			f.Neg(&ta.duv, &g.duv)
			c.edAddAffineT(r, r, &ta, false)
		}
	}
}
