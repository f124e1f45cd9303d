package gost28147

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"hash"
	"math/bits"
)

// ECB encrypts or decrypts whole blocks: CryptBlocks-style helpers for the
// simple substitution mode of GOST 28147-89 (what CryptoPro key containers
// use for primary.key). len(src) must be a multiple of BlockSize and dst at
// least as long.

// EncryptECB encrypts src into dst block by block.
func EncryptECB(b cipher.Block, dst, src []byte) {
	n := b.BlockSize()
	if len(src)%n != 0 || len(dst) < len(src) {
		panic("gost28147: ECB input not full blocks")
	}
	for i := 0; i < len(src); i += n {
		b.Encrypt(dst[i:], src[i:])
	}
}

// DecryptECB decrypts src into dst block by block.
func DecryptECB(b cipher.Block, dst, src []byte) {
	n := b.BlockSize()
	if len(src)%n != 0 || len(dst) < len(src) {
		panic("gost28147: ECB input not full blocks")
	}
	for i := 0; i < len(src); i += n {
		b.Decrypt(dst[i:], src[i:])
	}
}

var (
	errIV           = errors.New("gost28147: IV must be 8 bytes")
	errMagmaMeshing = errors.New("gost28147: CryptoPro key meshing is defined for GOST 28147-89, not for a Magma cipher")
)

// cfb is GOST 28147-89 gamma with feedback (CFB, "гаммирование с обратной
// связью"), optionally with CryptoPro key meshing.
type cfb struct {
	c       Cipher
	reg     [BlockSize]byte // the feedback register: the last ciphertext block
	gamma   [BlockSize]byte
	pos     int // bytes of gamma used; BlockSize when a new one is needed
	count   int // bytes enciphered under the current key, for meshing
	meshing bool
	decrypt bool
}

// NewCFBEncrypter returns GOST 28147-89 CFB encryption with the IV iv. With
// meshing, the key and the feedback register change every 1024 bytes by
// CryptoPro key meshing (RFC 4357 section 2.3.2): what OpenSSL's gost89 cipher
// and CryptoPro CSP do with the CryptoPro and tc26-z S-boxes. Input may come
// in any pieces; a final partial block is enciphered with part of the gamma.
func NewCFBEncrypter(c *Cipher, iv []byte, meshing bool) (cipher.Stream, error) {
	return newCFB(c, iv, meshing, false)
}

// NewCFBDecrypter is the decryption of NewCFBEncrypter.
func NewCFBDecrypter(c *Cipher, iv []byte, meshing bool) (cipher.Stream, error) {
	return newCFB(c, iv, meshing, true)
}

func newCFB(c *Cipher, iv []byte, meshing, decrypt bool) (*cfb, error) {
	if len(iv) != BlockSize {
		return nil, errIV
	}
	if meshing && c.magma {
		return nil, errMagmaMeshing
	}
	s := &cfb{c: *c, pos: BlockSize, meshing: meshing, decrypt: decrypt}
	copy(s.reg[:], iv)
	return s, nil
}

func (s *cfb) XORKeyStream(dst, src []byte) {
	if len(dst) < len(src) {
		panic("gost28147: output smaller than input")
	}
	for i := 0; i < len(src); i++ {
		if s.pos == BlockSize {
			if s.meshing && s.count == MeshingPeriod {
				s.c.meshKey()
				s.c.Encrypt(s.reg[:], s.reg[:])
			}
			s.c.Encrypt(s.gamma[:], s.reg[:])
			s.count = s.count%MeshingPeriod + BlockSize
			s.pos = 0
			if len(src)-i >= BlockSize { // a whole block at once
				g := binary.LittleEndian.Uint64(s.gamma[:])
				in := binary.LittleEndian.Uint64(src[i:])
				out := in ^ g
				if s.decrypt {
					binary.LittleEndian.PutUint64(s.reg[:], in)
				} else {
					binary.LittleEndian.PutUint64(s.reg[:], out)
				}
				binary.LittleEndian.PutUint64(dst[i:], out)
				i += BlockSize - 1
				s.pos = BlockSize
				continue
			}
		}
		in := src[i]
		out := in ^ s.gamma[s.pos]
		if s.decrypt {
			s.reg[s.pos] = in
		} else {
			s.reg[s.pos] = out
		}
		dst[i] = out
		s.pos++
	}
}

// cnt is the counter ("gamma") mode of GOST 28147-89.
type cnt struct {
	c       Cipher
	reg     [BlockSize]byte // N3 || N4, little-endian
	gamma   [BlockSize]byte
	pos     int
	count   int
	started bool
	meshing bool
}

// The constants of the gamma generator (GOST 28147-89 section 3.1).
const (
	c2 = 0x01010101 // added to N3 modulo 2^32
	c1 = 0x01010104 // added to N4 modulo 2^32 - 1
)

// NewCNT returns the counter mode of GOST 28147-89 ("гаммирование"): the IV
// is enciphered once into N3 || N4, then before each block N3 += C2 mod 2^32
// and N4 += C1 mod 2^32 - 1, and the gamma is the encryption of N3 || N4.
// With meshing, CryptoPro key meshing every 1024 bytes (the key changes and
// the register is enciphered under the new key), as OpenSSL's gost89-cnt and
// CryptoPro CSP do. Encryption and decryption are the same. This is not the
// CTR mode of GOST R 34.13-2015 (package gost/mode).
func NewCNT(c *Cipher, iv []byte, meshing bool) (cipher.Stream, error) {
	if len(iv) != BlockSize {
		return nil, errIV
	}
	if c.magma {
		return nil, errors.New("gost28147: the GOST 28147-89 counter mode needs the 28147 byte order (NewCipher)")
	}
	s := &cnt{c: *c, pos: BlockSize, meshing: meshing}
	copy(s.reg[:], iv)
	return s, nil
}

