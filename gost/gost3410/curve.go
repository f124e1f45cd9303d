package gost3410

import (
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/kepkit/kep/gost/internal/field"
)

type fe = field.Elem

// Curve is a short Weierstrass curve y² = x³ + ax + b over GF(p) with a base
// point G of prime order q. Curves are built once from published constants and
// shared by the parameter sets that name them; they are safe for concurrent use.
type Curve struct {
	name      string
	size      int // bytes of a coordinate, scalar and digest
	fp, fq    *field.Field
	a, b      fe // Montgomery form
	aIsMinus3 bool
	g         affinePoint
	p, q      *big.Int
	cofactor  int64
	spec      *curveSpec

	combOnce sync.Once
	comb     [][combRow]affinePoint // comb[i][d-1] = d·16^i·G, affine
	gOddOnce sync.Once
	gOdd     []affinePoint // odd multiples of G for verification

	// ed is set for the curves with a twisted Edwards form, which then
	// compute in Edwards coordinates (edwards.go).
	ed *edParams
}

// combRow is the number of non-zero 4-bit digits: one table entry each.
const combRow = 15

type affinePoint struct{ x, y fe }

// jacobian is a point (X/Z², Y/Z³); Z = 0 is the point at infinity.
type jacobian struct{ x, y, z fe }

// Name returns the curve's name.
func (c *Curve) Name() string { return c.name }

// P returns a copy of the field prime.
func (c *Curve) P() *big.Int { return new(big.Int).Set(c.p) }

// Q returns a copy of the prime order of the base point.
func (c *Curve) Q() *big.Int { return new(big.Int).Set(c.q) }

// Cofactor returns the curve's cofactor (1, or 4 for the twisted Edwards sets).
func (c *Curve) Cofactor() int64 { return c.cofactor }

func mustCurve(s *curveSpec) *Curve {
	c, err := newCurve(s)
	if err != nil {
		panic(fmt.Sprintf("gost3410: curve %s: %v", s.name, err))
	}
	return c
}

func newCurve(s *curveSpec) (*Curve, error) {
	p, q := hexInt(s.p), hexInt(s.q)
	fp, err := field.New(p)
	if err != nil {
		return nil, err
	}
	fq, err := field.New(q)
	if err != nil {
		return nil, err
	}
	c := &Curve{name: s.name, size: fp.Size(), fp: fp, fq: fq, p: p, q: q, cofactor: s.cofactor, spec: s}
	if fq.Size() != c.size {
		return nil, errors.New("field and group sizes differ")
	}
	a := hexInt(s.a)
	for _, kv := range []struct {
		dst *fe
		v   *big.Int
	}{{&c.a, a}, {&c.b, hexInt(s.b)}, {&c.g.x, hexInt(s.gx)}, {&c.g.y, hexInt(s.gy)}} {
		if err := fp.SetBig(kv.dst, kv.v); err != nil {
			return nil, err
		}
	}
	c.aIsMinus3 = new(big.Int).Sub(p, a).Cmp(big.NewInt(3)) == 0
	if !c.onCurve(&c.g) {
		return nil, errors.New("base point is not on the curve")
	}
	if c.ed, err = newEdParams(c); err != nil {
		return nil, err
	}
	return c, nil
}

// mulBaseAffine sets out = k·G in Weierstrass affine form, in constant time,
// for a little-endian scalar 0 < k < q.
func (c *Curve) mulBaseAffine(out *affinePoint, k []byte) {
	if c.ed != nil {
		var p edPoint
		c.edBaseMult(&p, k)
		c.edToWeierstrass(out, &p)
		return
	}
	var p jacobian
	c.baseMult(&p, k)
	c.toAffine(out, &p)
}

// combinationXModQIs reports whether the point z1·G + z2·Q is finite and its
// affine x reduced mod q equals the big-endian rBE (the verification equation).
func (c *Curve) combinationXModQIs(z1, z2 []byte, pub *PublicKey, rBE []byte) bool {
	tables := pub.tables.Load()
	if c.ed != nil {
		var sum, qz, qe edPoint
		if tables != nil {
			c.edBaseMultVar(&sum, z1)
			c.edCombMultVar(&qz, tables.edComb, z2)
			c.edAdd(&sum, &sum, &qz)
		} else {
			c.edSetAffine(&qe, pub.ed)
			c.edDoubleMultVar(&sum, z1, &qe, z2)
		}
		return !c.edIsIdentity(&sum) && c.edXModQIs(&sum, rBE)
	}
	var sum, qz, qj jacobian
	if tables != nil {
		c.baseMultVar(&sum, z1)
		c.combMultVar(&qz, tables.comb, z2)
		c.add(&sum, &sum, &qz)
	} else {
		c.setAffine(&qj, &pub.pt)
		c.doubleMultVar(&sum, z1, &qj, z2)
	}
	return !c.isInfinity(&sum) && c.xModQIs(&sum, rBE)
}

