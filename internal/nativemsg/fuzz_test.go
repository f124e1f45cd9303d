package nativemsg

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"unicode/utf8"
)

// fuzzMaxIn is small so that any allocation driven by the length prefix,
// rather than bounded by the limit, stands out.
const fuzzMaxIn = 64

// allocSlack covers what Read allocates besides the body: the wrapped
// error, and json.Valid's scanner stack for nesting up to fuzzMaxIn deep.
const allocSlack = 8 << 10

func FuzzFraming(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		frame([]byte(`{}`)),
		cat(frame([]byte(`{"id":1}`)), frame([]byte(`[1,"два",null]`))),
		frame(jsonOfLen(fuzzMaxIn)),
		frame(jsonOfLen(fuzzMaxIn + 1)),
		header(0),
		header(0xFFFFFFFF),
		{1, 0},
		cat(header(10), []byte(`{"a"`)),
		frame([]byte("\"\xff\"")),
		frame([]byte(`{} x`)),
		frame([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`)),
		[]byte(`{"not":"framed"}`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, data)
		checkRoundTrip(t, data)
	})
}

// checkRead reads data as a stream of frames with a small limit: no panic,
// no allocation beyond the limit, and every answer agrees with the frames
// as they lie in data.
func checkRead(t *testing.T, data []byte) {
	r := NewReader(bytes.NewReader(data), fuzzMaxIn)
	off := 0
	for {
		var msg []byte
		var err error
		a := allocated(func() { msg, err = r.Read() })
		if a > fuzzMaxIn+allocSlack {
			// ReadMemStats counts the whole process; retry once before
			// blaming Read, with a fresh reader at the same frame.
			a = allocated(func() { NewReader(bytes.NewReader(data[off:]), fuzzMaxIn).Read() })
			if a > fuzzMaxIn+allocSlack {
				t.Fatalf("at offset %d: Read allocated %d bytes, limit %d", off, a, fuzzMaxIn)
			}
		}
		rest := data[off:]
		switch {
		case len(rest) == 0:
			if err != io.EOF {
				t.Fatalf("clean end at %d: %v, want io.EOF", off, err)
			}
			return
		case len(rest) < 4:
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%d bytes of length at %d: %v, want io.ErrUnexpectedEOF", len(rest), off, err)
			}
			return
		}
		n := uint64(binary.NativeEndian.Uint32(rest))
		switch {
		case n > fuzzMaxIn:
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("length %d at %d: %v, want ErrTooLarge", n, off, err)
			}
			return
		case uint64(len(rest)-4) < n:
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("length %d with %d bytes left at %d: %v, want io.ErrUnexpectedEOF", n, len(rest)-4, off, err)
			}
			return
		}
		body := rest[4 : 4+n]
		if utf8.Valid(body) && json.Valid(body) {
			if err != nil || !bytes.Equal(msg, body) {
				t.Fatalf("valid frame at %d: %q, %v; want %q", off, msg, err, body)
			}
		} else if !errors.Is(err, ErrInvalid) || msg != nil {
			t.Fatalf("invalid body %q at %d: %q, %v; want ErrInvalid", body, off, msg, err)
		}
		off += 4 + int(n)
	}
}

// checkRoundTrip writes data as one message: a valid message of at most
// MaxOut bytes comes back byte-identical, anything else is refused with
// nothing written.
func checkRoundTrip(t *testing.T, data []byte) {
	var out bytes.Buffer
	err := NewWriter(&out).Write(data)
	if !utf8.Valid(data) || !json.Valid(data) || len(data) > MaxOut {
		if err == nil || out.Len() != 0 {
			t.Fatalf("message %q: Write gave %v and wrote %d bytes; want a refusal and nothing", data, err, out.Len())
		}
		return
	}
	if err != nil {
		t.Fatalf("valid message %q: %v", data, err)
	}
	if !bytes.Equal(out.Bytes(), frame(data)) {
		t.Fatalf("message %q framed as % x", data, out.Bytes())
	}
	r := NewReader(&out, len(data))
	got, err := r.Read()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("message %q read back as %q, %v", data, got, err)
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("after the message: %v, want io.EOF", err)
	}
}
