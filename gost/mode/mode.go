// Package mode implements the block-cipher modes of GOST R 34.13-2015 that
// the Russian PKI formats need, on any crypto/cipher.Block (Magma and
// Kuznyechik in practice): CTR, CTR-ACPKM and OMAC-ACPKM (R 1323565.1.017-2018,
// RFC 8645 sections 6.2.2 and 6.4), the ACPKM key transformation, and OMAC
// (GOST R 34.13-2015 section 5.6, the same construction as CMAC/OMAC1).
//
// Not here: ECB is a loop of Encrypt calls (gost28147.EncryptECB works on
// any cipher.Block); CBC, CFB and OFB with a register as long as the block
// (m = n, s = n) are Go's crypto/cipher.NewCBCEncrypter, NewCFBEncrypter and
// NewOFB on the same Block; the variants with a longer shift register (m > n)
// are not implemented. GOST 28147-89's own modes (CFB and CNT with CryptoPro
// key meshing, its MAC) are in gost/gost28147.
//
// Byte order: blocks are byte strings in the order of the ciphers' RFCs and
// of OpenSSL (most significant byte first); the CTR counter is the block read
// as a big-endian number and incremented modulo 2^n.
//
// Side channels: the modes themselves take the same path whatever the data
// and keys; the ciphers under them are table-based (see their packages).
package mode

import (
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/kepkit/kep/gost/gost28147"
	"github.com/kepkit/kep/gost/kuznyechik"
)

// NewBlock makes a block cipher from a key; the re-keying modes (ACPKM) call
// it for every new section key.
type NewBlock func(key []byte) (cipher.Block, error)

// Kuznyechik and Magma are the NewBlock functions of the two GOST R
// 34.12-2015 ciphers.
var (
	Kuznyechik NewBlock = func(k []byte) (cipher.Block, error) { return kuznyechik.NewCipher(k) }
	Magma      NewBlock = func(k []byte) (cipher.Block, error) { return gost28147.NewMagma(k) }
)

// KuznyechikConstantTime and MagmaConstantTime are the constant-time
// variants (kuznyechik.NewCipherConstantTime, gost28147 Cipher.ConstantTime):
// for keys and other short secrets, e.g. KExp15 or a PFX key bag.
var (
	KuznyechikConstantTime NewBlock = func(k []byte) (cipher.Block, error) { return kuznyechik.NewCipherConstantTime(k) }
	MagmaConstantTime      NewBlock = func(k []byte) (cipher.Block, error) {
		c, err := gost28147.NewMagma(k)
		if err != nil {
			return nil, err
		}
		return c.ConstantTime(), nil
	}
)

// KeySize is the key size of both GOST R 34.12-2015 ciphers, the size ACPKM
// produces.
const KeySize = 32

// ctr is the counter mode, optionally with ACPKM re-keying.
type ctr struct {
	b        cipher.Block
	bs       int
	counter  []byte
	gamma    []byte
	pos      int
	newBlock NewBlock
	section  int // blocks per section (0: no re-keying)
	inSect   int // blocks made in the current section
}

// NewCTR returns GOST R 34.13-2015 CTR ("режим гаммирования"): the counter
// starts at iv || 0…0 (iv is half a block: 4 bytes for Magma, 8 for
// Kuznyechik) and each block of gamma is the encryption of the counter, which
// then grows by one. Encryption and decryption are the same; data may come in
// any pieces. This is OpenSSL's magma-ctr and kuznyechik-ctr.
func NewCTR(b cipher.Block, iv []byte) (cipher.Stream, error) {
	bs := b.BlockSize()
	if len(iv) != bs/2 {
		return nil, fmt.Errorf("mode: CTR IV must be %d bytes (half a block)", bs/2)
	}
	s := &ctr{b: b, bs: bs, counter: make([]byte, bs), gamma: make([]byte, bs), pos: bs}
	copy(s.counter, iv)
	return s, nil
}

// NewCTRACPKM returns CTR-ACPKM (R 1323565.1.017-2018 section 4.1, RFC 8645
// section 6.2.2): CTR whose key is replaced by ACPKM of itself at the start
// of every section of sectionSize bytes, the counter running on. sectionSize
// must be a positive multiple of the block size. The standard leaves it to
// the protocol: OpenSSL's gost engine uses 8 KiB (Magma) and 256 KiB
// (Kuznyechik) for CMS and PFX content, and 1 KiB / 4 KiB for its
// magma-ctr-acpkm / kuznyechik-ctr-acpkm command-line ciphers.
func NewCTRACPKM(newBlock NewBlock, key, iv []byte, sectionSize int) (cipher.Stream, error) {
	b, err := newBlock(key)
	if err != nil {
		return nil, err
	}
	bs := b.BlockSize()
	if sectionSize <= 0 || sectionSize%bs != 0 {
		return nil, fmt.Errorf("mode: ACPKM section size %d is not a positive multiple of the block size %d", sectionSize, bs)
	}
	st, err := NewCTR(b, iv)
	if err != nil {
		return nil, err
	}
	s := st.(*ctr)
	s.newBlock, s.section = newBlock, sectionSize/bs
	return s, nil
}

func (s *ctr) next() {
	if s.section > 0 && s.inSect == s.section {
		b, err := s.newBlock(ACPKM(s.b))
		if err != nil {
			panic("mode: ACPKM: " + err.Error()) // a NewBlock that took the first key takes a new one
		}
		s.b, s.inSect = b, 0
	}
	s.b.Encrypt(s.gamma, s.counter)
	for i := s.bs - 1; i >= 0; i-- {
		s.counter[i]++
		if s.counter[i] != 0 {
			break
		}
	}
	s.inSect++
	s.pos = 0
}

func (s *ctr) XORKeyStream(dst, src []byte) {
	if len(dst) < len(src) {
		panic("mode: output smaller than input")
	}
	i := 0
	for i < len(src) {
		if s.pos == s.bs {
			s.next()
			if len(src)-i >= s.bs { // a whole block at once
				subtle.XORBytes(dst[i:i+s.bs], src[i:i+s.bs], s.gamma)
				i += s.bs
				s.pos = s.bs
				continue
			}
		}
		dst[i] = src[i] ^ s.gamma[s.pos]
		s.pos++
		i++
	}
}

// acpkmD is the constant D of ACPKM: the bytes 80, 81, …, 9F (R
// 1323565.1.017-2018 section 4.1, RFC 8645 section 6.2.1).
var acpkmD = func() (d [KeySize]byte) {
	for i := range d {
		d[i] = 0x80 + byte(i)
	}
	return
}()

// ACPKM returns the next section key: the encryption under b of the constant
// D = 80 81 … 9F split into blocks (R 1323565.1.017-2018 section 4.1).
func ACPKM(b cipher.Block) []byte {
	out := make([]byte, KeySize)
	bs := b.BlockSize()
	for i := 0; i < KeySize; i += bs {
		b.Encrypt(out[i:], acpkmD[i:])
	}
	return out
}

var errSection = errors.New("mode: section sizes must be positive multiples of the block size")

// clone returns an independent copy of the stream (the cipher itself is not
// copied: blocks are not changed by use, only replaced on re-keying).
func (s *ctr) clone() *ctr {
	c := *s
	c.counter = append([]byte(nil), s.counter...)
	c.gamma = append([]byte(nil), s.gamma...)
	return &c
}
