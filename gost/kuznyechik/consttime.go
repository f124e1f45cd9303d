package kuznyechik

import "crypto/subtle"

// The constant-time path: no table look-up and no branch indexed by the key
// or the data. S and S^-1 scan all 256 entries of π (selecting by mask),
// and L and L^-1 multiply by the public constants of ℓ with a branch-free
// doubling in GF(2^8). It is far slower than the tables and meant for key
// material only.

// ctSub substitutes every byte of b through box (π or π^-1) by a full scan.
func ctSub(b *[BlockSize]byte, box *[256]byte) {
	for i := range b {
		x := b[i]
		var y byte
		for v := 0; v < 256; v++ {
			m := byte(subtle.ConstantTimeByteEq(x, byte(v)))
			y |= box[v] & -m
		}
		b[i] = y
	}
}

// ctMul multiplies the secret a by the public constant c modulo
// x^8 + x^7 + x^6 + x + 1: the loop follows c's bits, the reduction of a is
// branch-free.
func ctMul(a, c byte) byte {
	var p byte
	for ; c != 0; c >>= 1 {
		if c&1 != 0 {
			p ^= a
		}
		a = a<<1 ^ 0xc3&-(a>>7)
	}
	return p
}

func ctR(b *[BlockSize]byte) {
	var l byte
	for i, c := range lc {
		l ^= ctMul(b[i], c)
	}
	copy(b[1:], b[:15])
	b[0] = l
}

func ctRInv(b *[BlockSize]byte) {
	a0 := b[0]
	copy(b[:15], b[1:])
	var l byte
	for i := 0; i < 15; i++ {
		l ^= ctMul(b[i], lc[i])
	}
	b[15] = a0 ^ l
}

func ctLSX(b *[BlockSize]byte) {
	ctSub(b, &pi)
	for i := 0; i < 16; i++ {
		ctR(b)
	}
}

func xorBlock(b *[BlockSize]byte, k u128) {
	kb := k.bytes()
	for i := range b {
		b[i] ^= kb[i]
	}
}

// NewCipherConstantTime returns Kuznyechik with the key whose key schedule,
// encryption and decryption make no memory access or branch that depends on
// the key or the data. It computes the same function as NewCipher (the tests
// compare them) at a small fraction of its speed (see BenchmarkBlock): use
// it for keys and other short secrets, e.g. a key bag in a PFX file or a
// KExp15 export, where the table version's cache-timing exposure matters.
func NewCipherConstantTime(key []byte) (*Cipher, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	c := &Cipher{ct: true}
	k1, k2 := load(key[:16]), load(key[16:])
	c.ek[0], c.ek[1] = k1, k2
	for i := 0; i < 4; i++ {
		for j := 0; j < 8; j++ {
			b := k1.bytes()
			xorBlock(&b, consts[8*i+j])
			ctLSX(&b)
			y := load(b[:])
			k1, k2 = u128{y.hi ^ k2.hi, y.lo ^ k2.lo}, k1
		}
		c.ek[2+2*i], c.ek[3+2*i] = k1, k2
	}
	return c, nil
}

func (c *Cipher) encryptCT(dst, src []byte) {
	var b [BlockSize]byte
	copy(b[:], src)
	for i := 0; i < 9; i++ {
		xorBlock(&b, c.ek[i])
		ctLSX(&b)
	}
	xorBlock(&b, c.ek[9])
	copy(dst, b[:])
}

func (c *Cipher) decryptCT(dst, src []byte) {
	var b [BlockSize]byte
	copy(b[:], src)
	xorBlock(&b, c.ek[9])
	for i := 8; i >= 0; i-- {
		for j := 0; j < 16; j++ {
			ctRInv(&b)
		}
		ctSub(&b, &piInv)
		xorBlock(&b, c.ek[i])
	}
	copy(dst, b[:])
}