// onCurve reports whether y² = x³ + ax + b.
func (c *Curve) onCurve(pt *affinePoint) bool {
	f := c.fp
	var lhs, rhs, t fe
	f.Sqr(&lhs, &pt.y)
	f.Sqr(&rhs, &pt.x)
	f.Add(&rhs, &rhs, &c.a)
	f.Mul(&rhs, &rhs, &pt.x)
	f.Add(&rhs, &rhs, &c.b)
	f.Sub(&t, &lhs, &rhs)
	return f.IsZero(&t) == 1
}

func (c *Curve) setAffine(r *jacobian, pt *affinePoint) {
	r.x, r.y = pt.x, pt.y
	c.fp.SetOne(&r.z)
}

// toAffine converts a finite point; constant time (the inversion is Fermat's).
func (c *Curve) toAffine(out *affinePoint, pt *jacobian) {
	f := c.fp
	var zinv, zinv2 fe
	f.Inv(&zinv, &pt.z)
	f.Sqr(&zinv2, &zinv)
	f.Mul(&out.x, &pt.x, &zinv2)
	f.Mul(&zinv2, &zinv2, &zinv)
	f.Mul(&out.y, &pt.y, &zinv2)
}

// toAffineBatch converts finite points with one inversion (Montgomery's trick).
func (c *Curve) toAffineBatch(out []affinePoint, pts []jacobian) {
	f := c.fp
	prefix := make([]fe, len(pts))
	acc := pts[0].z
	prefix[0] = acc
	for i := 1; i < len(pts); i++ {
		f.Mul(&acc, &acc, &pts[i].z)
		prefix[i] = acc
	}
	var inv fe
	f.Inv(&inv, &acc)
	for i := len(pts) - 1; i >= 0; i-- {
		var zinv, zinv2 fe
		if i > 0 {
			f.Mul(&zinv, &inv, &prefix[i-1])
			f.Mul(&inv, &inv, &pts[i].z)
		} else {
			zinv = inv
		}
		f.Sqr(&zinv2, &zinv)
		f.Mul(&out[i].x, &pts[i].x, &zinv2)
		f.Mul(&zinv2, &zinv2, &zinv)
		f.Mul(&out[i].y, &pts[i].y, &zinv2)
	}
}

// double sets r = 2p; r may alias p. The point at infinity and points of order
// two double to infinity without special cases.
func (c *Curve) double(r, p *jacobian) {
	f := c.fp
	if c.aIsMinus3 {
		// dbl-2001-b: 3M + 5S.
		var delta, gamma, beta, alpha, t1, t2 fe
		f.Sqr(&delta, &p.z)
		f.Sqr(&gamma, &p.y)
		f.Mul(&beta, &p.x, &gamma)
		f.Sub(&t1, &p.x, &delta)
		f.Add(&t2, &p.x, &delta)
		f.Mul(&alpha, &t1, &t2)
		f.Add(&t1, &alpha, &alpha)
		f.Add(&alpha, &t1, &alpha)
		f.Add(&t1, &p.y, &p.z)
		f.Sqr(&t1, &t1)
		f.Sub(&t1, &t1, &gamma)
		f.Sub(&r.z, &t1, &delta)
		f.Add(&beta, &beta, &beta)
		f.Add(&beta, &beta, &beta) // 4β
		f.Sqr(&t1, &alpha)
		f.Sub(&t1, &t1, &beta)
		f.Sub(&r.x, &t1, &beta)
		f.Sub(&t2, &beta, &r.x)
		f.Mul(&t2, &alpha, &t2)
		f.Sqr(&gamma, &gamma)
		f.Add(&gamma, &gamma, &gamma)
		f.Add(&gamma, &gamma, &gamma)
		f.Add(&gamma, &gamma, &gamma) // 8γ²
		f.Sub(&r.y, &t2, &gamma)
		return
	}
	// dbl-2007-bl: 1M + 8S + 1·a.
	var xx, yy, yyyy, zz, s, m, t fe
	f.Sqr(&xx, &p.x)
	f.Sqr(&yy, &p.y)
	f.Sqr(&yyyy, &yy)
	f.Sqr(&zz, &p.z)
	f.Add(&s, &p.x, &yy)
	f.Sqr(&s, &s)
	f.Sub(&s, &s, &xx)
	f.Sub(&s, &s, &yyyy)
	f.Add(&s, &s, &s)
	f.Add(&m, &xx, &xx)
	f.Add(&m, &m, &xx)
	f.Sqr(&t, &zz)
	f.Mul(&t, &t, &c.a)
	f.Add(&m, &m, &t)
	f.Add(&r.z, &p.y, &p.z)
	f.Sqr(&r.z, &r.z)
	f.Sub(&r.z, &r.z, &yy)
	f.Sub(&r.z, &r.z, &zz)
	f.Sqr(&t, &m)
	f.Sub(&t, &t, &s)
	f.Sub(&r.x, &t, &s)
	f.Sub(&t, &s, &r.x)
	f.Mul(&t, &m, &t)
	f.Add(&yyyy, &yyyy, &yyyy)
	f.Add(&yyyy, &yyyy, &yyyy)
	f.Add(&yyyy, &yyyy, &yyyy)
	f.Sub(&r.y, &t, &yyyy)
}

