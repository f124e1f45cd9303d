package nativemsg

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// frame builds a frame by hand, independently of Writer.
func frame(body []byte) []byte {
	return append(binary.NativeEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// header is a bare length prefix.
func header(n uint32) []byte {
	return binary.NativeEndian.AppendUint32(nil, n)
}

func cat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

// jsonOfLen returns a JSON string value of exactly n bytes (n ≥ 2).
func jsonOfLen(n int) []byte {
	return []byte(`"` + strings.Repeat("a", n-2) + `"`)
}

func TestNativeEndianIsLittle(t *testing.T) {
	// Every platform kep ships for is little-endian; the frame a browser
	// sends there has the low byte first.
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skipf("GOARCH %s is big-endian: native order is right there, but not this test's bytes", runtime.GOARCH)
	}
	got := header(0x01020304)
	if !bytes.Equal(got, []byte{4, 3, 2, 1}) {
		t.Fatalf("length 0x01020304 encoded as % x, want 04 03 02 01", got)
	}
	var out bytes.Buffer
	if err := NewWriter(&out).Write([]byte(`"x"`)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), []byte{3, 0, 0, 0, '"', 'x', '"'}) {
		t.Fatalf("Writer framed \"x\" as % x", out.Bytes())
	}
}

func TestRead(t *testing.T) {
	errBoom := errors.New("boom")
	big := jsonOfLen(MaxOut)
	tests := []struct {
		name string
		in   io.Reader
		max  int
		want [][]byte // messages read before the final error
		err  error    // final error (errors.Is); io.EOF is checked with ==
	}{
		{name: "no input", in: bytes.NewReader(nil), err: io.EOF},
		{name: "one message", in: bytes.NewReader(frame([]byte(`{"a":1}`))),
			want: [][]byte{[]byte(`{"a":1}`)}, err: io.EOF},
		{name: "two messages back to back",
			in:   bytes.NewReader(cat(frame([]byte(`{"id":1}`)), frame([]byte(`[1,2,"три"]`)))),
			want: [][]byte{[]byte(`{"id":1}`), []byte(`[1,2,"три"]`)}, err: io.EOF},
		{name: "surrounding whitespace kept", in: bytes.NewReader(frame([]byte(" {}\n"))),
			want: [][]byte{[]byte(" {}\n")}, err: io.EOF},
		{name: "empty message", in: bytes.NewReader(header(0)), err: ErrInvalid},
		{name: "truncated length 1", in: bytes.NewReader([]byte{7}), err: io.ErrUnexpectedEOF},
		{name: "truncated length 2", in: bytes.NewReader([]byte{7, 0}), err: io.ErrUnexpectedEOF},
		{name: "truncated length 3", in: bytes.NewReader([]byte{7, 0, 0}), err: io.ErrUnexpectedEOF},
		{name: "truncated length after a message",
			in:   bytes.NewReader(cat(frame([]byte(`1`)), []byte{1, 0})),
			want: [][]byte{[]byte(`1`)}, err: io.ErrUnexpectedEOF},
		{name: "body missing", in: bytes.NewReader(header(2)), err: io.ErrUnexpectedEOF},
		{name: "body truncated", in: bytes.NewReader(cat(header(9), []byte(`{"a":`))), err: io.ErrUnexpectedEOF},
		{name: "length 0xFFFFFFFF", in: bytes.NewReader(cat(header(0xFFFFFFFF), []byte(`{}`))), err: ErrTooLarge},
		{name: "exactly the limit", in: bytes.NewReader(frame(jsonOfLen(100))), max: 100,
			want: [][]byte{jsonOfLen(100)}, err: io.EOF},
		{name: "one byte over the limit", in: bytes.NewReader(frame(jsonOfLen(101))), max: 100, err: ErrTooLarge},
		{name: "MaxOut with the default limit", in: bytes.NewReader(frame(big)),
			want: [][]byte{big}, err: io.EOF},
		{name: "over the default limit", in: bytes.NewReader(header(DefaultMaxIn + 1)), err: ErrTooLarge},
		{name: "invalid UTF-8 in a string", in: bytes.NewReader(frame([]byte("\"\xff\xfe\""))), err: ErrInvalid},
		{name: "truncated UTF-8 sequence", in: bytes.NewReader(frame([]byte("\"\xd0\""))), err: ErrInvalid},
		{name: "invalid JSON", in: bytes.NewReader(frame([]byte(`{"a":}`))), err: ErrInvalid},
		{name: "not JSON at all", in: bytes.NewReader(frame([]byte(`hello`))), err: ErrInvalid},
		{name: "trailing garbage", in: bytes.NewReader(frame([]byte(`{"a":1} x`))), err: ErrInvalid},
		{name: "two JSON values", in: bytes.NewReader(frame([]byte(`{}{}`))), err: ErrInvalid},
		{name: "one byte at a time",
			in:   iotest.OneByteReader(bytes.NewReader(cat(frame([]byte(`{"x":"y"}`)), frame([]byte(`null`))))),
			want: [][]byte{[]byte(`{"x":"y"}`), []byte(`null`)}, err: io.EOF},
		{name: "one byte at a time, truncated",
			in:  iotest.OneByteReader(bytes.NewReader(cat(header(5), []byte(`[1,`)))),
			err: io.ErrUnexpectedEOF},
		{name: "half reads", in: iotest.HalfReader(bytes.NewReader(frame(big))),
			want: [][]byte{big}, err: io.EOF},
		{name: "data with EOF",
			in:   iotest.DataErrReader(bytes.NewReader(cat(frame([]byte(`true`)), frame([]byte(`false`))))),
			want: [][]byte{[]byte(`true`), []byte(`false`)}, err: io.EOF},
		{name: "data with EOF, truncated body",
			in:  iotest.DataErrReader(bytes.NewReader(cat(header(6), []byte(`"abc`)))),
			err: io.ErrUnexpectedEOF},
		{name: "reader fails mid-body",
			in:  io.MultiReader(bytes.NewReader(cat(header(6), []byte(`"abc`))), iotest.ErrReader(errBoom)),
			err: errBoom},
		{name: "reader fails mid-length",
			in:  io.MultiReader(bytes.NewReader([]byte{6, 0}), iotest.ErrReader(errBoom)),
			err: errBoom},
		{name: "reader fails at once", in: iotest.ErrReader(errBoom), err: errBoom},
		{name: "timeout error passes through", in: iotest.TimeoutReader(bytes.NewReader(frame([]byte(`1`)))),
			err: iotest.ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(tt.in, tt.max)
			var got [][]byte
			var err error
			for range 10 {
				var msg []byte
				msg, err = r.Read()
				if err != nil {
					if msg != nil {
						t.Errorf("Read returned %d bytes with error %v", len(msg), err)
					}
					break
				}
				got = append(got, msg)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("read %d messages, want %d (final error %v)", len(got), len(tt.want), err)
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Errorf("message %d: got %.40q (%d bytes), want %.40q (%d bytes)",
						i, got[i], len(got[i]), tt.want[i], len(tt.want[i]))
				}
			}
			if tt.err == io.EOF {
				if err != io.EOF {
					t.Fatalf("final error %v, want io.EOF itself", err)
				}
			} else if !errors.Is(err, tt.err) {
				t.Fatalf("final error %v, want %v", err, tt.err)
			}
			if tt.err != io.EOF && errors.Is(err, io.EOF) {
				t.Errorf("error %v matches io.EOF, which only a clean end may", err)
			}
		})
	}
}

