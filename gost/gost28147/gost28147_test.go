package gost28147

import (
	"bytes"
	"crypto/cipher"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/kepkit/kep/gost/internal/vectors"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// maxZeros bounds the long all-zero vectors run by default: the four 3–4 GiB
// cases of the CryptoPro CSP file would take minutes, so they are reported
// and not run (and not counted).
const maxZeros = 8 << 20

// TestCSPVectors runs the vectors computed by CryptoPro CSP (and RFC 5831's
// three ECB blocks) on ECB, CFB and CNT with key meshing, and the MAC, for
// the CryptoPro A–D S-boxes. The 5 MiB cases go through many key meshings.
func TestCSPVectors(t *testing.T) {
	vs := vectors.Load(t, "testdata/csp-vectors.txt")
	counts := map[string]int{}
	skipped := 0
	r := rand.New(rand.NewPCG(28147, 89))
	for _, v := range vs {
		sb, err := SBoxByName(v.Str(t, "sbox"))
		if err != nil {
			t.Fatal(err)
		}
		key, iv, mode := v.Hex(t, "key"), v.Hex(t, "iv"), v.Str(t, "mode")
		var in []byte
		var want []byte
		tail := false
		if v.Has("zeros") {
			n := v.Int(t, "zeros")
			if n > maxZeros {
				skipped++
				t.Logf("%v: %d bytes of input, not run", v, n)
				if v.Has("out-tail") {
					v.Hex(t, "out-tail")
				} else {
					v.Hex(t, "out")
				}
				v.CheckUsed(t)
				continue
			}
			in = make([]byte, n)
			if v.Has("out-tail") {
				want, tail = v.Hex(t, "out-tail"), true
			} else {
				want = v.Hex(t, "out")
			}
		} else {
			in, want = v.Hex(t, "in"), v.Hex(t, "out")
		}
		v.CheckUsed(t)
		c, err := NewCipher(key, sb)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		switch mode {
		case "ecb":
			got = make([]byte, len(in))
			EncryptECB(c, got, in)
			back := make([]byte, len(in))
			DecryptECB(c, back, got)
			if !bytes.Equal(back, in) {
				t.Errorf("%v: ECB decryption does not invert", v)
			}
		case "cfb", "cnt":
			mk := func() cipher.Stream {
				var s cipher.Stream
				if mode == "cfb" {
					s, err = NewCFBEncrypter(c, iv, true)
				} else {
					s, err = NewCNT(c, iv, true)
				}
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			got = make([]byte, len(in))
			mk().XORKeyStream(got, in)
			// In random pieces: the same.
			if len(in) < 1<<16 {
				pieces := make([]byte, len(in))
				s := mk()
				for i := 0; i < len(in); {
					n := min(len(in)-i, r.IntN(40))
					s.XORKeyStream(pieces[i:i+n], in[i:i+n])
					i += n
				}
				if !bytes.Equal(pieces, got) {
					t.Errorf("%v: streamed in pieces differs from one call", v)
				}
			}
			// Decryption gives the input back.
			back := make([]byte, len(in))
			var d cipher.Stream
			if mode == "cfb" {
				d, _ = NewCFBDecrypter(c, iv, true)
			} else {
				d, _ = NewCNT(c, iv, true)
			}
			d.XORKeyStream(back, got)
			if !bytes.Equal(back, in) {
				t.Errorf("%v: decryption does not invert", v)
			}
		case "mac":
			m, err := NewMAC(c, iv, true)
			if err != nil {
				t.Fatal(err)
			}
			m.Write(in)
			got = m.Sum(nil)
		default:
			t.Fatalf("%v: unknown mode %q", v, mode)
		}
		if tail {
			got = got[len(got)-16:]
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%v (%s, %s, %d bytes): got %x, want %x", v, mode, sb.Name, len(in), got, want)
		}
		counts[mode]++
	}
	t.Logf("CryptoPro CSP vectors: %v run, %d (3–4 GiB inputs) not run", counts, skipped)
	if counts["ecb"] < 4 || counts["cfb"] < 5 || counts["cnt"] < 2 || counts["mac"] < 8 || skipped > 6 {
		t.Fatalf("the vector file lost cases: %v, %d not run", counts, skipped)
	}
}

// t is the substitution of RFC 8891 (π7..π0 on the eight nibbles).
func tSub(s *SBox, x uint32) uint32 {
	var y uint32
	for i := 0; i < 8; i++ {
		y |= uint32(s.rows[i][x>>(4*i)&15]) << (4 * i)
	}
	return y
}

func TestMagmaVectors(t *testing.T) {
	n := 0
	for _, v := range vectors.Load(t, "testdata/magma-vectors.txt") {
		switch v.Str(t, "kind") {
		case "t":
			in, out := binary.BigEndian.Uint32(v.Hex(t, "in")), binary.BigEndian.Uint32(v.Hex(t, "out"))
			if got := tSub(TC26Z, in); got != out {
				t.Errorf("%v: t = %08x, want %08x", v, got, out)
			}
			// The merged tables: t then a rotation by 11.
			c := &Cipher{s: TC26Z}
			if got := c.f(in); got != bits.RotateLeft32(out, 11) {
				t.Errorf("%v: table round function %08x", v, got)
			}
		case "g":
			k, in, out := binary.BigEndian.Uint32(v.Hex(t, "k")), binary.BigEndian.Uint32(v.Hex(t, "in")), binary.BigEndian.Uint32(v.Hex(t, "out"))
			c := &Cipher{s: TC26Z}
			if got := c.f(in + k); got != out {
				t.Errorf("%v: g = %08x, want %08x", v, got, out)
			}
		case "ecb":
			key, in, out := v.Hex(t, "key"), v.Hex(t, "in"), v.Hex(t, "out")
			c, err := NewMagma(key)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(in))
			EncryptECB(c, got, in)
			if !bytes.Equal(got, out) {
				t.Errorf("%v: got %x, want %x", v, got, out)
			}
			DecryptECB(c, got, got)
			if !bytes.Equal(got, in) {
				t.Errorf("%v: decryption gives %x", v, got)
			}
		default:
			t.Fatalf("%v: unknown kind", v)
		}
		v.CheckUsed(t)
		n++
	}
	if n != 10 {
		t.Fatalf("%d Magma vectors, want 10", n)
	}
}

func reverse(b []byte) []byte {
	o := make([]byte, len(b))
	for i := range b {
		o[i] = b[len(b)-1-i]
	}
	return o
}

// TestMagmaIsGOST28147Z checks the byte-order identity of the package doc:
// Magma(key, b) = reverse8(GOST28147_Z(swap32(key), reverse8(b))).
func TestMagmaIsGOST28147Z(t *testing.T) {
	r := rand.New(rand.NewPCG(8891, 1))
	for i := 0; i < 200; i++ {
		key := make([]byte, 32)
		blk := make([]byte, 8)
		for j := range key {
			key[j] = byte(r.Uint32())
		}
		for j := range blk {
			blk[j] = byte(r.Uint32())
		}
		swapped := make([]byte, 32)
		for w := 0; w < 8; w++ {
			copy(swapped[4*w:], reverse(key[4*w:4*w+4]))
		}
		m, _ := NewMagma(key)
		g, _ := NewCipher(swapped, TC26Z)
		a := make([]byte, 8)
		m.Encrypt(a, blk)
		b := make([]byte, 8)
		g.Encrypt(b, reverse(blk))
		if !bytes.Equal(a, reverse(b)) {
			t.Fatalf("key %x block %x: Magma %x, 28147-Z %x reversed", key, blk, a, reverse(b))
		}
		if !bytes.Equal(m.Key(), key) || !bytes.Equal(g.Key(), swapped) {
			t.Fatal("Key() does not return the key")
		}
	}
}

// TestKeyMeshing checks CryptoPro key meshing against the definition of
// RFC 4357 section 2.3.2 computed with the cipher's own decryption: the new
// key is ECB decryption of C under the old one.
func TestKeyMeshing(t *testing.T) {
	key := mustHex("8899aabbccddeeff0011223344556677fedcba98765432100123456789abcdef")
	c, _ := NewCipher(key, CryptoProA)
	want := make([]byte, 32)
	DecryptECB(c, want, meshingKey[:])
	m := *c
	m.meshKey()
	if !bytes.Equal(m.Key(), want) {
		t.Fatalf("meshed key %x, want %x", m.Key(), want)
	}
	if bytes.Equal(m.Key(), key) {
		t.Fatal("meshing did not change the key")
	}
	if !bytes.Equal(c.Key(), key) {
		t.Fatal("meshing a copy changed the original")
	}
}

func TestErrors(t *testing.T) {
	if _, err := NewCipher(make([]byte, 31), CryptoProA); err == nil {
		t.Error("31-byte key accepted")
	}
	if _, err := NewMagma(make([]byte, 33)); err == nil {
		t.Error("33-byte Magma key accepted")
	}
	c, _ := NewCipher(make([]byte, 32), CryptoProA)
	if _, err := NewCFBEncrypter(c, make([]byte, 7), false); err == nil {
		t.Error("7-byte IV accepted")
	}
	m, _ := NewMagma(make([]byte, 32))
	if _, err := NewCFBEncrypter(m, make([]byte, 8), true); err == nil {
		t.Error("key meshing with Magma accepted")
	}
	if _, err := NewCNT(m, make([]byte, 8), false); err == nil {
		t.Error("28147 CNT with Magma accepted")
	}
	if _, err := NewMAC(m, nil, false); err == nil {
		t.Error("imitovstavka with Magma accepted")
	}
	for _, s := range SBoxes {
		if got, err := SBoxByOID(s.OID); err != nil || got != s {
			t.Errorf("SBoxByOID(%v) = %v, %v", s.OID, got, err)
		}
	}
	if _, err := SBoxByName("nope"); err == nil {
		t.Error("unknown S-box name accepted")
	}
}

// TestMACPadding checks the padding rules against explicit computations:
// a message of at most 8 bytes is MACed as two blocks (itself padded with
// zeros, then a zero block), a longer one with its last block zero-padded.
func TestMACPadding(t *testing.T) {
	c, _ := NewCipher(mustHex("aa8584cd6528e1dbb8201943e036351019c3705b27c19d8475a3c649468f7c4e"), CryptoProA)
	mac := func(m []byte) []byte {
		h, _ := NewMAC(c, nil, false)
		h.Write(m)
		return h.Sum(nil)
	}
	msg := []byte("0123456789abcdefXYZ")
	for _, c2 := range []struct{ a, b []byte }{
		{msg[:5], append(append([]byte{}, msg[:5]...), make([]byte, 11)...)},
		{msg[:8], append(append([]byte{}, msg[:8]...), make([]byte, 8)...)},
		{msg[:19], append(append([]byte{}, msg[:19]...), make([]byte, 5)...)},
	} {
		if !bytes.Equal(mac(c2.a), mac(c2.b)) {
			t.Errorf("MAC(%q) differs from MAC of its padded form", c2.a)
		}
	}
	if bytes.Equal(mac(msg[:16]), mac(msg[:8])) {
		t.Error("16 and 8 bytes give one MAC")
	}
	h, _ := NewMAC(c, nil, false)
	h.Write(msg)
	s1 := h.Sum(nil)
	h.Write(nil)
	if !bytes.Equal(h.Sum(nil), s1) {
		t.Error("Sum changed the state")
	}
	h.Reset()
	for _, b := range msg {
		h.Write([]byte{b})
	}
	if !bytes.Equal(h.Sum(nil), s1) || h.Size() != 4 || h.BlockSize() != 8 {
		t.Error("byte-by-byte MAC differs or sizes wrong")
	}
}

// TestConstantTimeVariant checks that the constant-time substitution equals
// the tables on every S-box, for random inputs and every nibble value, and
// that whole encryptions and the modes agree.
func TestConstantTimeVariant(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 16))
	for _, s := range SBoxes {
		c := &Cipher{s: s}
		ct := c.ConstantTime()
		for i := 0; i < 2000; i++ {
			x := r.Uint32()
			if i < 16 {
				x = uint32(i) * 0x11111111
			}
			if a, b := c.f(x), ct.f(x); a != b {
				t.Fatalf("%s: f(%08x) tables %08x, constant-time %08x", s.Name, x, a, b)
			}
		}
		key := make([]byte, 32)
		for j := range key {
			key[j] = byte(r.Uint32())
		}
		a, _ := NewCipher(key, s)
		b := a.ConstantTime()
		msg := make([]byte, 2096)
		for j := range msg {
			msg[j] = byte(r.Uint32())
		}
		x, y := make([]byte, len(msg)), make([]byte, len(msg))
		EncryptECB(a, x, msg)
		EncryptECB(b, y, msg)
		if !bytes.Equal(x, y) {
			t.Fatalf("%s: ECB differs", s.Name)
		}
		s1, _ := NewCFBEncrypter(a, key[:8], true)
		s2, _ := NewCFBEncrypter(b, key[:8], true)
		s1.XORKeyStream(x, msg)
		s2.XORKeyStream(y, msg)
		if !bytes.Equal(x, y) {
			t.Fatalf("%s: CFB with meshing differs", s.Name)
		}
		DecryptECB(b, y, x)
		DecryptECB(a, x, x)
		if !bytes.Equal(x, y) {
			t.Fatalf("%s: ECB decryption differs", s.Name)
		}
	}
	m, _ := NewMagma(make([]byte, 32))
	if !m.ConstantTime().magma || !m.ConstantTime().ct || m.ct {
		t.Fatal("ConstantTime lost the byte order or changed the original")
	}
}
