package mode

import (
	"crypto/cipher"
	"testing"

	"github.com/kepkit/kep/gost/gost28147"
	"github.com/kepkit/kep/gost/kuznyechik"
)

// The stream benchmarks encrypt 1 MiB buffers in place, as bench/openssl/
// gostbench.c does with EVP_EncryptUpdate (make bench: magma-ctr,
// kuznyechik-ctr).
func benchStream(b *testing.B, s cipher.Stream) {
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i*131 + 7)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		s.XORKeyStream(buf, buf)
	}
}

var benchKey = []byte("0123456789abcdef0123456789abcdef")

func BenchmarkCTR(b *testing.B) {
	b.Run("magma", func(b *testing.B) {
		c, _ := gost28147.NewMagma(benchKey)
		s, _ := NewCTR(c, benchKey[:4])
		benchStream(b, s)
	})
	b.Run("kuznyechik", func(b *testing.B) {
		c, _ := kuznyechik.NewCipher(benchKey)
		s, _ := NewCTR(c, benchKey[:8])
		benchStream(b, s)
	})
}

func BenchmarkCTRACPKM(b *testing.B) {
	b.Run("kuznyechik-256k", func(b *testing.B) {
		s, _ := NewCTRACPKM(Kuznyechik, benchKey, benchKey[:8], 256<<10)
		benchStream(b, s)
	})
}

func BenchmarkOMAC(b *testing.B) {
	buf := make([]byte, 1<<20)
	for _, c := range []struct {
		name string
		nb   NewBlock
	}{{"magma", Magma}, {"kuznyechik", Kuznyechik}} {
		b.Run(c.name, func(b *testing.B) {
			blk, _ := c.nb(benchKey)
			h := NewOMAC(blk)
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				h.Write(buf)
			}
		})
	}
}
