package cryptopro

import (
	"encoding/binary"
	"fmt"
	"hash"
	"unicode/utf8"

	"github.com/kepkit/kep/gost/gost341194"
	"github.com/kepkit/kep/gost/streebog"
)

// MaxPasswordLen is the longest password CryptoPro accepts, in characters.
const MaxPasswordLen = 256

// kdfStart is the fixed start buffer of CryptoPro's password KDF, as every
// public implementation of it has it (li0ard/ckey, kmvi/cp-extract-data).
const kdfStart = "DENEFH028.760246785.IUEFHWUIO.EF"

// kdfParams are the KDF's hash and the length of its working buffers: 64
// bytes (the 32-byte digest padded with zeros) with Streebog-256 for 2012
// keys, 32 with GOST R 34.11-94 for 2001 keys.
type kdfParams struct {
	newHash func() hash.Hash
	bufLen  int
}

var (
	kdf2012 = kdfParams{streebog.New256, 64}
	kdf2001 = kdfParams{gost341194.NewCryptoPro, 32}
)

// deriveKey is CryptoPro's password-based key derivation: the 32-byte GOST
// 28147-89 key that encrypts primary.key. pin is the password as CryptoPro
// widens it (four bytes a character, see widen); an empty pin means no
// password (then 2 rounds instead of 2,000).
func deriveKey(p kdfParams, salt, pin []byte) []byte {
	h := p.newHash()
	h.Write(salt)
	h.Write(pin)
	first := h.Sum(nil)

	c := make([]byte, p.bufLen)
	copy(c, kdfStart)
	m0 := make([]byte, p.bufLen)
	m1 := make([]byte, p.bufLen)
	pad := func() {
		for i := range c {
			m0[i], m1[i] = c[i]^0x36, c[i]^0x5c
		}
	}
	rounds := 2000
	if len(pin) == 0 {
		rounds = 2
	}
	var d []byte
	for range rounds {
		pad()
		h.Reset()
		h.Write(m0)
		h.Write(first)
		h.Write(m1)
		h.Write(first)
		d = h.Sum(d[:0])
		clear(c)
		copy(c, d)
	}
	pad()
	h.Reset()
	h.Write(m0[:32])
	h.Write(salt)
	h.Write(m1[:32])
	h.Write(pin)
	d = h.Sum(d[:0])
	h.Reset()
	h.Write(d[:32])
	return h.Sum(nil)
}

// widenings returns the byte strings the password may have been hashed as.
// CryptoPro hashes four bytes a character; for an ASCII password every public
// implementation agrees (the character, then three zero bytes) and that is
// the only candidate. For other characters the real containers seen so far
// give no answer, so three readings are tried: UTF-32LE code points (wchar_t
// on Linux), the UTF-8 bytes one by one, and the Windows-1251 bytes one by one.
func widenings(password []byte) ([][]byte, error) {
	if !utf8.Valid(password) {
		return nil, fmt.Errorf("cryptopro: the password is not UTF-8")
	}
	if n := utf8.RuneCount(password); n > MaxPasswordLen {
		return nil, fmt.Errorf("cryptopro: the password has %d characters, CryptoPro allows at most %d", n, MaxPasswordLen)
	}
	ascii := true
	for _, c := range password {
		ascii = ascii && c < 0x80
	}
	bytewise := widenBytes(password)
	if ascii {
		return [][]byte{bytewise}, nil
	}
	var runes []byte
	cp1251 := []byte{}
	for _, r := range string(password) {
		runes = binary.LittleEndian.AppendUint32(runes, uint32(r))
		if b, ok := toCP1251(r); ok && cp1251 != nil {
			cp1251 = append(cp1251, b)
		} else {
			cp1251 = nil
		}
	}
	out := [][]byte{runes, bytewise}
	if cp1251 != nil {
		out = append(out, widenBytes(cp1251))
	}
	return out, nil
}

func widenBytes(b []byte) []byte {
	out := make([]byte, 4*len(b))
	for i, c := range b {
		out[4*i] = c
	}
	return out
}

// toCP1251 maps the Russian letters, Ё/ё and ASCII to Windows-1251.
func toCP1251(r rune) (byte, bool) {
	switch {
	case r < 0x80:
		return byte(r), true
	case r >= 'А' && r <= 'я':
		return byte(r - 'А' + 0xc0), true
	case r == 'Ё':
		return 0xa8, true
	case r == 'ё':
		return 0xb8, true
	}
	return 0, false
}

// KEK returns the GOST 28147-89 key that encrypts a key with parameters p
// under password (UTF-8, read as CryptoPro reads an ASCII password: see
// widenings) and the salt of its masks.key. It is exported for tools that
// write containers; kep itself writes none (its tests do, through
// internal/cpfixture).
func KEK(p *KeyParams, salt, password []byte) ([]byte, error) {
	pins, err := widenings(password)
	if err != nil {
		return nil, err
	}
	kdf := kdf2012
	if p.Algorithm.Equal(OIDAgreement2001) {
		kdf = kdf2001
	}
	return deriveKey(kdf, salt, pins[0]), nil
}