func TestReadAfterInvalidGoesOn(t *testing.T) {
	in := cat(frame([]byte(`{bad`)), frame([]byte("\"\xff\"")), frame([]byte(`{"ok":true}`)))
	r := NewReader(bytes.NewReader(in), 0)
	for i := range 2 {
		if _, err := r.Read(); !errors.Is(err, ErrInvalid) {
			t.Fatalf("message %d: error %v, want ErrInvalid", i, err)
		}
	}
	msg, err := r.Read()
	if err != nil || string(msg) != `{"ok":true}` {
		t.Fatalf("after two invalid frames: %q, %v; want the third message", msg, err)
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
}

func TestReadErrorsAreSticky(t *testing.T) {
	// After ErrTooLarge the body is unread: what follows is not a length.
	// The next frame here is well formed, and must still not be read.
	in := cat(header(1000), frame([]byte(`{}`)))
	r := NewReader(bytes.NewReader(in), 10)
	for i := range 3 {
		if msg, err := r.Read(); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("read %d: %q, %v; want ErrTooLarge every time", i, msg, err)
		}
	}
	errBoom := errors.New("boom")
	r = NewReader(io.MultiReader(bytes.NewReader(header(4)), iotest.ErrReader(errBoom), bytes.NewReader(frame([]byte(`1`)))), 0)
	for i := range 2 {
		if _, err := r.Read(); !errors.Is(err, errBoom) {
			t.Fatalf("read %d: %v, want the reader's error every time", i, err)
		}
	}
}

