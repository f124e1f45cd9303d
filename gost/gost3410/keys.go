package gost3410

import (
	"crypto"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// PublicKey is a GOST R 34.10 public key: a point of order q on the set's curve.
type PublicKey struct {
	params *ParamSet
	pt     affinePoint
	ed     *edAffine // the point in Edwards form, for the Edwards sets

	precomputeOnce sync.Once
	tables         atomic.Pointer[keyTables] // set by Precompute
}

// keyTables are a public key's comb tables; one of them is set.
type keyTables struct {
	comb   [][combRow]affinePoint
	edComb [][combRow]edAffine
}

// PrivateKey is a GOST R 34.10 private key. It implements crypto.Signer.
type PrivateKey struct {
	params *ParamSet
	d      fe // Montgomery form mod q, 1 ≤ d < q
	dBytes []byte
	pub    *PublicKey
	// destroyed is set by Destroy: the scalar is zero and Sign refuses.
	destroyed bool
}

// Errors returned for malformed keys.
var (
	ErrKeyLength       = errors.New("gost3410: wrong key length for the parameter set")
	ErrPointNotOnCurve = errors.New("gost3410: public key point is not on the curve")
	ErrPointOrder      = errors.New("gost3410: public key point is not in the subgroup of order q")
	ErrZeroKey         = errors.New("gost3410: private key is zero modulo q")
	ErrDestroyed       = errors.New("gost3410: the private key was destroyed")
)

// NewPublicKey parses raw = X || Y (each little-endian, Size() bytes) and checks
// that the point lies on the curve, is not the identity and has order q.
func NewPublicKey(ps *ParamSet, raw []byte) (*PublicKey, error) {
	c := ps.curve
	if len(raw) != 2*c.size {
		return nil, fmt.Errorf("%w: public key has %d bytes, %s needs %d", ErrKeyLength, len(raw), ps.Name, 2*c.size)
	}
	pub := &PublicKey{params: ps}
	if err := c.fp.SetBytesLE(&pub.pt.x, raw[:c.size]); err != nil {
		return nil, fmt.Errorf("%w: X ≥ p", ErrPointNotOnCurve)
	}
	if err := c.fp.SetBytesLE(&pub.pt.y, raw[c.size:]); err != nil {
		return nil, fmt.Errorf("%w: Y ≥ p", ErrPointNotOnCurve)
	}
	if !c.onCurve(&pub.pt) {
		return nil, ErrPointNotOnCurve
	}
	if c.cofactor != 1 {
		var p, qp jacobian
		c.setAffine(&p, &pub.pt)
		qb := make([]byte, c.size)
		c.q.FillBytes(qb)
		reverse(qb)
		c.scalarMultVar(&qp, &p, qb)
		if !c.isInfinity(&qp) {
			return nil, ErrPointOrder
		}
	}
	pub.prepare()
	return pub, nil
}

// Precompute builds a table of multiples of the key (about 120 KB for a
// 256-bit key, 250–500 KB for 512) that makes later verifications with it
// about twice as fast. It costs about as much as four verifications, so it
// pays for keys that verify many signatures: trust anchors and CA keys kept
// for the life of a process. Safe for concurrent use; later calls do nothing.
func (pub *PublicKey) Precompute() {
	pub.precomputeOnce.Do(func() {
		c := pub.params.curve
		t := &keyTables{}
		if c.ed != nil {
			t.edComb = c.edBuildComb(pub.ed)
		} else {
			t.comb = c.buildComb(&pub.pt)
		}
		pub.tables.Store(t)
	})
}

// prepare caches the Edwards form of the point on Edwards curves.
func (pub *PublicKey) prepare() {
	if c := pub.params.curve; c.ed != nil {
		pub.ed = new(edAffine)
		c.edFromWeierstrass(pub.ed, &pub.pt)
	}
}

// Params returns the key's parameter set.
func (pub *PublicKey) Params() *ParamSet { return pub.params }

// Bytes returns X || Y, each little-endian.
func (pub *PublicKey) Bytes() []byte {
	c := pub.params.curve
	out := make([]byte, 2*c.size)
	c.fp.BytesLE(out[:c.size], &pub.pt.x)
	c.fp.BytesLE(out[c.size:], &pub.pt.y)
	return out
}

// Equal reports whether x is a *PublicKey with the same curve and point.
// Keys on sets that share a curve (cryptopro-a and tc26-256-b) are equal.
func (pub *PublicKey) Equal(x crypto.PublicKey) bool {
	o, ok := x.(*PublicKey)
	if !ok || o.params.curve != pub.params.curve {
		return false
	}
	return subtle.ConstantTimeCompare(pub.Bytes(), o.Bytes()) == 1
}

// NewPrivateKey returns the private key with the little-endian scalar raw of
// Size() bytes. A scalar ≥ q is reduced modulo q (the key is the same); zero
// is refused.
func NewPrivateKey(ps *ParamSet, raw []byte) (*PrivateKey, error) {
	c := ps.curve
	if len(raw) != c.size {
		return nil, fmt.Errorf("%w: private key has %d bytes, %s needs %d", ErrKeyLength, len(raw), ps.Name, c.size)
	}
	k := &PrivateKey{params: ps, dBytes: make([]byte, c.size)}
	c.fq.Reduce(&k.d, raw)
	if c.fq.IsZero(&k.d) == 1 {
		return nil, ErrZeroKey
	}
	c.fq.BytesLE(k.dBytes, &k.d)
	k.pub = &PublicKey{params: ps}
	c.mulBaseAffine(&k.pub.pt, k.dBytes)
	k.pub.prepare()
	return k, nil
}

// GenerateKey returns a new private key with a scalar drawn uniformly from
// [1, q−1] using rand (crypto/rand when nil).
func GenerateKey(ps *ParamSet, rand io.Reader) (*PrivateKey, error) {
	c := ps.curve
	var d fe
	buf := make([]byte, c.size+16)
	for {
		if err := randomScalar(c, &d, rand, buf); err != nil {
			return nil, err
		}
		if c.fq.IsZero(&d) == 0 {
			break
		}
	}
	raw := make([]byte, c.size)
	c.fq.BytesLE(raw, &d)
	return NewPrivateKey(ps, raw)
}

// randomScalar sets d to a uniform value mod q from 128 more random bits than q has.
func randomScalar(c *Curve, d *fe, r io.Reader, buf []byte) error {
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, buf); err != nil {
		return fmt.Errorf("gost3410: reading randomness: %w", err)
	}
	c.fq.Reduce(d, buf)
	return nil
}

// Params returns the key's parameter set.
func (k *PrivateKey) Params() *ParamSet { return k.params }

// Bytes returns the little-endian scalar d (Size() bytes).
func (k *PrivateKey) Bytes() []byte { return append([]byte(nil), k.dBytes...) }

// Public returns the *PublicKey.
func (k *PrivateKey) Public() crypto.PublicKey { return k.pub }

// PublicKey returns the public key.
func (k *PrivateKey) PublicKey() *PublicKey { return k.pub }

// Destroy zeroes the key's scalar, for a key that must not outlive its use
// (one decrypted from a key container for one operation). Sign fails with
// ErrDestroyed afterwards; the public key stays. It must not be called while
// Sign runs on the key.
func (k *PrivateKey) Destroy() {
	k.d = fe{}
	clear(k.dBytes)
	k.destroyed = true
}

// Equal reports whether x is a *PrivateKey with the same curve and scalar.
func (k *PrivateKey) Equal(x crypto.PrivateKey) bool {
	o, ok := x.(*PrivateKey)
	return ok && o.params.curve == k.params.curve && subtle.ConstantTimeCompare(k.dBytes, o.dBytes) == 1
}

func reverse(b []byte) {
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
}
