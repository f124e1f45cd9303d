package gost28147

import (
	"testing"
)

var benchKey = []byte("0123456789abcdef0123456789abcdef")

// BenchmarkBlock measures single-block encryption (ECB), the bare cipher.
func BenchmarkBlock(b *testing.B) {
	buf := make([]byte, 1<<16)
	for _, c := range []struct {
		name string
		mk   func() *Cipher
	}{
		{"gost28147", func() *Cipher { c, _ := NewCipher(benchKey, CryptoProA); return c }},
		{"magma", func() *Cipher { c, _ := NewMagma(benchKey); return c }},
		{"gost28147-consttime", func() *Cipher { c, _ := NewCipher(benchKey, CryptoProA); return c.ConstantTime() }},
		{"magma-consttime", func() *Cipher { c, _ := NewMagma(benchKey); return c.ConstantTime() }},
	} {
		b.Run(c.name, func(b *testing.B) {
			ci := c.mk()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				EncryptECB(ci, buf, buf)
			}
		})
	}
}

// BenchmarkCFB measures GOST 28147-89 CFB with CryptoPro key meshing on
// 1 MiB buffers (make bench: gost89-cfb, OpenSSL's gost89 cipher).
func BenchmarkCFB(b *testing.B) {
	buf := make([]byte, 1<<20)
	c, _ := NewCipher(benchKey, CryptoProA)
	s, _ := NewCFBEncrypter(c, benchKey[:8], true)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		s.XORKeyStream(buf, buf)
	}
}

// BenchmarkCNT measures the counter mode with key meshing (gost89-cnt).
func BenchmarkCNT(b *testing.B) {
	buf := make([]byte, 1<<20)
	c, _ := NewCipher(benchKey, CryptoProA)
	s, _ := NewCNT(c, benchKey[:8], true)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		s.XORKeyStream(buf, buf)
	}
}
