package kuznyechik

import "testing"

func BenchmarkBlock(b *testing.B) {
	c, _ := NewCipher([]byte("0123456789abcdef0123456789abcdef"))
	buf := make([]byte, 1<<16)
	b.Run("encrypt", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			for i := 0; i < len(buf); i += BlockSize {
				c.Encrypt(buf[i:], buf[i:])
			}
		}
	})
	ct, _ := NewCipherConstantTime([]byte("0123456789abcdef0123456789abcdef"))
	b.Run("encrypt-consttime", func(b *testing.B) {
		b.SetBytes(int64(len(buf) / 16))
		for b.Loop() {
			for i := 0; i < len(buf)/16; i += BlockSize {
				ct.Encrypt(buf[i:], buf[i:])
			}
		}
	})
	b.Run("decrypt", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			for i := 0; i < len(buf); i += BlockSize {
				c.Decrypt(buf[i:], buf[i:])
			}
		}
	})
}