func (s *cnt) next() {
	if s.meshing && s.count == MeshingPeriod {
		s.c.meshKey()
		s.c.Encrypt(s.reg[:], s.reg[:])
	}
	if !s.started {
		s.c.Encrypt(s.reg[:], s.reg[:])
		s.started = true
	}
	n3 := binary.LittleEndian.Uint32(s.reg[0:]) + c2
	// N4 + C1 modulo 2^32 - 1: the carry out is added back (end-around
	// carry), without a branch on the secret register.
	sum, carry := bits.Add32(binary.LittleEndian.Uint32(s.reg[4:]), c1, 0)
	sum += carry
	binary.LittleEndian.PutUint32(s.reg[0:], n3)
	binary.LittleEndian.PutUint32(s.reg[4:], sum)
	s.c.Encrypt(s.gamma[:], s.reg[:])
	s.count = s.count%MeshingPeriod + BlockSize
	s.pos = 0
}

func (s *cnt) XORKeyStream(dst, src []byte) {
	if len(dst) < len(src) {
		panic("gost28147: output smaller than input")
	}
	for i := 0; i < len(src); {
		if s.pos == BlockSize {
			s.next()
			if s.pos == 0 && len(src)-i >= BlockSize {
				// Whole block at once.
				g := binary.LittleEndian.Uint64(s.gamma[:])
				binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(src[i:])^g)
				i += BlockSize
				s.pos = BlockSize
				continue
			}
		}
		dst[i] = src[i] ^ s.gamma[s.pos]
		s.pos++
		i++
	}
}

// MACSize is the size of a GOST 28147-89 MAC (imitovstavka) as CryptoPro,
// OpenSSL's gost-mac, RFC 4357 key wrap and CMS use it: 32 bits.
const MACSize = 4

// MAC is the GOST 28147-89 imitovstavka ("режим выработки имитовставки",
// GOST 28147-89 section 5): CBC-like chaining through the 16-round cycle. It
// implements hash.Hash; Sum appends the MACSize-byte MAC, Sum8 gives the
// whole 64-bit state.
type MAC struct {
	c0, c   Cipher
	iv      [BlockSize]byte
	state   [BlockSize]byte
	buf     [BlockSize]byte
	nbuf    int
	blocks  int // blocks processed
	count   int // bytes processed under the current key
	meshing bool
}

var _ hash.Hash = (*MAC)(nil)

// NewMAC returns the imitovstavka under c with the initial state iv (nil for
// zeros, as in OpenSSL's gost-mac; the RFC 4357 key wrap passes its UKM).
// With meshing, CryptoPro key meshing every 1024 bytes without changing the
// state, as CryptoPro CSP and OpenSSL's gost-mac do.
//
// Padding, as CryptoPro CSP and OpenSSL compute it: the last partial block is
// filled with zeros, and a message of at most one block is followed by one
// zero block (GOST 28147-89 needs two blocks at least); the MAC of the empty
// message is the IV's first four bytes.
func NewMAC(c *Cipher, iv []byte, meshing bool) (*MAC, error) {
	if iv != nil && len(iv) != BlockSize {
		return nil, errIV
	}
	if c.magma {
		return nil, errors.New("gost28147: the imitovstavka needs the 28147 byte order (NewCipher); Magma's MAC is OMAC (gost/mode)")
	}
	m := &MAC{c0: *c, meshing: meshing}
	copy(m.iv[:], iv)
	m.Reset()
	return m, nil
}

// Reset starts a new message under the original key.
func (m *MAC) Reset() {
	m.c = m.c0
	m.state = m.iv
	m.nbuf, m.blocks, m.count = 0, 0, 0
}

// Size returns MACSize.
func (m *MAC) Size() int { return MACSize }

// BlockSize returns BlockSize.
func (m *MAC) BlockSize() int { return BlockSize }

func (m *MAC) block(b []byte) {
	if m.meshing && m.count == MeshingPeriod {
		m.c.meshKey()
	}
	for i := range m.state {
		m.state[i] ^= b[i]
	}
	n1 := binary.LittleEndian.Uint32(m.state[0:])
	n2 := binary.LittleEndian.Uint32(m.state[4:])
	n1, n2 = m.c.mac16(n1, n2)
	binary.LittleEndian.PutUint32(m.state[0:], n1)
	binary.LittleEndian.PutUint32(m.state[4:], n2)
	m.count = m.count%MeshingPeriod + BlockSize
	m.blocks++
}

// Write adds p to the message. A full block is kept back until more data
// comes, because the padding depends on whether it is the only one.
func (m *MAC) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if m.nbuf == BlockSize {
			m.block(m.buf[:])
			m.nbuf = 0
		}
		c := copy(m.buf[m.nbuf:], p)
		m.nbuf += c
		p = p[c:]
	}
	return n, nil
}

// Sum8 returns the whole 64-bit final state (the MAC is its first MACSize bytes).
func (m *MAC) Sum8() [BlockSize]byte {
	t := *m
	if t.nbuf > 0 {
		clear(t.buf[t.nbuf:])
		t.block(t.buf[:])
		if t.blocks == 1 {
			var z [BlockSize]byte
			t.block(z[:])
		}
	}
	return t.state
}

// Sum appends the MAC to in; it does not change the state.
func (m *MAC) Sum(in []byte) []byte {
	s := m.Sum8()
	return append(in, s[:MACSize]...)
}
