package keywrap

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/kepkit/kep/gost/gost28147"
	"github.com/kepkit/kep/gost/internal/vectors"
	"github.com/kepkit/kep/gost/mode"
)

func TestKExp15Vectors(t *testing.T) {
	n := 0
	for _, v := range vectors.Load(t, "testdata/vectors.txt") {
		nb := mode.Magma
		if v.Str(t, "cipher") == "kuznyechik" {
			nb = mode.Kuznyechik
		}
		key, kenc, kmac, iv, want := v.Hex(t, "key"), v.Hex(t, "kenc"), v.Hex(t, "kmac"), v.Hex(t, "iv"), v.Hex(t, "out")
		got, err := KExp15(nb, kenc, kmac, iv, key)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%v: KExp15 = %x, %v; want %x", v, got, err, want)
		}
		back, err := KImp15(nb, kenc, kmac, iv, want)
		if err != nil || !bytes.Equal(back, key) {
			t.Errorf("%v: KImp15 = %x, %v", v, back, err)
		}
		v.CheckUsed(t)
		n++
	}
	if n != 1 {
		t.Fatalf("%d vectors", n)
	}
}

func rnd(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestRoundTrips: every wrap unwraps to its key, any changed byte (or a
// wrong KEK) is refused with ErrMAC, and the CryptoPro wrap is the 28147
// wrap under the diversified key.
func TestRoundTrips(t *testing.T) {
	r := rand.New(rand.NewPCG(4357, 6))
	for i := 0; i < 60; i++ {
		s := gost28147.SBoxes[i%6]
		kek, ukm, cek := rnd(r, 32), rnd(r, 8), rnd(r, 32)
		for _, w := range []struct {
			name   string
			wrap   func(*gost28147.SBox, []byte, []byte, []byte) ([]byte, error)
			unwrap func(*gost28147.SBox, []byte, []byte) ([]byte, error)
		}{{"28147", Wrap28147, Unwrap28147}, {"cryptopro", WrapCryptoPro, UnwrapCryptoPro}} {
			wr, err := w.wrap(s, kek, ukm, cek)
			if err != nil || len(wr) != WrappedSize || !bytes.Equal(wr[:8], ukm) {
				t.Fatalf("%s: %x, %v", w.name, wr, err)
			}
			got, err := w.unwrap(s, kek, wr)
			if err != nil || !bytes.Equal(got, cek) {
				t.Fatalf("%s: unwrap %x, %v", w.name, got, err)
			}
			bad := append([]byte(nil), wr...)
			bad[r.IntN(len(bad))] ^= 1 << r.IntN(8)
			if _, err := w.unwrap(s, kek, bad); err != ErrMAC {
				t.Fatalf("%s: a changed byte gives %v", w.name, err)
			}
			kek2 := append([]byte(nil), kek...)
			kek2[0] ^= 1
			if _, err := w.unwrap(s, kek2, wr); err != ErrMAC {
				t.Fatalf("%s: a wrong KEK gives %v", w.name, err)
			}
		}
		d, _ := DiversifyCryptoPro(s, kek, ukm)
		a, _ := WrapCryptoPro(s, kek, ukm, cek)
		b, _ := Wrap28147(s, d, ukm, cek)
		if !bytes.Equal(a, b) || bytes.Equal(d, kek) {
			t.Fatal("CryptoPro wrap is not the 28147 wrap under the diversified KEK")
		}
		for _, c := range []struct {
			nb mode.NewBlock
			iv int
		}{{mode.Magma, 4}, {mode.Kuznyechik, 8}} {
			kenc, kmac, iv, key := rnd(r, 32), rnd(r, 32), rnd(r, c.iv), rnd(r, 32)
			if i%10 == 0 { // the constant-time ciphers give the same export
				ct := map[int]mode.NewBlock{4: mode.MagmaConstantTime, 8: mode.KuznyechikConstantTime}[c.iv]
				a, _ := KExp15(c.nb, kenc, kmac, iv, key)
				b, _ := KExp15(ct, kenc, kmac, iv, key)
				if !bytes.Equal(a, b) {
					t.Fatal("KExp15 differs with the constant-time cipher")
				}
			}
			e, err := KExp15(c.nb, kenc, kmac, iv, key)
			if err != nil || len(e) != 32+2*c.iv {
				t.Fatalf("KExp15: %x, %v", e, err)
			}
			k, err := KImp15(c.nb, kenc, kmac, iv, e)
			if err != nil || !bytes.Equal(k, key) {
				t.Fatalf("KImp15: %x, %v", k, err)
			}
			e[r.IntN(len(e))] ^= 0x80
			if _, err := KImp15(c.nb, kenc, kmac, iv, e); err != ErrMAC {
				t.Fatalf("KImp15 of a changed export: %v", err)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	s := gost28147.CryptoProA
	if _, err := Wrap28147(s, make([]byte, 31), make([]byte, 8), make([]byte, 32)); err == nil {
		t.Error("31-byte KEK accepted")
	}
	if _, err := WrapCryptoPro(s, make([]byte, 32), make([]byte, 7), make([]byte, 32)); err == nil {
		t.Error("7-byte UKM accepted")
	}
	if _, err := UnwrapCryptoPro(s, make([]byte, 32), make([]byte, 43)); err == nil {
		t.Error("43-byte blob accepted")
	}
	if _, err := KExp15(mode.Magma, make([]byte, 32), make([]byte, 32), make([]byte, 8), make([]byte, 32)); err == nil {
		t.Error("8-byte IV accepted for Magma")
	}
}
