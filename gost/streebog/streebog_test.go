package streebog

import (
	"bufio"
	"bytes"
	"encoding"
	"encoding/hex"
	"fmt"
	"hash"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// vector is one block of testdata/vectors.txt.
type vector struct {
	line   int // where the block starts
	name   string
	alg    int
	msg    []byte
	digest []byte
}

// readVectors parses testdata/vectors.txt (its format is described at its top).
func readVectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open("testdata/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		vs    []vector
		cur   *vector
		seen  = map[string]bool{}
		sc    = bufio.NewScanner(f)
		line  int
		flush = func() {
			if cur == nil {
				return
			}
			for _, k := range []string{"alg", "msg", "digest"} {
				if !seen[k] {
					t.Fatalf("vectors.txt:%d: vector without %s", cur.line, k)
				}
			}
			vs = append(vs, *cur)
			cur, seen = nil, map[string]bool{}
		}
	)
	for sc.Scan() {
		line++
		s := sc.Text()
		if strings.HasPrefix(s, "#") {
			continue
		}
		if strings.TrimSpace(s) == "" {
			flush()
			continue
		}
		key, val, ok := strings.Cut(s, ":")
		if !ok {
			t.Fatalf("vectors.txt:%d: no field in %q", line, s)
		}
		val = strings.TrimSpace(val)
		if cur == nil {
			cur = &vector{line: line}
		}
		field := key
		if strings.HasPrefix(key, "msg-") {
			field = "msg"
		}
		if seen[field] {
			t.Fatalf("vectors.txt:%d: %s given twice", line, field)
		}
		seen[field] = true
		var err error
		switch key {
		case "name":
			cur.name = val
		case "alg":
			cur.alg, err = strconv.Atoi(val)
			if err == nil && cur.alg != 256 && cur.alg != 512 {
				err = fmt.Errorf("unknown alg %d", cur.alg)
			}
		case "msg-hex":
			cur.msg, err = hex.DecodeString(val)
		case "msg-repeat":
			unit, count, ok := strings.Cut(val, " ")
			if !ok {
				err = fmt.Errorf("msg-repeat wants HEX COUNT")
				break
			}
			var u []byte
			var n int
			if u, err = hex.DecodeString(unit); err == nil {
				if n, err = strconv.Atoi(strings.TrimSpace(count)); err == nil {
					cur.msg = bytes.Repeat(u, n)
				}
			}
		case "digest":
			cur.digest, err = hex.DecodeString(val)
		default:
			err = fmt.Errorf("unknown field %q", key)
		}
		if err != nil {
			t.Fatalf("vectors.txt:%d: %v", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	return vs
}

// sum returns the one-shot digest of msg for alg 256 or 512.
func sum(alg int, msg []byte) []byte {
	if alg == 256 {
		d := Sum256(msg)
		return d[:]
	}
	d := Sum512(msg)
	return d[:]
}

func newHash(alg int) hash.Hash {
	if alg == 256 {
		return New256()
	}
	return New512()
}

func TestVectors(t *testing.T) {
	vs := readVectors(t)
	if len(vs) < 20 {
		t.Fatalf("only %d vectors read", len(vs))
	}
	for _, v := range vs {
		if len(v.digest) != v.alg/8 {
			t.Fatalf("vectors.txt:%d: digest of %d bytes for alg %d", v.line, len(v.digest), v.alg)
		}
		if got := sum(v.alg, v.msg); !bytes.Equal(got, v.digest) {
			t.Errorf("vectors.txt:%d %s (Sum%d): got %x, want %x", v.line, v.name, v.alg, got, v.digest)
		}
		h := newHash(v.alg)
		// Write byte by byte for short messages, in 1000-byte pieces otherwise.
		step := 1
		if len(v.msg) > 10000 {
			step = 1000
		}
		for p := v.msg; len(p) > 0; {
			n := min(step, len(p))
			h.Write(p[:n])
			p = p[n:]
		}
		if got := h.Sum(nil); !bytes.Equal(got, v.digest) {
			t.Errorf("vectors.txt:%d %s (New%d, %d-byte writes): got %x, want %x", v.line, v.name, v.alg, step, got, v.digest)
		}
	}
}

func TestSizes(t *testing.T) {
	for _, c := range []struct {
		h    hash.Hash
		size int
	}{{New256(), Size256}, {New512(), Size512}} {
		if c.h.Size() != c.size || c.h.BlockSize() != BlockSize {
			t.Errorf("Size, BlockSize = %d, %d; want %d, %d", c.h.Size(), c.h.BlockSize(), c.size, BlockSize)
		}
		if n := len(c.h.Sum(nil)); n != c.size {
			t.Errorf("Sum gives %d bytes, want %d", n, c.size)
		}
	}
}

// writeChunked writes msg to h in random pieces, some of them empty.
func writeChunked(r *rand.Rand, h hash.Hash, msg []byte) {
	for len(msg) > 0 {
		var n int
		switch r.IntN(4) {
		case 0:
			n = r.IntN(3) // tiny, including empty writes
		case 1:
			n = r.IntN(BlockSize + 1)
		default:
			n = r.IntN(len(msg) + 1)
		}
		n = min(n, len(msg))
		if m, err := h.Write(msg[:n]); m != n || err != nil {
			panic(fmt.Sprintf("Write returned %d, %v for %d bytes", m, err, n))
		}
		msg = msg[n:]
	}
}

func TestStreaming(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, alg := range []int{256, 512} {
		for i := range 500 {
			msg := make([]byte, r.IntN(5001))
			for j := range msg {
				msg[j] = byte(r.Uint32())
			}
			want := sum(alg, msg)
			h := newHash(alg)
			writeChunked(r, h, msg)
			got := h.Sum(nil)
			if !bytes.Equal(got, want) {
				t.Fatalf("%d #%d, %d bytes: chunked %x, one-shot %x", alg, i, len(msg), got, want)
			}
			// Sum appends and does not change the state.
			prefix := []byte("prefix")
			if got2 := h.Sum(prefix); !bytes.Equal(got2[:len(prefix)], prefix) || !bytes.Equal(got2[len(prefix):], want) {
				t.Fatalf("%d #%d: second Sum with prefix gives %x", alg, i, got2)
			}
			// Summing mid-stream does not disturb the rest.
			cut := r.IntN(len(msg) + 1)
			h.Reset()
			h.Write(msg[:cut])
			if mid := h.Sum(nil); !bytes.Equal(mid, sum(alg, msg[:cut])) {
				t.Fatalf("%d #%d: Sum of the first %d bytes wrong", alg, i, cut)
			}
			h.Write(msg[cut:])
			if got := h.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("%d #%d: Sum at %d changed the state", alg, i, cut)
			}
		}
	}
}

func TestReset(t *testing.T) {
	for _, alg := range []int{256, 512} {
		h := newHash(alg)
		empty := h.Sum(nil)
		h.Write(bytes.Repeat([]byte{0xa5}, 1000))
		h.Reset()
		if got := h.Sum(nil); !bytes.Equal(got, empty) {
			t.Errorf("%d: Sum after Reset = %x, want %x", alg, got, empty)
		}
		h.Write([]byte("abc"))
		if got, want := h.Sum(nil), sum(alg, []byte("abc")); !bytes.Equal(got, want) {
			t.Errorf("%d: abc after Reset = %x, want %x", alg, got, want)
		}
	}
}

// marshalRoundTrip saves the state of h and loads it into a fresh hash.
func marshalRoundTrip(t testing.TB, alg int, h hash.Hash) hash.Hash {
	t.Helper()
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	app, err := h.(encoding.BinaryAppender).AppendBinary([]byte("x"))
	if err != nil || !bytes.Equal(app[1:], state) || app[0] != 'x' {
		t.Fatalf("AppendBinary differs from MarshalBinary: %v", err)
	}
	h2 := newHash(alg)
	h2.Write([]byte("junk that the state replaces"))
	if err := h2.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	return h2
}

func TestMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, alg := range []int{256, 512} {
		for i := range 200 {
			msg := make([]byte, r.IntN(1000))
			for j := range msg {
				msg[j] = byte(r.Uint32())
			}
			cut := r.IntN(len(msg) + 1)
			h := newHash(alg)
			h.Write(msg[:cut])
			h2 := marshalRoundTrip(t, alg, h)
			h.Write(msg[cut:])
			h2.Write(msg[cut:])
			want := sum(alg, msg)
			if got := h2.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("%d #%d: restored at %d of %d: %x, want %x", alg, i, cut, len(msg), got, want)
			}
			if got := h.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("%d #%d: MarshalBinary changed the state", alg, i)
			}
		}
	}
}

