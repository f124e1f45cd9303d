// Package keywrap implements the GOST key wraps: the GOST 28147-89 key wrap
// and the CryptoPro key wrap with its KEK diversification (RFC 4357 sections
// 6.1–6.5), used by CMS key transport with GOST R 34.10-2001/2012 keys and by
// CryptoPro's key export blobs, and KExp15/KImp15 (Р 1323565.1.026-2019,
// also described in RFC 9189), the key export of the GOST R 34.12-2015
// ciphers.
//
// Unwrapping compares MACs in constant time and returns no key when they
// differ. The RFC 4357 wraps run GOST 28147-89 in its constant-time variant
// (gost28147 Cipher.ConstantTime; a wrap is a few dozen blocks, so the cost
// does not matter). KExp15/KImp15 use the cipher the caller names: pass
// mode.KuznyechikConstantTime or mode.MagmaConstantTime where cache timing
// matters, mode.Kuznyechik or mode.Magma otherwise.
package keywrap

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"

	"github.com/kepkit/kep/gost/gost28147"
	"github.com/kepkit/kep/gost/mode"
)

const (
	// KeySize is the size of a wrapped key and of a KEK.
	KeySize = 32
	// UKMSize is the size of the user keying material of RFC 4357.
	UKMSize = 8
	// WrappedSize is the size of an RFC 4357 wrapped key: UKM || CEK_ENC || CEK_MAC.
	WrappedSize = UKMSize + KeySize + gost28147.MACSize
)

// ErrMAC is returned when an unwrapped key does not match its MAC: a wrong
// KEK (wrong password or key) or a damaged blob.
var ErrMAC = errors.New("keywrap: MAC mismatch (wrong key-encryption key or damaged data)")

func check(kek, ukm []byte) error {
	if len(kek) != KeySize {
		return errors.New("keywrap: KEK must be 32 bytes")
	}
	if len(ukm) != UKMSize {
		return errors.New("keywrap: UKM must be 8 bytes")
	}
	return nil
}

// Wrap28147 is the GOST 28147-89 key wrap (RFC 4357 section 6.1):
// UKM || ECB(KEK, CEK) || MAC(KEK, IV = UKM, CEK), with the S-box s.
func Wrap28147(s *gost28147.SBox, kek, ukm, cek []byte) ([]byte, error) {
	if err := check(kek, ukm); err != nil {
		return nil, err
	}
	if len(cek) != KeySize {
		return nil, errors.New("keywrap: the wrapped key must be 32 bytes")
	}
	c, err := newCipher(kek, s)
	if err != nil {
		return nil, err
	}
	out := make([]byte, WrappedSize)
	copy(out, ukm)
	gost28147.EncryptECB(c, out[UKMSize:UKMSize+KeySize], cek)
	m, err := gost28147.NewMAC(c, ukm, false)
	if err != nil {
		return nil, err
	}
	m.Write(cek)
	m.Sum(out[:UKMSize+KeySize])
	return out, nil
}

// Unwrap28147 is the GOST 28147-89 key unwrap (RFC 4357 section 6.2).
func Unwrap28147(s *gost28147.SBox, kek, wrapped []byte) ([]byte, error) {
	if len(wrapped) != WrappedSize {
		return nil, errors.New("keywrap: a wrapped key is 44 bytes")
	}
	if err := check(kek, wrapped[:UKMSize]); err != nil {
		return nil, err
	}
	c, err := newCipher(kek, s)
	if err != nil {
		return nil, err
	}
	cek := make([]byte, KeySize)
	gost28147.DecryptECB(c, cek, wrapped[UKMSize:UKMSize+KeySize])
	m, _ := gost28147.NewMAC(c, wrapped[:UKMSize], false)
	m.Write(cek)
	if subtle.ConstantTimeCompare(m.Sum(nil), wrapped[UKMSize+KeySize:]) != 1 {
		clear(cek)
		return nil, ErrMAC
	}
	return cek, nil
}

