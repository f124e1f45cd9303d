// Package kuznyechik implements Kuznyechik ("Кузнечик"), the 128-bit block
// cipher of GOST R 34.12-2015 (RFC 7801), as a crypto/cipher.Block. Its modes
// (CTR, CTR-ACPKM, OMAC…) are in package gost/mode.
//
// # Byte order
//
// RFC 7801 writes keys and blocks as numbers, most significant byte first
// (a block is a15 || … || a0). A []byte here holds them in that printed
// order: block[0] is a15, key[0] the key's most significant byte. It is the
// order of OpenSSL's gost engine (kuznyechik-*), of CMS and of GOST R
// 34.13-2015's examples, so RFC 7801's hex strings are used as they are.
//
// # Side channels
//
// Encryption and decryption use precomputed tables: each round is sixteen
// look-ups into 16 × 256 entries of 16 bytes (the S-box π merged with the
// linear layer L), 64 KiB per direction. The indices depend on the key and
// the data, and 64 KiB does not stay in L1: on a machine where an attacker
// shares the cache, memory access timing can leak key bits (the classic
// cache-timing attack on table-based AES applies). Use NewCipher where such
// a co-located attacker is not in the threat model.
//
// NewCipherConstantTime gives the same cipher without secret-indexed memory
// access or secret-dependent branches, in its key schedule too: S-box look-ups
// scan all 256 entries and select by mask, the linear layer multiplies by
// ℓ's public constants with a branch-free doubling. It is about 350 times
// slower (BenchmarkBlock on a loaded 2-core machine: 0.07 against 25 MB/s,
// some 0.5 ms per 32-byte key) and meant for keys and other short
// secrets, such as the key bag of a PFX file or a KExp15 export. Constant
// time is by construction, checked by reading the code; it was not measured
// statistically (timings on shared test machines say nothing). In both
// versions the control flow and the number of operations do not depend on
// secrets.
package kuznyechik

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
)

const (
	// BlockSize is the block size in bytes.
	BlockSize = 16
	// KeySize is the key size in bytes.
	KeySize = 32
)

// pi is the S-box π of RFC 7801 section 4.1 (carried over from gogost's
// table, a constant; the RFC's vectors below check it).
var pi = [256]byte{
	252, 238, 221, 17, 207, 110, 49, 22, 251, 196, 250, 218, 35, 197, 4, 77,
	233, 119, 240, 219, 147, 46, 153, 186, 23, 54, 241, 187, 20, 205, 95, 193,
	249, 24, 101, 90, 226, 92, 239, 33, 129, 28, 60, 66, 139, 1, 142, 79,
	5, 132, 2, 174, 227, 106, 143, 160, 6, 11, 237, 152, 127, 212, 211, 31,
	235, 52, 44, 81, 234, 200, 72, 171, 242, 42, 104, 162, 253, 58, 206, 204,
	181, 112, 14, 86, 8, 12, 118, 18, 191, 114, 19, 71, 156, 183, 93, 135,
	21, 161, 150, 41, 16, 123, 154, 199, 243, 145, 120, 111, 157, 158, 178, 177,
	50, 117, 25, 61, 255, 53, 138, 126, 109, 84, 198, 128, 195, 189, 13, 87,
	223, 245, 36, 169, 62, 168, 67, 201, 215, 121, 214, 246, 124, 34, 185, 3,
	224, 15, 236, 222, 122, 148, 176, 188, 220, 232, 40, 80, 78, 51, 10, 74,
	167, 151, 96, 115, 30, 0, 98, 68, 26, 184, 56, 130, 100, 159, 38, 65,
	173, 69, 70, 146, 39, 94, 85, 47, 140, 163, 165, 125, 105, 213, 149, 59,
	7, 88, 179, 64, 134, 172, 29, 247, 48, 55, 107, 228, 136, 217, 231, 137,
	225, 27, 131, 73, 76, 63, 248, 254, 141, 83, 170, 144, 202, 216, 133, 97,
	32, 113, 103, 164, 45, 43, 9, 91, 203, 155, 37, 208, 190, 229, 108, 82,
	89, 166, 116, 210, 230, 244, 180, 192, 209, 102, 175, 194, 57, 75, 99, 182,
}

// lc are the coefficients of the linear map ℓ (RFC 7801 section 4.2) in the
// order of a block's bytes: ℓ = Σ lc[i]·block[i] in GF(2^8).
var lc = [BlockSize]byte{148, 32, 133, 16, 194, 192, 1, 251, 1, 192, 194, 16, 133, 32, 148, 1}

// gmul multiplies in GF(2^8) modulo x^8 + x^7 + x^6 + x + 1 (RFC 7801 4.2).
// It is used only to build the tables.
func gmul(a, b byte) byte {
	var p byte
	for b != 0 {
		if b&1 != 0 {
			p ^= a
		}
		hi := a & 0x80
		a <<= 1
		if hi != 0 {
			a ^= 0xc3
		}
		b >>= 1
	}
	return p
}

// r is the transformation R: the bytes move one place right and ℓ of the
// old block becomes byte 0.
func r(b *[BlockSize]byte) {
	var l byte
	for i, c := range lc {
		l ^= gmul(b[i], c)
	}
	copy(b[1:], b[:15])
	b[0] = l
}

// rInv is R^-1.
func rInv(b *[BlockSize]byte) {
	a0 := b[0]
	copy(b[:15], b[1:])
	var l byte
	for i := 0; i < 15; i++ {
		l ^= gmul(b[i], lc[i])
	}
	// ℓ(b[0..14], x) = a0 and lc[15] = 1, so x = a0 ⊕ ℓ(b[0..14], 0).
	b[15] = a0 ^ l
}