func TestClone(t *testing.T) {
	for _, alg := range []int{256, 512} {
		h := newHash(alg)
		h.Write([]byte("0123456789012345678901234567890123456789012345678901234567890123456789"))
		c, err := h.(hash.Cloner).Clone()
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte("more"))
		c.Write([]byte("other"))
		if got, want := c.Sum(nil), sum(alg, []byte("0123456789012345678901234567890123456789012345678901234567890123456789other")); !bytes.Equal(got, want) {
			t.Errorf("%d: clone: %x, want %x", alg, got, want)
		}
		if got, want := h.Sum(nil), sum(alg, []byte("0123456789012345678901234567890123456789012345678901234567890123456789more")); !bytes.Equal(got, want) {
			t.Errorf("%d: original after Clone: %x, want %x", alg, got, want)
		}
	}
}

func TestUnmarshalErrors(t *testing.T) {
	h := New256()
	h.Write(bytes.Repeat([]byte{7}, 100)) // one block and a 36-byte tail
	good, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	good512, err := New512().(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	const (
		magicLen = 8
		nOff     = magicLen + 64
		nxOff    = magicLen + 3*64
		tailOff  = nxOff + 1
	)
	mod := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	cases := []struct {
		name  string
		state []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"magic only", good[:magicLen]},
		{"truncated by one", good[:len(good)-1]},
		{"one byte too many", append(bytes.Clone(good), 0)},
		{"garbage", bytes.Repeat([]byte{0xff}, len(good))},
		{"512 state into 256", good512},
		{"wrong magic", mod(func(b []byte) { b[0] ^= 1 })},
		{"wrong version", mod(func(b []byte) { b[magicLen-1] = 2 })},
		{"tail length 64", mod(func(b []byte) { b[nxOff] = 64 })},
		{"tail length 255", mod(func(b []byte) { b[nxOff] = 255 })},
		{"nonzero padding", mod(func(b []byte) { b[len(b)-1] = 1 })},
		{"shortened tail", mod(func(b []byte) { b[nxOff] = 35 })},
		{"counter not whole blocks", mod(func(b []byte) { b[nOff] = 8 })},
	}
	for _, c := range cases {
		h2 := New256()
		h2.Write([]byte("abc"))
		if err := h2.(encoding.BinaryUnmarshaler).UnmarshalBinary(c.state); err == nil {
			t.Errorf("%s: UnmarshalBinary accepted the state", c.name)
		}
		// A rejected state leaves the hash as it was.
		if got, want := h2.Sum(nil), sum(256, []byte("abc")); !bytes.Equal(got, want) {
			t.Errorf("%s: failed UnmarshalBinary changed the state", c.name)
		}
	}
	// The unmodified state is accepted, so the cases above fail for their reason.
	if err := New256().(encoding.BinaryUnmarshaler).UnmarshalBinary(good); err != nil {
		t.Errorf("good state rejected: %v", err)
	}
	if err := New256().(encoding.BinaryUnmarshaler).UnmarshalBinary(good[:tailOff+36]); err == nil {
		t.Errorf("state without the padded tail accepted")
	}
}

