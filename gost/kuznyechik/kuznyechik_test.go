package kuznyechik

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ddulesov/gogost/gost3412128"
	"github.com/kepkit/kep/gost/internal/vectors"
)

func TestVectors(t *testing.T) {
	counts := map[string]int{}
	for _, v := range vectors.Load(t, "testdata/vectors.txt") {
		kind := v.Str(t, "kind")
		switch kind {
		case "s", "r", "l":
			var b [BlockSize]byte
			copy(b[:], v.Hex(t, "in"))
			switch kind {
			case "s":
				for i := range b {
					b[i] = pi[b[i]]
				}
			case "r":
				r(&b)
			case "l":
				lTrans(&b)
			}
			if want := v.Hex(t, "out"); !bytes.Equal(b[:], want) {
				t.Errorf("%v: got %x, want %x", v, b, want)
			}
			// The inverses.
			switch kind {
			case "r":
				rInv(&b)
			case "l":
				lInv(&b)
			case "s":
				for i := range b {
					b[i] = piInv[b[i]]
				}
			}
			if want := v.Hex(t, "in"); !bytes.Equal(b[:], want) {
				t.Errorf("%v: inverse gives %x", v, b)
			}
		case "const":
			c := consts[v.Int(t, "i")-1].bytes()
			if want := v.Hex(t, "out"); !bytes.Equal(c[:], want) {
				t.Errorf("%v: got %x, want %x", v, c, want)
			}
		case "keys":
			c, err := NewCipher(v.Hex(t, "key"))
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.ek {
				k := c.ek[i].bytes()
				if want := v.Hex(t, fmt.Sprintf("k%d", i+1)); !bytes.Equal(k[:], want) {
					t.Errorf("%v: K%d = %x, want %x", v, i+1, k, want)
				}
			}
		case "ecb":
			c, err := NewCipher(v.Hex(t, "key"))
			if err != nil {
				t.Fatal(err)
			}
			in, want := v.Hex(t, "in"), v.Hex(t, "out")
			got := make([]byte, len(in))
			for i := 0; i < len(in); i += BlockSize {
				c.Encrypt(got[i:], in[i:])
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%v: got %x, want %x", v, got, want)
			}
			for i := 0; i < len(in); i += BlockSize {
				c.Decrypt(got[i:], got[i:])
			}
			if !bytes.Equal(got, in) {
				t.Errorf("%v: decryption gives %x", v, got)
			}
		default:
			t.Fatalf("%v: unknown kind", v)
		}
		v.CheckUsed(t)
		counts[kind]++
	}
	t.Logf("RFC 7801 / GOST R 34.13-2015 vectors: %v", counts)
	if counts["s"] != 4 || counts["r"] != 4 || counts["l"] != 4 || counts["const"] != 8 || counts["keys"] != 1 || counts["ecb"] != 2 {
		t.Fatalf("the vector file lost cases: %v", counts)
	}
}

// TestGogost compares random keys and blocks with gogost's gost3412128
// (github.com/ddulesov/gogost v1.0.0, a test oracle only).
func TestGogost(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7801, 1))
	for i := 0; i < 150; i++ {
		key, blk := make([]byte, 32), make([]byte, 16)
		for j := range key {
			key[j] = byte(rnd.Uint32())
		}
		for j := range blk {
			blk[j] = byte(rnd.Uint32())
		}
		c, _ := NewCipher(key)
		o := gost3412128.NewCipher(key)
		got, want := make([]byte, 16), make([]byte, 16)
		c.Encrypt(got, blk)
		o.Encrypt(want, blk)
		if !bytes.Equal(got, want) {
			t.Fatalf("key %x block %x: got %x, gogost %x", key, blk, got, want)
		}
		c.Decrypt(got, blk)
		o.Decrypt(want, blk)
		if !bytes.Equal(got, want) {
			t.Fatalf("decrypt key %x block %x: got %x, gogost %x", key, blk, got, want)
		}
		c.Encrypt(got, got)
		if !bytes.Equal(got, blk) {
			t.Fatal("in-place encryption of the decryption is not the block")
		}
	}
	if _, err := NewCipher(make([]byte, 16)); err == nil {
		t.Error("16-byte key accepted")
	}
}

// TestConstantTime: the constant-time cipher equals the table one (key
// schedule, encryption, decryption) on the RFC key and random keys.
func TestConstantTime(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7801, 3))
	for i := 0; i < 12; i++ {
		key, blk := make([]byte, 32), make([]byte, 16)
		for j := range key {
			key[j] = byte(rnd.Uint32())
		}
		for j := range blk {
			blk[j] = byte(rnd.Uint32())
		}
		if i == 0 {
			key = mustHex(t, "8899aabbccddeeff0011223344556677fedcba98765432100123456789abcdef")
			blk = mustHex(t, "1122334455667700ffeeddccbbaa9988")
		}
		a, _ := NewCipher(key)
		b, err := NewCipherConstantTime(key)
		if err != nil || a.ek != b.ek || !b.ct {
			t.Fatalf("key %x: constant-time key schedule differs (%v)", key, err)
		}
		x, y := make([]byte, 16), make([]byte, 16)
		a.Encrypt(x, blk)
		b.Encrypt(y, blk)
		if !bytes.Equal(x, y) {
			t.Fatalf("key %x block %x: tables %x, constant time %x", key, blk, x, y)
		}
		if i == 0 && hex.EncodeToString(y) != "7f679d90bebc24305a468d42b9d4edcd" {
			t.Fatalf("constant-time RFC 7801 5.5 encryption gives %x", y)
		}
		b.Decrypt(y, x)
		if !bytes.Equal(y, blk) {
			t.Fatalf("key %x: constant-time decryption gives %x", key, y)
		}
	}
	if _, err := NewCipherConstantTime(make([]byte, 31)); err == nil {
		t.Error("31-byte key accepted")
	}
}

func mustHex(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