func TestReadMessagesAreNotShared(t *testing.T) {
	r := NewReader(bytes.NewReader(cat(frame([]byte(`"one"`)), frame([]byte(`"two"`)))), 0)
	a, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if string(a) != `"one"` || string(b) != `"two"` {
		t.Fatalf("got %q and %q: the second Read overwrote the first message", a, b)
	}
}

// allocated returns the bytes allocated on the heap while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestTooLargeIsNotAllocated(t *testing.T) {
	for _, n := range []uint32{DefaultMaxIn + 1, 1 << 30, 0xFFFFFFFF} {
		in := cat(header(n), []byte(`{}`))
		var err error
		a := allocated(func() { _, err = NewReader(bytes.NewReader(in), 0).Read() })
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("length %d: %v, want ErrTooLarge", n, err)
		}
		if a > 64<<10 {
			t.Errorf("length %d: %d bytes allocated to refuse it", n, a)
		}
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		msg  []byte
		err  error
	}{
		{name: "object", msg: []byte(`{"id":1,"result":"подпись"}`)},
		{name: "smallest value", msg: []byte(`0`)},
		{name: "exactly MaxOut", msg: jsonOfLen(MaxOut)},
		{name: "MaxOut+1", msg: jsonOfLen(MaxOut + 1), err: ErrReplyTooLarge},
		{name: "far over MaxOut", msg: jsonOfLen(4 * MaxOut), err: ErrReplyTooLarge},
		{name: "empty message", msg: []byte{}, err: ErrInvalid},
		{name: "nil message", msg: nil, err: ErrInvalid},
		{name: "invalid UTF-8", msg: []byte("{\"a\":\"\xc3\x28\"}"), err: ErrInvalid},
		{name: "invalid JSON", msg: []byte(`{"a":1,}`), err: ErrInvalid},
		{name: "trailing garbage", msg: []byte(`{"a":1}garbage`), err: ErrInvalid},
		{name: "two values", msg: []byte(`1 2`), err: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out countingWriter
			w := NewWriter(&out)
			err := w.Write(tt.msg)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Write: %v, want %v", err, tt.err)
				}
				if out.buf.Len() != 0 || out.calls != 0 {
					t.Fatalf("refused message, yet %d bytes in %d calls were written", out.buf.Len(), out.calls)
				}
				// A refusal leaves the Writer usable.
				if err := w.Write([]byte(`{"after":"refusal"}`)); err != nil {
					t.Fatalf("Write after a refusal: %v", err)
				}
				if !bytes.Equal(out.buf.Bytes(), frame([]byte(`{"after":"refusal"}`))) {
					t.Fatalf("after a refusal wrote % x", out.buf.Bytes())
				}
				return
			}
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			if out.calls != 1 {
				t.Errorf("frame written in %d calls, want 1", out.calls)
			}
			if !bytes.Equal(out.buf.Bytes(), frame(tt.msg)) {
				t.Fatalf("wrote %d bytes, not the frame of the %d-byte message", out.buf.Len(), len(tt.msg))
			}
			got, err := NewReader(&out.buf, 0).Read()
			if err != nil || !bytes.Equal(got, tt.msg) {
				t.Fatalf("read back %d bytes, %v", len(got), err)
			}
		})
	}
}