// DiversifyCryptoPro is the CryptoPro KEK diversification (RFC 4357 section
// 6.5). It runs eight rounds; in round i, with u_j the bits of UKM byte i,
// S1 is the sum modulo 2^32 of the little-endian key words K_j with u_j = 1,
// S2 the sum of those with u_j = 0, and the key becomes its own CFB
// encryption under itself with the IV S1 || S2 (little-endian words).
func DiversifyCryptoPro(s *gost28147.SBox, kek, ukm []byte) ([]byte, error) {
	if err := check(kek, ukm); err != nil {
		return nil, err
	}
	k := append([]byte(nil), kek...)
	for i := 0; i < 8; i++ {
		var s1, s2 uint32
		for j := 0; j < 8; j++ {
			w := binary.LittleEndian.Uint32(k[4*j:])
			// Branch-free selection on the UKM bit (UKM is public, but the
			// key words are not).
			bit := uint32(ukm[i]>>j) & 1
			s1 += w & -bit
			s2 += w & (bit - 1)
		}
		var iv [8]byte
		binary.LittleEndian.PutUint32(iv[0:], s1)
		binary.LittleEndian.PutUint32(iv[4:], s2)
		c, err := newCipher(k, s)
		if err != nil {
			return nil, err
		}
		cfb, _ := gost28147.NewCFBEncrypter(c, iv[:], false)
		cfb.XORKeyStream(k, k)
	}
	return k, nil
}

// WrapCryptoPro is the CryptoPro key wrap (RFC 4357 section 6.3): the GOST
// 28147-89 key wrap under DiversifyCryptoPro(KEK, UKM).
func WrapCryptoPro(s *gost28147.SBox, kek, ukm, cek []byte) ([]byte, error) {
	k, err := DiversifyCryptoPro(s, kek, ukm)
	if err != nil {
		return nil, err
	}
	defer clear(k)
	return Wrap28147(s, k, ukm, cek)
}

// UnwrapCryptoPro is the CryptoPro key unwrap (RFC 4357 section 6.4).
func UnwrapCryptoPro(s *gost28147.SBox, kek, wrapped []byte) ([]byte, error) {
	if len(wrapped) != WrappedSize {
		return nil, errors.New("keywrap: a wrapped key is 44 bytes")
	}
	k, err := DiversifyCryptoPro(s, kek, wrapped[:UKMSize])
	if err != nil {
		return nil, err
	}
	defer clear(k)
	return Unwrap28147(s, k, wrapped)
}

// KExp15 is the key export of the GOST R 34.12-2015 ciphers (Р
// 1323565.1.026-2019, RFC 9189 section 8.2.1): CTR(kEnc, iv) applied to
// key || OMAC(kMac, iv || key), with newBlock Magma or Kuznyechik and iv half
// a block (4 or 8 bytes). The result is len(key) plus one block long.
func KExp15(newBlock mode.NewBlock, kEnc, kMac, iv, key []byte) ([]byte, error) {
	mb, err := newBlock(kMac)
	if err != nil {
		return nil, err
	}
	eb, err := newBlock(kEnc)
	if err != nil {
		return nil, err
	}
	if len(iv) != mb.BlockSize()/2 {
		return nil, errors.New("keywrap: KExp15 IV must be half a block")
	}
	m := mode.NewOMAC(mb)
	m.Write(iv)
	m.Write(key)
	out := m.Sum(append([]byte(nil), key...))
	s, err := mode.NewCTR(eb, iv)
	if err != nil {
		return nil, err
	}
	s.XORKeyStream(out, out)
	return out, nil
}

// KImp15 is the import that inverts KExp15; it returns ErrMAC when the MAC
// does not match.
func KImp15(newBlock mode.NewBlock, kEnc, kMac, iv, exported []byte) ([]byte, error) {
	mb, err := newBlock(kMac)
	if err != nil {
		return nil, err
	}
	eb, err := newBlock(kEnc)
	if err != nil {
		return nil, err
	}
	bs := mb.BlockSize()
	if len(iv) != bs/2 || len(exported) <= bs {
		return nil, errors.New("keywrap: KImp15 needs a half-block IV and more than a block of data")
	}
	s, err := mode.NewCTR(eb, iv)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(exported))
	s.XORKeyStream(plain, exported)
	key, mac := plain[:len(plain)-bs], plain[len(plain)-bs:]
	m := mode.NewOMAC(mb)
	m.Write(iv)
	m.Write(key)
	if subtle.ConstantTimeCompare(m.Sum(nil), mac) != 1 {
		clear(plain)
		return nil, ErrMAC
	}
	return key, nil
}

// newCipher is GOST 28147-89 without secret-indexed table look-ups: every
// input of the key wraps is key material.
func newCipher(key []byte, s *gost28147.SBox) (*gost28147.Cipher, error) {
	c, err := gost28147.NewCipher(key, s)
	if err != nil {
		return nil, err
	}
	return c.ConstantTime(), nil
}
