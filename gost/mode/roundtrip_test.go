package mode

import (
	"bytes"
	"crypto/cipher"
	"math/rand/v2"
	"testing"
)

// streams returns fresh CTR and CTR-ACPKM streams (Magma and Kuznyechik)
// for one key, IV and section size.
func streams(t testing.TB, key, iv []byte, sect int) []func() cipher.Stream {
	var out []func() cipher.Stream
	for _, c := range []struct {
		nb NewBlock
		bs int
	}{{Magma, 8}, {Kuznyechik, 16}} {
		c := c
		out = append(out,
			func() cipher.Stream {
				b, _ := c.nb(key)
				s, err := NewCTR(b, iv[:c.bs/2])
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			func() cipher.Stream {
				s, err := NewCTRACPKM(c.nb, key, iv[:c.bs/2], sect*c.bs)
				if err != nil {
					t.Fatal(err)
				}
				return s
			})
	}
	return out
}

// TestRoundTrip: decryption (the same stream) gives the input back,
// streaming in random pieces equals one call, and OMAC / OMAC-ACPKM in
// pieces equal one call, for random keys, lengths and section sizes.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(34, 13))
	for i := 0; i < 50; i++ {
		key, iv, msg := rnd(r, 32), rnd(r, 8), rnd(r, r.IntN(3000))
		sect := 1 + r.IntN(6)
		for j, mk := range streams(t, key, iv, sect) {
			one := make([]byte, len(msg))
			mk().XORKeyStream(one, msg)
			if len(msg) > 32 && bytes.Equal(one[:32], msg[:32]) {
				t.Fatal("encryption did nothing")
			}
			pieces, back := make([]byte, len(msg)), make([]byte, len(msg))
			e, d := mk(), mk()
			for k := 0; k < len(msg); {
				n := min(len(msg)-k, r.IntN(50))
				e.XORKeyStream(pieces[k:k+n], msg[k:k+n])
				d.XORKeyStream(back[k:k+n], pieces[k:k+n])
				k += n
			}
			if !bytes.Equal(one, pieces) || !bytes.Equal(back, msg) {
				t.Fatalf("stream %d, section %d blocks, %d bytes: pieces or round trip differ", j, sect, len(msg))
			}
		}
		for _, nb := range []NewBlock{Magma, Kuznyechik} {
			b, _ := nb(key)
			bs := b.BlockSize()
			mk := []func() interface {
				Write([]byte) (int, error)
				Sum([]byte) []byte
			}{
				func() interface {
					Write([]byte) (int, error)
					Sum([]byte) []byte
				} {
					return NewOMAC(b)
				},
				func() interface {
					Write([]byte) (int, error)
					Sum([]byte) []byte
				} {
					h, err := NewOMACACPKM(nb, key, sect*bs, (1+sect)*(32+bs))
					if err != nil {
						t.Fatal(err)
					}
					return h
				},
			}
			for j, m := range mk {
				h1, h2 := m(), m()
				h1.Write(msg)
				for k := 0; k < len(msg); {
					n := min(len(msg)-k, r.IntN(40))
					h2.Write(msg[k : k+n])
					k += n
				}
				if !bytes.Equal(h1.Sum(nil), h2.Sum(nil)) {
					t.Fatalf("MAC %d in pieces differs", j)
				}
			}
		}
	}
}

func TestModeErrors(t *testing.T) {
	b, _ := Kuznyechik(make([]byte, 32))
	if _, err := NewCTR(b, make([]byte, 16)); err == nil {
		t.Error("a whole-block CTR IV accepted")
	}
	if _, err := NewCTRACPKM(Kuznyechik, make([]byte, 32), make([]byte, 8), 100); err == nil {
		t.Error("a section size that is not a multiple of the block accepted")
	}
	if _, err := NewOMACACPKM(Magma, make([]byte, 32), 16, 0); err == nil {
		t.Error("a zero master section accepted")
	}
	if _, err := Kuznyechik(make([]byte, 31)); err == nil {
		t.Error("31-byte key accepted")
	}
}

// FuzzCTRACPKM: for any key, message, section size and cut, encrypting in
// two pieces equals one call and decrypting gives the message back.
func FuzzCTRACPKM(f *testing.F) {
	f.Add([]byte("some key material, thirty-two b."), []byte("hello, world: a message longer than a block or two"), uint8(5), uint8(1))
	f.Fuzz(func(t *testing.T, seed, msg []byte, cut, sect uint8) {
		key := make([]byte, 32)
		copy(key, seed)
		k := min(int(cut), len(msg))
		for _, mk := range streams(t, key, key[:8], 1+int(sect%8)) {
			one := make([]byte, len(msg))
			mk().XORKeyStream(one, msg)
			two := make([]byte, len(msg))
			s := mk()
			s.XORKeyStream(two[:k], msg[:k])
			s.XORKeyStream(two[k:], msg[k:])
			back := make([]byte, len(msg))
			mk().XORKeyStream(back, two)
			if !bytes.Equal(one, two) || !bytes.Equal(back, msg) {
				t.Fatal("pieces or round trip differ")
			}
		}
	})
}

// TestConstantTimeBlocks: CTR-ACPKM and OMAC-ACPKM over the constant-time
// ciphers equal the table versions (this also re-keys through ACPKM).
func TestConstantTimeBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(99, 1))
	key, iv, msg := rnd(r, 32), rnd(r, 8), rnd(r, 300)
	for _, c := range []struct {
		fast, ct NewBlock
		bs       int
	}{{Magma, MagmaConstantTime, 8}, {Kuznyechik, KuznyechikConstantTime, 16}} {
		a, _ := NewCTRACPKM(c.fast, key, iv[:c.bs/2], 2*c.bs)
		b, _ := NewCTRACPKM(c.ct, key, iv[:c.bs/2], 2*c.bs)
		x, y := make([]byte, len(msg)), make([]byte, len(msg))
		a.XORKeyStream(x, msg)
		b.XORKeyStream(y, msg)
		if !bytes.Equal(x, y) {
			t.Fatalf("block size %d: CTR-ACPKM differs with the constant-time cipher", c.bs)
		}
		h1, _ := NewOMACACPKM(c.fast, key, c.bs, 2*(32+c.bs))
		h2, _ := NewOMACACPKM(c.ct, key, c.bs, 2*(32+c.bs))
		h1.Write(msg[:100])
		h2.Write(msg[:100])
		if !bytes.Equal(h1.Sum(nil), h2.Sum(nil)) {
			t.Fatalf("block size %d: OMAC-ACPKM differs with the constant-time cipher", c.bs)
		}
	}
}
