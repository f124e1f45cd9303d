// Package gost341194 implements the GOST R 34.11-94 hash function (RFC 5831),
// the digest of GOST R 34.10-2001 signatures, with the two parameter sets in
// use: id-GostR3411-94-CryptoProParamSet (1.2.643.2.2.30.1, RFC 4357), the
// one of every CryptoPro, OpenSSL (`openssl dgst -md_gost94`) and CA
// signature, and id-GostR3411-94-TestParamSet (1.2.643.2.2.30.0), the one of
// the examples in the standard and in RFC 5831.
//
// GOST R 34.11-94 is withdrawn: Russia replaced it by Streebog (GOST R
// 34.11-2012, package streebog) in 2013, and FSB ended the use of GOST R
// 34.10-2001 signatures after 31 December 2019. kep computes it only to verify
// old signatures; nothing in kep signs with it.
//
// Byte order: a message block and the digest are read as little-endian
// numbers (the first byte is the least significant), which is the order of
// OpenSSL's gost engine (`openssl dgst -md_gost94 -binary`), of CryptoPro and
// of CMS. RFC 5831 writes its example messages as numbers, most significant
// byte first, so its message M, printed 0x7365...6854, is the string
// "This is message, length=32 bytes"; its hashes read in the same order as
// this package's output.
//
// The empty message is hashed as the standard says, with no block before the
// length and the sum (the published vectors and gogost agree). OpenSSL's gost
// engine 3.0.1 differs there only: it hashes an empty message as one all-zero
// block.
package gost341194

import (
	"encoding/asn1"
	"encoding/binary"
	"fmt"
	"hash"
	"math/bits"

	"github.com/kepkit/kep/gost/gost28147"
)

const (
	// Size is the size in bytes of a digest.
	Size = 32
	// BlockSize is the block size in bytes.
	BlockSize = 32
)

// Params is a parameter set: the eight 4-bit S-boxes of the GOST 28147-89
// cipher inside the step function.
type Params struct {
	// Name is kep's name for the set: "cryptopro" or "test".
	Name string
	// OID identifies the set (the digestParamSet of GOST R 34.10-2001 keys).
	OID asn1.ObjectIdentifier

	// t[i][b] is S-boxes 2i and 2i+1 applied to the byte b, moved to the
	// byte's place in the 32-bit word and rotated left by 11 bits.
	t [4][256]uint32
}

// newParams builds a set from its S-boxes K1..K8 (K1 substitutes the least
// significant 4 bits of a 32-bit word).
func newParams(name string, oid asn1.ObjectIdentifier, k [8][16]byte) *Params {
	p := &Params{Name: name, OID: oid}
	for i := 0; i < 4; i++ {
		for b := 0; b < 256; b++ {
			v := uint32(k[2*i][b&15]) | uint32(k[2*i+1][b>>4])<<4
			p.t[i][b] = bits.RotateLeft32(v<<(8*i), 11)
		}
	}
	return p
}

// The S-boxes are gost28147's sets for GOST R 34.11-94 (RFC 4357 section
// 11.2, id-GostR3411-94-CryptoProParamSet; RFC 5831 section 7.3.1 / GOST R
// 34.11-94 appendix A, id-GostR3411-94-TestParamSet), rows K1..K8.
var (
	// CryptoPro is id-GostR3411-94-CryptoProParamSet, 1.2.643.2.2.30.1.
	CryptoPro = newParams("cryptopro", asn1.ObjectIdentifier{1, 2, 643, 2, 2, 30, 1}, gost28147.R341194CryptoPro.Rows())
	// Test is id-GostR3411-94-TestParamSet, 1.2.643.2.2.30.0.
	Test = newParams("test", asn1.ObjectIdentifier{1, 2, 643, 2, 2, 30, 0}, gost28147.R341194Test.Rows())
)

// OIDGOST341194 is id-GostR3411-94 (1.2.643.2.2.9), the digest algorithm
// identifier of CMS SignerInfos; its parameter set is CryptoPro's.
var OIDGOST341194 = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 9}

