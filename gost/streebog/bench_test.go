package streebog

import (
	"hash"
	"testing"
)

func benchmarkStreebog(b *testing.B, h hash.Hash) {
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		h.Reset()
		h.Write(buf)
	}
}

func BenchmarkStreebog256(b *testing.B) { benchmarkStreebog(b, New256()) }

func BenchmarkStreebog512(b *testing.B) { benchmarkStreebog(b, New512()) }
