package gost28147

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"math/bits"
)

const (
	// BlockSize is the cipher's block size in bytes.
	BlockSize = 8
	// KeySize is the key size in bytes.
	KeySize = 32
)

// ErrKeySize is returned for a key that is not KeySize bytes long.
var ErrKeySize = errors.New("gost28147: key must be 32 bytes")

// Cipher is GOST 28147-89 or Magma with one key. It implements cipher.Block.
// A Cipher is a value: copying it copies the key schedule, which is how the
// modes with key meshing keep their own.
type Cipher struct {
	k     [8]uint32
	s     *SBox
	magma bool
	ct    bool // substitute without secret-dependent memory access
}

var _ cipher.Block = (*Cipher)(nil)

// NewCipher returns GOST 28147-89 with the key and S-box s, in the byte order
// of OpenSSL, CryptoPro and CMS (little-endian words, see the package doc).
func NewCipher(key []byte, s *SBox) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	if s == nil {
		return nil, errors.New("gost28147: no S-box")
	}
	c := &Cipher{s: s}
	for i := range c.k {
		c.k[i] = binary.LittleEndian.Uint32(key[4*i:])
	}
	return c, nil
}

// NewMagma returns Magma (GOST R 34.12-2015's 64-bit cipher, RFC 8891): the
// tc26-z S-box, the key and blocks read as big-endian numbers.
func NewMagma(key []byte) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	c := &Cipher{s: TC26Z, magma: true}
	for i := range c.k {
		c.k[i] = binary.BigEndian.Uint32(key[4*i:])
	}
	return c, nil
}

// BlockSize returns BlockSize.
func (c *Cipher) BlockSize() int { return BlockSize }

// SBox returns the cipher's parameter set.
func (c *Cipher) SBox() *SBox { return c.s }

// Key returns the current key in the cipher's byte order (it differs from the
// key given to the constructor after key meshing).
func (c *Cipher) Key() []byte {
	out := make([]byte, KeySize)
	for i, w := range c.k {
		if c.magma {
			binary.BigEndian.PutUint32(out[4*i:], w)
		} else {
			binary.LittleEndian.PutUint32(out[4*i:], w)
		}
	}
	return out
}

// ConstantTime returns a copy of c whose substitution makes no memory access
// that depends on the key or the data (see the package doc for the cost).
// The modes take it like any Cipher.
func (c *Cipher) ConstantTime() *Cipher {
	d := *c
	d.ct = true
	return &d
}

// f is the round function after the key addition: substitution and rotation.
func (c *Cipher) f(x uint32) uint32 {
	if c.ct {
		return fCT(&c.s.ct, x)
	}
	t := &c.s.t
	return t[0][x&0xff] ^ t[1][x>>8&0xff] ^ t[2][x>>16&0xff] ^ t[3][x>>24]
}

// encrypt32 is the 32-round encryption cycle (32-З) on the words n1, n2.
func (c *Cipher) encrypt32(n1, n2 uint32) (uint32, uint32) {
	k := &c.k
	for r := 0; r < 3; r++ {
		n2 ^= c.f(n1 + k[0])
		n1 ^= c.f(n2 + k[1])
		n2 ^= c.f(n1 + k[2])
		n1 ^= c.f(n2 + k[3])
		n2 ^= c.f(n1 + k[4])
		n1 ^= c.f(n2 + k[5])
		n2 ^= c.f(n1 + k[6])
		n1 ^= c.f(n2 + k[7])
	}
	n2 ^= c.f(n1 + k[7])
	n1 ^= c.f(n2 + k[6])
	n2 ^= c.f(n1 + k[5])
	n1 ^= c.f(n2 + k[4])
	n2 ^= c.f(n1 + k[3])
	n1 ^= c.f(n2 + k[2])
	n2 ^= c.f(n1 + k[1])
	n1 ^= c.f(n2 + k[0])
	return n2, n1
}

// decrypt32 is the 32-round decryption cycle (32-Р).
func (c *Cipher) decrypt32(n1, n2 uint32) (uint32, uint32) {
	k := &c.k
	n2 ^= c.f(n1 + k[0])
	n1 ^= c.f(n2 + k[1])
	n2 ^= c.f(n1 + k[2])
	n1 ^= c.f(n2 + k[3])
	n2 ^= c.f(n1 + k[4])
	n1 ^= c.f(n2 + k[5])
	n2 ^= c.f(n1 + k[6])
	n1 ^= c.f(n2 + k[7])
	for r := 0; r < 3; r++ {
		n2 ^= c.f(n1 + k[7])
		n1 ^= c.f(n2 + k[6])
		n2 ^= c.f(n1 + k[5])
		n1 ^= c.f(n2 + k[4])
		n2 ^= c.f(n1 + k[3])
		n1 ^= c.f(n2 + k[2])
		n2 ^= c.f(n1 + k[1])
		n1 ^= c.f(n2 + k[0])
	}
	return n2, n1
}

