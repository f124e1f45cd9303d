package field

import (
	"bytes"
	"math/big"
	"testing"
)

// fuzzModuli are the moduli FuzzField picks from.
var fuzzModuli = []*big.Int{
	pow2(256, -617),
	pow2(512, -569),
	pow2(255, 3225),
	hexInt("400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67"),
	pow2(511, 111),
	pow2(256, 297),
}

func leToBig(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(be)
}

// FuzzField checks Reduce, Mul, Sqr, Add, Sub, Neg, Inv and the canonical
// encodings against math/big for fuzz-chosen operands.
func FuzzField(f *testing.F) {
	f.Add(uint8(0), []byte{1}, []byte{2})
	f.Add(uint8(1), bytes.Repeat([]byte{0xff}, 128), bytes.Repeat([]byte{0xff}, 64))
	f.Add(uint8(2), bytes.Repeat([]byte{0xff}, 32), []byte{})
	f.Add(uint8(3), []byte{0x67, 0x0c, 0x36, 0x6c}, bytes.Repeat([]byte{0x80}, 63))
	f.Add(uint8(5), bytes.Repeat([]byte{0x01, 0xff}, 40), bytes.Repeat([]byte{0xfe}, 33))
	f.Fuzz(func(t *testing.T, sel uint8, a, b []byte) {
		x := newFixture(t, fuzzModuli[int(sel)%len(fuzzModuli)])
		fld, m, size := x.f, x.m, x.f.Size()
		a, b = a[:min(len(a), 2*size)], b[:min(len(b), 2*size)]
		va := new(big.Int).Mod(leToBig(a), m)
		vb := new(big.Int).Mod(leToBig(b), m)

		var ea, eb, z Elem
		fld.Reduce(&ea, a)
		x.check("Reduce", &ea, va, va)
		fld.Reduce(&eb, b)
		x.check("Reduce", &eb, vb, vb)

		fld.Mul(&z, &ea, &eb)
		x.check("Mul", &z, new(big.Int).Mul(va, vb), va, vb)
		fld.Sqr(&z, &ea)
		x.check("Sqr", &z, new(big.Int).Mul(va, va), va)
		fld.Add(&z, &ea, &eb)
		x.check("Add", &z, new(big.Int).Add(va, vb), va, vb)
		fld.Sub(&z, &ea, &eb)
		x.check("Sub", &z, new(big.Int).Sub(va, vb), va, vb)
		fld.Neg(&z, &eb)
		x.check("Neg", &z, new(big.Int).Neg(vb), vb)
		fld.Inv(&z, &ea)
		want := new(big.Int).ModInverse(va, m)
		if want == nil {
			want = new(big.Int)
		}
		x.check("Inv", &z, want, va)

		out := make([]byte, size)
		fld.BytesLE(out, &ea)
		if got := leToBig(out); got.Cmp(va) != 0 {
			t.Fatalf("BytesLE = %x, want %x", got, va)
		}
		if len(a) >= size {
			err := fld.SetBytesLE(&z, a[:size])
			v := leToBig(a[:size])
			if (err == nil) != (v.Cmp(m) < 0) {
				t.Fatalf("SetBytesLE(%x): %v", v, err)
			}
			if err == nil {
				x.check("SetBytesLE", &z, v, v)
			}
		}
	})
}