// add sets r = p1 + p2 for any points, including equal, opposite and
// infinite ones. Variable time: for public data only.
func (c *Curve) add(r, p1, p2 *jacobian) {
	f := c.fp
	if f.IsZero(&p1.z) == 1 {
		*r = *p2
		return
	}
	if f.IsZero(&p2.z) == 1 {
		*r = *p1
		return
	}
	// add-2007-bl: 11M + 5S.
	var z1z1, z2z2, u1, u2, s1, s2, h, i, j, rr, v, z3 fe
	f.Sqr(&z1z1, &p1.z)
	f.Sqr(&z2z2, &p2.z)
	f.Mul(&u1, &p1.x, &z2z2)
	f.Mul(&u2, &p2.x, &z1z1)
	f.Mul(&s1, &p1.y, &p2.z)
	f.Mul(&s1, &s1, &z2z2)
	f.Mul(&s2, &p2.y, &p1.z)
	f.Mul(&s2, &s2, &z1z1)
	f.Sub(&h, &u2, &u1)
	f.Sub(&rr, &s2, &s1)
	if f.IsZero(&h) == 1 {
		if f.IsZero(&rr) == 1 {
			c.double(r, p1)
		} else {
			*r = jacobian{}
		}
		return
	}
	f.Add(&rr, &rr, &rr)
	f.Add(&i, &h, &h)
	f.Sqr(&i, &i)
	f.Mul(&j, &h, &i)
	f.Mul(&v, &u1, &i)
	f.Add(&z3, &p1.z, &p2.z)
	f.Sqr(&z3, &z3)
	f.Sub(&z3, &z3, &z1z1)
	f.Sub(&z3, &z3, &z2z2)
	f.Mul(&r.z, &z3, &h)
	f.Sqr(&r.x, &rr)
	f.Sub(&r.x, &r.x, &j)
	f.Sub(&r.x, &r.x, &v)
	f.Sub(&r.x, &r.x, &v)
	f.Sub(&v, &v, &r.x)
	f.Mul(&v, &v, &rr)
	f.Mul(&s1, &s1, &j)
	f.Add(&s1, &s1, &s1)
	f.Sub(&r.y, &v, &s1)
}

// addMixed sets r = p + q for a finite affine q with the formula madd-2007-bl
// (7M + 4S), without branches. The result is meaningless when p is infinity or
// p = ±q; hZero and rZero (1 or 0) tell the caller which case it hit: hZero
// with rZero means p = q, hZero alone means p = −q.
func (c *Curve) addMixed(r, p *jacobian, q *affinePoint) (hZero, rZero uint64) {
	f := c.fp
	var z1z1, u2, s2, h, hh, i, j, rr, v, t fe
	f.Sqr(&z1z1, &p.z)
	f.Mul(&u2, &q.x, &z1z1)
	f.Mul(&s2, &q.y, &p.z)
	f.Mul(&s2, &s2, &z1z1)
	f.Sub(&h, &u2, &p.x)
	f.Sub(&rr, &s2, &p.y)
	hZero, rZero = f.IsZero(&h), f.IsZero(&rr)
	f.Sqr(&hh, &h)
	f.Add(&i, &hh, &hh)
	f.Add(&i, &i, &i)
	f.Mul(&j, &h, &i)
	f.Add(&rr, &rr, &rr)
	f.Mul(&v, &p.x, &i)
	f.Mul(&t, &p.y, &j) // Y1·J, before r overwrites p
	f.Add(&r.z, &p.z, &h)
	f.Sqr(&r.z, &r.z)
	f.Sub(&r.z, &r.z, &z1z1)
	f.Sub(&r.z, &r.z, &hh)
	f.Sqr(&r.x, &rr)
	f.Sub(&r.x, &r.x, &j)
	f.Sub(&r.x, &r.x, &v)
	f.Sub(&r.x, &r.x, &v)
	f.Sub(&v, &v, &r.x)
	f.Mul(&v, &v, &rr)
	f.Add(&t, &t, &t)
	f.Sub(&r.y, &v, &t)
	return hZero, rZero
}

// addMixedVar is addMixed for public data, correct for every input.
func (c *Curve) addMixedVar(r, p *jacobian, q *affinePoint) {
	if c.fp.IsZero(&p.z) == 1 {
		c.setAffine(r, q)
		return
	}
	saved := *p
	hZero, rZero := c.addMixed(r, p, q)
	if hZero == 1 {
		if rZero == 1 {
			c.double(r, &saved)
		} else {
			*r = jacobian{}
		}
	}
}

func (c *Curve) neg(r, p *jacobian) {
	r.x, r.z = p.x, p.z
	c.fp.Neg(&r.y, &p.y)
}

func (c *Curve) isInfinity(p *jacobian) bool { return c.fp.IsZero(&p.z) == 1 }