// mac16 is the 16-round cycle of the imitovstavka (16-З): K1..K8 twice,
// without the final swap.
func (c *Cipher) mac16(n1, n2 uint32) (uint32, uint32) {
	k := &c.k
	for r := 0; r < 2; r++ {
		n2 ^= c.f(n1 + k[0])
		n1 ^= c.f(n2 + k[1])
		n2 ^= c.f(n1 + k[2])
		n1 ^= c.f(n2 + k[3])
		n2 ^= c.f(n1 + k[4])
		n1 ^= c.f(n2 + k[5])
		n2 ^= c.f(n1 + k[6])
		n1 ^= c.f(n2 + k[7])
	}
	return n1, n2
}

// load reads a block as the cipher's (N1, N2).
func (c *Cipher) load(b []byte) (n1, n2 uint32) {
	if c.magma {
		return binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[0:])
	}
	return binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint32(b[4:])
}

// store writes (N1, N2) as a block.
func (c *Cipher) store(b []byte, n1, n2 uint32) {
	if c.magma {
		binary.BigEndian.PutUint32(b[4:], n1)
		binary.BigEndian.PutUint32(b[0:], n2)
		return
	}
	binary.LittleEndian.PutUint32(b[0:], n1)
	binary.LittleEndian.PutUint32(b[4:], n2)
}

// Encrypt encrypts the first block of src into dst (they may overlap exactly).
func (c *Cipher) Encrypt(dst, src []byte) {
	if len(src) < BlockSize || len(dst) < BlockSize {
		panic("gost28147: input not full block")
	}
	n1, n2 := c.load(src)
	n1, n2 = c.encrypt32(n1, n2)
	c.store(dst, n1, n2)
}

// Decrypt decrypts the first block of src into dst.
func (c *Cipher) Decrypt(dst, src []byte) {
	if len(src) < BlockSize || len(dst) < BlockSize {
		panic("gost28147: input not full block")
	}
	n1, n2 := c.load(src)
	n1, n2 = c.decrypt32(n1, n2)
	c.store(dst, n1, n2)
}

// meshingKey is the constant C of CryptoPro key meshing, RFC 4357 section 2.3.2.
var meshingKey = [32]byte{
	0x69, 0x00, 0x72, 0x22, 0x64, 0xC9, 0x04, 0x23,
	0x8D, 0x3A, 0xDB, 0x96, 0x46, 0xE9, 0x2A, 0xC4,
	0x18, 0xFE, 0xAC, 0x94, 0x00, 0xED, 0x07, 0x12,
	0xC0, 0x86, 0xDC, 0xC2, 0xEF, 0x4C, 0xA9, 0x2B,
}

// MeshingPeriod is the number of bytes processed under one key before
// CryptoPro key meshing changes it.
const MeshingPeriod = 1024

// meshKey is CryptoPro key meshing (RFC 4357 section 2.3.2) of the key: the
// new key is the constant C decrypted in ECB mode under the old one. The
// caller encrypts its IV under the new key where the mode says so.
func (c *Cipher) meshKey() {
	var nk [8]uint32
	for i := 0; i < 4; i++ {
		n1 := binary.LittleEndian.Uint32(meshingKey[8*i:])
		n2 := binary.LittleEndian.Uint32(meshingKey[8*i+4:])
		n1, n2 = c.decrypt32(n1, n2)
		nk[2*i], nk[2*i+1] = n1, n2
	}
	c.k = nk
}

// fCT is the substitution and rotation of f without table look-ups indexed
// by secrets: for each of the 16 nibble values v, a mask of the nibbles of x
// equal to v selects the outputs of every box for v.
func fCT(ct *[16]uint32, x uint32) uint32 {
	const lo = 0x11111111
	var y uint32
	for v := uint32(0); v < 16; v++ {
		d := x ^ (v * lo)                  // zero nibbles where x has v
		n := (d | d>>1 | d>>2 | d>>3) & lo // 1 in each nibble that is not v
		m := (n ^ lo) * 0xf                // 0xf in each nibble equal to v
		y |= m & ct[v]
	}
	return bits.RotateLeft32(y, 11)
}
