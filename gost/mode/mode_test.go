package mode

import (
	"bytes"
	"crypto/cipher"
	"math/rand/v2"
	"testing"

	"github.com/kepkit/kep/gost/internal/vectors"
)

func newBlock(t testing.TB, name string) NewBlock {
	switch name {
	case "magma":
		return Magma
	case "kuznyechik":
		return Kuznyechik
	}
	t.Fatalf("unknown cipher %q", name)
	return nil
}

func TestVectors(t *testing.T) {
	counts := map[string]int{}
	r := rand.New(rand.NewPCG(3413, 2015))
	for _, v := range vectors.Load(t, "testdata/vectors.txt") {
		nb := newBlock(t, v.Str(t, "cipher"))
		key, in, want := v.Hex(t, "key"), v.Hex(t, "in"), v.Hex(t, "out")
		mode := v.Str(t, "mode")
		var got []byte
		switch mode {
		case "ctr", "ctr-acpkm":
			iv := v.Hex(t, "iv")
			mk := func() cipher.Stream {
				var s cipher.Stream
				var err error
				if mode == "ctr" {
					b, _ := nb(key)
					s, err = NewCTR(b, iv)
				} else {
					s, err = NewCTRACPKM(nb, key, iv, v.Int(t, "section"))
				}
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			if len(in) != len(want) {
				t.Fatalf("%v: in and out differ in length", v)
			}
			got = make([]byte, len(in))
			mk().XORKeyStream(got, in)
			pieces := make([]byte, len(in))
			s := mk()
			for i := 0; i < len(in); {
				n := min(len(in)-i, r.IntN(20))
				s.XORKeyStream(pieces[i:i+n], in[i:i+n])
				i += n
			}
			if !bytes.Equal(pieces, got) {
				t.Errorf("%v: in pieces %x", v, pieces)
			}
		case "omac", "omac-acpkm":
			var h interface {
				Write([]byte) (int, error)
				Sum([]byte) []byte
			}
			mk := func() interface {
				Write([]byte) (int, error)
				Sum([]byte) []byte
			} {
				if mode == "omac" {
					b, _ := nb(key)
					return NewOMAC(b)
				}
				x, err := NewOMACACPKM(nb, key, v.Int(t, "section"), v.Int(t, "master-section"))
				if err != nil {
					t.Fatal(err)
				}
				return x
			}
			h = mk()
			h.Write(in)
			got = h.Sum(nil)[:len(want)]
			h2 := mk()
			for i := 0; i < len(in); {
				n := min(len(in)-i, r.IntN(9))
				h2.Write(in[i : i+n])
				if i < 9 {
					h2.Sum(nil) // Sum in the middle leaves the state alone
				}
				i += n
			}
			if p := h2.Sum(nil)[:len(want)]; !bytes.Equal(p, want) {
				t.Errorf("%v: in pieces %x", v, p)
			}
		default:
			t.Fatalf("%v: unknown mode", v)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%v:\n got  %x\n want %x", v, got, want)
		}
		v.CheckUsed(t)
		counts[mode]++
	}
	t.Logf("vectors: %v", counts)
	if counts["ctr"] != 2 || counts["omac"] != 2 || counts["ctr-acpkm"] != 2 || counts["omac-acpkm"] != 4 {
		t.Fatalf("the vector file lost cases: %v", counts)
	}
}