type countingWriter struct {
	buf   bytes.Buffer
	calls int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.calls++
	return w.buf.Write(p)
}

// failingWriter accepts limit bytes, then fails (or, if short, reports a
// short write without an error, as a broken writer might).
type failingWriter struct {
	limit int
	short bool
	buf   bytes.Buffer
}

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) <= w.limit {
		return w.buf.Write(p)
	}
	n := w.limit - w.buf.Len()
	w.buf.Write(p[:n])
	if w.short {
		return n, nil
	}
	return n, errDiskFull
}

func TestWriteErrorsAreSticky(t *testing.T) {
	for _, short := range []bool{false, true} {
		t.Run(fmt.Sprintf("short=%v", short), func(t *testing.T) {
			fw := &failingWriter{limit: 10, short: short}
			w := NewWriter(fw)
			if err := w.Write([]byte(`1`)); err != nil {
				t.Fatalf("first Write: %v", err)
			}
			err := w.Write([]byte(`"too long for the disk"`))
			want := errDiskFull
			if short {
				want = io.ErrShortWrite
			}
			if !errors.Is(err, want) {
				t.Fatalf("Write to a failing writer: %v, want %v", err, want)
			}
			written := fw.buf.Len()
			fw.limit = 1 << 20 // the writer recovers, but the stream has a cut frame
			if err := w.Write([]byte(`2`)); !errors.Is(err, want) {
				t.Fatalf("Write after a failure: %v, want the same error again", err)
			}
			if fw.buf.Len() != written {
				t.Fatalf("a Write after a cut frame wrote %d more bytes", fw.buf.Len()-written)
			}
		})
	}
}

// chunkyWriter takes each Write a few bytes at a time, yielding between
// chunks, so that two frames written at once would interleave unless the
// Writer serialises them. It is safe for concurrent use itself, so that
// only the frames, not its buffer, can be garbled.
type chunkyWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *chunkyWriter) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i += 7 {
		w.mu.Lock()
		w.buf.Write(p[i:min(i+7, len(p))])
		w.mu.Unlock()
		runtime.Gosched()
	}
	return len(p), nil
}

func TestConcurrentWritersDoNotInterleave(t *testing.T) {
	const goroutines, each = 8, 100
	type note struct {
		G   int    `json:"g"`
		I   int    `json:"i"`
		Pad string `json:"pad"`
	}
	var out chunkyWriter
	w := NewWriter(&out)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				msg, _ := json.Marshal(note{G: g, I: i, Pad: strings.Repeat(string(rune('a'+g)), (g*31+i*17)%300)})
				if err := w.Write(msg); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Write: %v", err)
	}

	r := NewReader(&out.buf, 0)
	next := make([]int, goroutines)
	for n := 0; ; n++ {
		msg, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("message %d: %v (frames interleaved)", n, err)
		}
		var m note
		if err := json.Unmarshal(msg, &m); err != nil {
			t.Fatalf("message %d: %v", n, err)
		}
		if m.G < 0 || m.G >= goroutines || m.I != next[m.G] {
			t.Fatalf("message %d is g=%d i=%d, out of order", n, m.G, m.I)
		}
		want := strings.Repeat(string(rune('a'+m.G)), (m.G*31+m.I*17)%300)
		if m.Pad != want {
			t.Fatalf("message g=%d i=%d: padding garbled", m.G, m.I)
		}
		next[m.G]++
	}
	for g, n := range next {
		if n != each {
			t.Errorf("goroutine %d: %d messages read back, want %d", g, n, each)
		}
	}
}