// TestChecksumCarry checks the 512-bit additions where the carries run far:
// blocks of 0xff bytes make Σ overflow, and the bit counter is preset close to
// a 64-bit boundary through a crafted state.
func TestChecksumCarry(t *testing.T) {
	var d digest
	d.size = Size512
	d.Reset()
	d.n = [8]uint64{^uint64(0) - 511, ^uint64(0), 0, 0, 0, 0, 0, 0}
	d.addN(512)
	if want := [8]uint64{0, 0, 1}; d.n != want {
		t.Errorf("N carry: got %x, want %x", d.n, want)
	}
	d.n = [8]uint64{^uint64(0) - 511, ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	d.addN(512)
	if d.n != ([8]uint64{}) {
		t.Errorf("N wrap mod 2^512: got %x", d.n)
	}
	d.sigma = [8]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), 5}
	d.addSigma(&[8]uint64{1})
	if want := [8]uint64{0, 0, 0, 0, 0, 0, 0, 6}; d.sigma != want {
		t.Errorf("Σ carry: got %x, want %x", d.sigma, want)
	}
	d.sigma = [8]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	d.addSigma(&[8]uint64{2})
	if want := [8]uint64{1}; d.sigma != want {
		t.Errorf("Σ wrap mod 2^512: got %x, want %x", d.sigma, want)
	}
}

func FuzzStreebog(f *testing.F) {
	f.Add([]byte(""), uint16(0))
	f.Add([]byte("abc"), uint16(1))
	f.Add(bytes.Repeat([]byte{0xff}, 130), uint16(64))
	f.Add(bytes.Repeat([]byte("0123456789"), 20), uint16(63))
	f.Fuzz(func(t *testing.T, msg []byte, split uint16) {
		cut := int(split) % (len(msg) + 1)
		for _, alg := range []int{256, 512} {
			want := sum(alg, msg)
			h := newHash(alg)
			h.Write(msg[:cut])
			h.Write(msg[cut:])
			if got := h.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("%d: split at %d: %x, want %x", alg, cut, got, want)
			}
			h.Reset()
			h.Write(msg[:cut])
			h2 := marshalRoundTrip(t, alg, h)
			h2.Write(msg[cut:])
			if got := h2.Sum(nil); !bytes.Equal(got, want) {
				t.Fatalf("%d: state restored at %d: %x, want %x", alg, cut, got, want)
			}
		}
	})
}

func TestAllocs(t *testing.T) {
	msg := make([]byte, 1000)
	out := make([]byte, 0, Size512)
	h := New512()
	if n := testing.AllocsPerRun(10, func() {
		Sum256(msg)
		Sum512(msg)
		h.Reset()
		h.Write(msg)
		h.Sum(out[:0])
	}); n != 0 {
		t.Errorf("%v allocations per hash, want 0", n)
	}
}
