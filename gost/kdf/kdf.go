// Package kdf implements the GOST key derivation functions: HMAC with
// Streebog (HMAC_GOSTR3411_2012_256/512, RFC 7836 section 4.1), PBKDF2 with
// any HMAC, by default HMAC-Streebog-512 (R 50.1.111-2016, RFC 9337), and
// KDF_GOSTR3411_2012_256 and KDF_TREE_GOSTR3411_2012_256 (RFC 7836 section
// 4.5, R 50.1.113-2016).
//
// HMAC and the KDFs handle keys with crypto/hmac over gost/streebog, whose
// compression function is table-based (see its package); the code here adds
// no secret-dependent branch or index.
package kdf

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"hash"

	"github.com/kepkit/kep/gost/gost341194"
	"github.com/kepkit/kep/gost/streebog"
)

// NewHMAC256 returns HMAC_GOSTR3411_2012_256 keyed with key.
func NewHMAC256(key []byte) hash.Hash { return hmac.New(streebog.New256, key) }

// NewHMAC512 returns HMAC_GOSTR3411_2012_512 keyed with key.
func NewHMAC512(key []byte) hash.Hash { return hmac.New(streebog.New512, key) }

// NewHMACGOST94 returns HMAC with GOST R 34.11-94 (CryptoPro parameter set),
// id-HMACGostR3411-94: the PRF of the PBKDF2 in legacy GOST PFX files
// (OpenSSL's `pkcs12 -keypbe gost89`, ViPNet).
func NewHMACGOST94(key []byte) hash.Hash { return hmac.New(gost341194.NewCryptoPro, key) }

// PBKDF2 is PKCS #5 PBKDF2 (RFC 8018 section 5.2) with the PRF prf (a keyed
// HMAC constructor such as NewHMAC512): keyLen bytes from the password, the
// salt and iter iterations.
func PBKDF2(prf func(key []byte) hash.Hash, password, salt []byte, iter, keyLen int) ([]byte, error) {
	if iter < 1 || keyLen < 1 {
		return nil, errors.New("kdf: PBKDF2 needs at least one iteration and one byte of output")
	}
	h := prf(password)
	hLen := h.Size()
	if uint64(keyLen) > uint64(hLen)*(1<<32-1) {
		return nil, errors.New("kdf: PBKDF2 output too long")
	}
	out := make([]byte, 0, keyLen+hLen)
	var ctr [4]byte
	u := make([]byte, 0, hLen)
	t := make([]byte, hLen)
	for block := uint32(1); len(out) < keyLen; block++ {
		binary.BigEndian.PutUint32(ctr[:], block)
		h.Reset()
		h.Write(salt)
		h.Write(ctr[:])
		u = h.Sum(u[:0])
		copy(t, u)
		for i := 1; i < iter; i++ {
			h.Reset()
			h.Write(u)
			u = h.Sum(u[:0])
			for j := range t {
				t[j] ^= u[j]
			}
		}
		out = append(out, t...)
	}
	clear(t)
	clear(u)
	return out[:keyLen], nil
}

// PBKDF2Streebog512 is PBKDF2 with HMAC_GOSTR3411_2012_512, the function of
// R 50.1.111-2016 and RFC 9337 (and of RFC 9548 PFX files).
func PBKDF2Streebog512(password, salt []byte, iter, keyLen int) ([]byte, error) {
	return PBKDF2(NewHMAC512, password, salt, iter, keyLen)
}

// KDF256 is KDF_GOSTR3411_2012_256 (RFC 7836 section 4.5): the 32 bytes
// HMAC256(key, 01 || label || 00 || seed || 01 00).
func KDF256(key, label, seed []byte) []byte {
	h := NewHMAC256(key)
	h.Write([]byte{1})
	h.Write(label)
	h.Write([]byte{0})
	h.Write(seed)
	h.Write([]byte{1, 0})
	return h.Sum(nil)
}

// KDFTree256 is KDF_TREE_GOSTR3411_2012_256 (R 50.1.113-2016 section 4.5,
// RFC 7836 section 4.5): length bytes made of the blocks K(i) =
// HMAC256(key, [i]_R || label || 00 || seed || [L]), i = 1, 2, …, where
// [i]_R is i on r bytes (1 to 4) and [L] the output length in bits,
// big-endian on as few bytes as hold it. KDF256 is its case r = 1, 32 bytes.
func KDFTree256(key, label, seed []byte, r, length int) ([]byte, error) {
	if r < 1 || r > 4 || length < 1 {
		return nil, errors.New("kdf: KDF_TREE needs R in 1..4 and a positive length")
	}
	blocks := (length + 31) / 32
	if r < 4 && uint64(blocks) >= 1<<(8*r) {
		return nil, errors.New("kdf: KDF_TREE output too long for R")
	}
	var lb []byte
	for l := uint64(length) * 8; l > 0; l >>= 8 {
		lb = append([]byte{byte(l)}, lb...)
	}
	h := NewHMAC256(key)
	out := make([]byte, 0, 32*blocks)
	var ib [4]byte
	for i := 1; i <= blocks; i++ {
		binary.BigEndian.PutUint32(ib[:], uint32(i))
		h.Reset()
		h.Write(ib[4-r:])
		h.Write(label)
		h.Write([]byte{0})
		h.Write(seed)
		h.Write(lb)
		out = h.Sum(out)
	}
	return out[:length], nil
}
