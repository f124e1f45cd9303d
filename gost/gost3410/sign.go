package gost3410

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/kepkit/kep/gost/internal/field"
)

// Errors returned by signing and verification.
var (
	ErrDigestLength    = errors.New("gost3410: digest length does not match the parameter set")
	ErrSignatureLength = errors.New("gost3410: signature length does not match the parameter set")
	ErrSignatureRange  = errors.New("gost3410: signature component r or s is zero or not below q")
	ErrVerification    = errors.New("gost3410: signature does not verify")
)

// Sign signs digest, the Streebog hash of the message as the hash emits it
// (Size() bytes), and returns s || r big-endian (2·Size() bytes). The nonce is
// read from rand (crypto/rand when nil). opts is not consulted: the digest
// length alone selects the algorithm, as with PKCS#11 CKM_GOSTR3410.
func (k *PrivateKey) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if k.destroyed {
		return nil, ErrDestroyed
	}
	c := k.params.curve
	if len(digest) != c.size {
		return nil, fmt.Errorf("%w: got %d bytes, %s needs %d", ErrDigestLength, len(digest), k.params.Name, c.size)
	}
	var e, nonce fe
	c.digestScalar(&e, digest)
	buf := make([]byte, c.size+16)
	for {
		if err := randomScalar(c, &nonce, rand, buf); err != nil {
			return nil, err
		}
		if c.fq.IsZero(&nonce) == 1 {
			continue
		}
		if sig := k.signWithNonce(&e, &nonce); sig != nil {
			return sig, nil
		}
	}
}

// digestScalar sets e to the little-endian digest mod q, or 1 when that is zero.
func (c *Curve) digestScalar(e *fe, digest []byte) {
	var one fe
	c.fq.Reduce(e, digest)
	c.fq.SetOne(&one)
	field.Select(e, &one, e, c.fq.IsZero(e))
}

// signWithNonce computes the signature for the digest scalar e and a nonce in
// [1, q−1], or returns nil in the negligible case r = 0 or s = 0.
func (k *PrivateKey) signWithNonce(e, nonce *fe) []byte {
	c := k.params.curve
	kb := make([]byte, c.size)
	c.fq.BytesLE(kb, nonce)
	var ra affinePoint
	c.mulBaseAffine(&ra, kb)
	xb := make([]byte, c.size)
	c.fp.BytesLE(xb, &ra.x)
	var r, s, t fe
	c.fq.Reduce(&r, xb)
	c.fq.Mul(&s, &r, &k.d)
	c.fq.Mul(&t, nonce, e)
	c.fq.Add(&s, &s, &t)
	if c.fq.IsZero(&r)|c.fq.IsZero(&s) == 1 {
		return nil
	}
	sig := make([]byte, 2*c.size)
	c.fq.BytesBE(sig[:c.size], &s)
	c.fq.BytesBE(sig[c.size:], &r)
	return sig
}

// VerifyDigest checks sig = s || r over digest (both in the conventions of the
// package doc) and returns nil when it is valid. The error wraps one of
// ErrDigestLength, ErrSignatureLength, ErrSignatureRange or ErrVerification.
func (pub *PublicKey) VerifyDigest(digest, sig []byte) error {
	c := pub.params.curve
	n := c.size
	if len(digest) != n {
		return fmt.Errorf("%w: got %d bytes, %s needs %d", ErrDigestLength, len(digest), pub.params.Name, n)
	}
	if len(sig) != 2*n {
		return fmt.Errorf("%w: got %d bytes, %s needs %d", ErrSignatureLength, len(sig), pub.params.Name, 2*n)
	}
	var s, r, e, v, z1, z2 fe
	if c.fq.SetBytesBE(&s, sig[:n]) != nil || c.fq.IsZero(&s) == 1 {
		return fmt.Errorf("%w: s", ErrSignatureRange)
	}
	if c.fq.SetBytesBE(&r, sig[n:]) != nil || c.fq.IsZero(&r) == 1 {
		return fmt.Errorf("%w: r", ErrSignatureRange)
	}
	c.digestScalar(&e, digest)
	c.invVar(&v, &e)
	c.fq.Mul(&z1, &s, &v)
	c.fq.Mul(&z2, &r, &v)
	c.fq.Neg(&z2, &z2)
	var z1b, z2b [64]byte
	c.fq.BytesLE(z1b[:n], &z1)
	c.fq.BytesLE(z2b[:n], &z2)

	if !c.combinationXModQIs(z1b[:n], z2b[:n], pub, sig[n:]) {
		return ErrVerification
	}
	return nil
}

// invVar sets z = x⁻¹ mod q for public x ≠ 0, faster than Fermat's
// constant-time exponentiation.
func (c *Curve) invVar(z, x *fe) {
	var b [64]byte
	n := c.size
	c.fq.BytesBE(b[:n], x)
	v := new(big.Int).SetBytes(b[:n])
	v.ModInverse(v, c.q)
	if err := c.fq.SetBig(z, v); err != nil {
		panic("gost3410: inverse out of range") // unreachable: ModInverse returns a value below q
	}
}

// xModQIs reports whether the affine x of the finite point pt, reduced mod q,
// equals rBE, without an inversion: x = X/Z² is one of r, r+q, r+2q, … below p,
// so it suffices to test X = cand·Z² for each candidate.
func (c *Curve) xModQIs(pt *jacobian, rBE []byte) bool {
	var z2, t, cand fe
	c.fp.Sqr(&z2, &pt.z)
	v := new(big.Int).SetBytes(rBE)
	for ; v.Cmp(c.p) < 0; v.Add(v, c.q) {
		if err := c.fp.SetBig(&cand, v); err != nil {
			return false
		}
		c.fp.Mul(&t, &cand, &z2)
		if c.fp.Equal(&t, &pt.x) == 1 {
			return true
		}
	}
	return false
}

// Verify reports whether sig is a valid signature of digest by pub.
func Verify(pub *PublicKey, digest, sig []byte) bool { return pub.VerifyDigest(digest, sig) == nil }