func lTrans(b *[BlockSize]byte) {
	for i := 0; i < 16; i++ {
		r(b)
	}
}

func lInv(b *[BlockSize]byte) {
	for i := 0; i < 16; i++ {
		rInv(b)
	}
}

// A block as two big-endian uint64 halves.
type u128 struct{ hi, lo uint64 }

func load(b []byte) u128 { return u128{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])} }
func (x u128) store(b []byte) {
	binary.BigEndian.PutUint64(b, x.hi)
	binary.BigEndian.PutUint64(b[8:], x.lo)
}
func (x u128) bytes() (b [BlockSize]byte) { x.store(b[:]); return }

var (
	piInv [256]byte
	// encT[i][v] is L applied to the block with π(v) at byte i, zeros elsewhere.
	encT [BlockSize][256]u128
	// decT[i][v] is L^-1 applied to the block with π^-1(v) at byte i.
	decT [BlockSize][256]u128
	// linvT[i][v] is L^-1 applied to the block with v at byte i.
	linvT [BlockSize][256]u128
	// consts are C1..C32 = L(Vec128(i)) of the key schedule.
	consts [32]u128
)

func init() {
	for i, v := range pi {
		piInv[v] = byte(i)
	}
	for i := 0; i < BlockSize; i++ {
		for v := 0; v < 256; v++ {
			var b [BlockSize]byte
			b[i] = pi[v]
			lTrans(&b)
			encT[i][v] = load(b[:])
			b = [BlockSize]byte{}
			b[i] = piInv[v]
			lInv(&b)
			decT[i][v] = load(b[:])
			b = [BlockSize]byte{}
			b[i] = byte(v)
			lInv(&b)
			linvT[i][v] = load(b[:])
		}
	}
	for i := range consts {
		var b [BlockSize]byte
		b[15] = byte(i + 1)
		lTrans(&b)
		consts[i] = load(b[:])
	}
}

// lsx is L(S(x)) through the tables (the key is added by the caller).
func lsx(t *[BlockSize][256]u128, x u128) u128 {
	var y u128
	for i := 0; i < 8; i++ {
		e := &t[i][byte(x.hi>>(56-8*i))]
		y.hi ^= e.hi
		y.lo ^= e.lo
		e = &t[8+i][byte(x.lo>>(56-8*i))]
		y.hi ^= e.hi
		y.lo ^= e.lo
	}
	return y
}

// Cipher is Kuznyechik with one key. It implements cipher.Block.
type Cipher struct {
	ek [10]u128 // round keys K1..K10
	dk [10]u128 // L^-1(K_i) for the decryption's table rounds
	ct bool     // the constant-time path (NewCipherConstantTime)
}

var _ cipher.Block = (*Cipher)(nil)

// ErrKeySize is returned for a key that is not KeySize bytes long.
var ErrKeySize = errors.New("kuznyechik: key must be 32 bytes")

// NewCipher returns Kuznyechik with the 32-byte key.
func NewCipher(key []byte) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	c := new(Cipher)
	k1, k2 := load(key[:16]), load(key[16:])
	c.ek[0], c.ek[1] = k1, k2
	for i := 0; i < 4; i++ {
		for j := 0; j < 8; j++ {
			// F[C](a1, a0) = (LSX[C](a1) ⊕ a0, a1)
			x := u128{k1.hi ^ consts[8*i+j].hi, k1.lo ^ consts[8*i+j].lo}
			y := lsx(&encT, x)
			k1, k2 = u128{y.hi ^ k2.hi, y.lo ^ k2.lo}, k1
		}
		c.ek[2+2*i], c.ek[3+2*i] = k1, k2
	}
	for i, k := range c.ek {
		c.dk[i] = lsx(&linvT, k) // L^-1 is linear: L^-1(k) = Σ L^-1(k_i at i)
	}
	return c, nil
}

// BlockSize returns BlockSize.
func (c *Cipher) BlockSize() int { return BlockSize }

// Encrypt encrypts the first block of src into dst.
func (c *Cipher) Encrypt(dst, src []byte) {
	if len(src) < BlockSize || len(dst) < BlockSize {
		panic("kuznyechik: input not full block")
	}
	if c.ct {
		c.encryptCT(dst, src)
		return
	}
	x := load(src)
	for i := 0; i < 9; i++ {
		x.hi ^= c.ek[i].hi
		x.lo ^= c.ek[i].lo
		x = lsx(&encT, x)
	}
	x.hi ^= c.ek[9].hi
	x.lo ^= c.ek[9].lo
	x.store(dst)
}

// Decrypt decrypts the first block of src into dst.
func (c *Cipher) Decrypt(dst, src []byte) {
	if len(src) < BlockSize || len(dst) < BlockSize {
		panic("kuznyechik: input not full block")
	}
	if c.ct {
		c.decryptCT(dst, src)
		return
	}
	// y = S^-1(L^-1(y)) ⊕ K_i for i = 10..1, rewritten on u = L^-1(y):
	// u = L^-1(c ⊕ K10); u = L^-1(S^-1(u)) ⊕ L^-1(K_i) for i = 9..2;
	// p = S^-1(u) ⊕ K1.
	x := load(src)
	x.hi ^= c.ek[9].hi
	x.lo ^= c.ek[9].lo
	x = lsx(&linvT, x)
	for i := 8; i >= 1; i-- {
		x = lsx(&decT, x)
		x.hi ^= c.dk[i].hi
		x.lo ^= c.dk[i].lo
	}
	b := x.bytes()
	for i := range b {
		b[i] = piInv[b[i]]
	}
	k := c.ek[0].bytes()
	for i := range b {
		dst[i] = b[i] ^ k[i]
	}
}