// ParamsByOID returns the parameter set named by oid.
func ParamsByOID(oid asn1.ObjectIdentifier) (*Params, error) {
	for _, p := range []*Params{CryptoPro, Test} {
		if p.OID.Equal(oid) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("gost341194: unknown parameter set %v", oid)
}

// digest is the state of a computation.
type digest struct {
	p     *Params
	h     [32]byte // chaining value, little-endian
	sigma [32]byte // sum of the message blocks mod 2^256, little-endian
	n     uint64   // message length in bytes
	buf   [BlockSize]byte
	nx    int
}

// New returns a hash.Hash computing GOST R 34.11-94 with the parameter set p
// and the zero starting vector (the choice of CryptoPro, OpenSSL and RFC 5831).
func New(p *Params) hash.Hash {
	d := &digest{p: p}
	d.Reset()
	return d
}

// NewCryptoPro returns New(CryptoPro), the hash of GOST R 34.10-2001 signatures.
func NewCryptoPro() hash.Hash { return New(CryptoPro) }

// Sum returns the digest of data with the parameter set p.
func Sum(p *Params, data []byte) [Size]byte {
	d := digest{p: p}
	d.Write(data)
	var out [Size]byte
	d.checkSum(out[:0])
	return out
}

func (d *digest) Reset() {
	d.h, d.sigma, d.n, d.nx = [32]byte{}, [32]byte{}, 0, 0
}

func (d *digest) Size() int      { return Size }
func (d *digest) BlockSize() int { return BlockSize }

func (d *digest) Write(m []byte) (int, error) {
	n := len(m)
	d.n += uint64(n)
	if d.nx > 0 {
		c := copy(d.buf[d.nx:], m)
		d.nx += c
		m = m[c:]
		if d.nx < BlockSize {
			return n, nil
		}
		d.block(d.buf[:])
		d.nx = 0
	}
	for len(m) >= BlockSize {
		d.block(m[:BlockSize])
		m = m[BlockSize:]
	}
	d.nx = copy(d.buf[:], m)
	return n, nil
}

func (d *digest) Sum(in []byte) []byte {
	c := *d
	return c.checkSum(in)
}

// checkSum finishes the computation: the last partial block padded with
// zeros (an empty one is not processed), then the length in bits and the
// sum of the blocks go through the step function.
func (d *digest) checkSum(in []byte) []byte {
	if d.nx > 0 {
		clear(d.buf[d.nx:])
		d.block(d.buf[:])
	}
	var l [32]byte
	binary.LittleEndian.PutUint64(l[:8], d.n<<3)
	binary.LittleEndian.PutUint64(l[8:16], d.n>>61)
	d.h = step(d.p, &d.h, &l)
	d.h = step(d.p, &d.h, &d.sigma)
	return append(in, d.h[:]...)
}

// block processes one 32-byte block.
func (d *digest) block(m []byte) {
	var mb [32]byte
	copy(mb[:], m)
	var carry uint64
	for i := 0; i < 32; i += 8 {
		s, c := bits.Add64(binary.LittleEndian.Uint64(d.sigma[i:]), binary.LittleEndian.Uint64(mb[i:]), carry)
		binary.LittleEndian.PutUint64(d.sigma[i:], s)
		carry = c
	}
	d.h = step(d.p, &d.h, &mb)
}

// c3 is the constant C3 of the key generation, little-endian (the standard
// prints it as 0xff00ffff000000ffff0000ff00ffff0000ff00ff00ff00ffff00ff00ff00ff00).
var c3 = [32]byte{
	0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff,
	0xff, 0x00, 0xff, 0x00, 0xff, 0x00, 0xff, 0x00,
	0x00, 0xff, 0xff, 0x00, 0xff, 0x00, 0x00, 0xff,
	0xff, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0xff,
}

// a is the transformation A: (y4, y3, y2, y1) → (y1⊕y2, y4, y3, y2) on 64-bit words.
func a(y *[32]byte) {
	var t [8]byte
	for i := range 8 {
		t[i] = y[i] ^ y[8+i]
	}
	copy(y[0:24], y[8:32])
	copy(y[24:], t[:])
}

// p is the byte permutation P: output byte i+4k is input byte 8i+k.
func p(w *[32]byte) (k [32]byte) {
	for i := range 4 {
		for j := range 8 {
			k[i+4*j] = w[8*i+j]
		}
	}
	return k
}

// psi is the linear feedback shift ψ on 16-bit words: (η16, …, η1) →
// (η1⊕η2⊕η3⊕η4⊕η13⊕η16, η16, …, η2).
func psi(y *[32]byte) {
	var x0, x1 byte
	for _, i := range [...]int{0, 1, 2, 3, 12, 15} {
		x0 ^= y[2*i]
		x1 ^= y[2*i+1]
	}
	copy(y[0:30], y[2:32])
	y[30], y[31] = x0, x1
}

// encrypt is GOST 28147-89 in ECB mode: one 64-bit block with the 256-bit key k.
func encrypt(p *Params, k *[32]byte, blk []byte) {
	var kw [8]uint32
	for i := range kw {
		kw[i] = binary.LittleEndian.Uint32(k[4*i:])
	}
	f := func(x uint32) uint32 {
		return p.t[0][x&0xff] ^ p.t[1][x>>8&0xff] ^ p.t[2][x>>16&0xff] ^ p.t[3][x>>24]
	}
	n1 := binary.LittleEndian.Uint32(blk[0:])
	n2 := binary.LittleEndian.Uint32(blk[4:])
	for r := range 3 {
		_ = r
		for i := 0; i < 8; i += 2 {
			n2 ^= f(n1 + kw[i])
			n1 ^= f(n2 + kw[i+1])
		}
	}
	for i := 7; i > 0; i -= 2 {
		n2 ^= f(n1 + kw[i])
		n1 ^= f(n2 + kw[i-1])
	}
	binary.LittleEndian.PutUint32(blk[0:], n2)
	binary.LittleEndian.PutUint32(blk[4:], n1)
}

// step is the step function f(H, M) of the standard: key generation,
// encryption of the four 64-bit words of H, and the mixing ψ^61(H ⊕ ψ(M ⊕ ψ^12(S))).
func step(pr *Params, h, m *[32]byte) [32]byte {
	var keys [4][32]byte
	u, v := *h, *m
	var w [32]byte
	for i := range w {
		w[i] = u[i] ^ v[i]
	}
	keys[0] = p(&w)
	for j := 1; j < 4; j++ {
		a(&u)
		if j == 2 {
			for i := range u {
				u[i] ^= c3[i]
			}
		}
		a(&v)
		a(&v)
		for i := range w {
			w[i] = u[i] ^ v[i]
		}
		keys[j] = p(&w)
	}
	s := *h
	for i := range 4 {
		encrypt(pr, &keys[i], s[8*i:8*i+8])
	}
	for range 12 {
		psi(&s)
	}
	for i := range s {
		s[i] ^= m[i]
	}
	psi(&s)
	for i := range s {
		s[i] ^= h[i]
	}
	for range 61 {
		psi(&s)
	}
	return s
}
