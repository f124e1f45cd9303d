package agentlink

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	for _, f := range []struct {
		t byte
		p string
	}{{Hello, `{"v":1}`}, {Message, `{"jsonrpc":"2.0"}`}, {Ping, ""}, {Pong, ""}, {Close, `{"code":1000}`}} {
		if err := WriteFrame(&buf, f.t, []byte(f.p)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []byte{Hello, Message, Ping, Pong, Close} {
		got, _, err := ReadFrame(&buf, 100)
		if err != nil || got != want {
			t.Fatalf("frame %q: got %q, %v", want, got, err)
		}
	}
	if _, _, err := ReadFrame(&buf, 100); err != io.EOF {
		t.Fatalf("end: %v, want io.EOF", err)
	}
	if err := WriteFrame(&buf, 'x', nil); !errors.Is(err, ErrFrame) {
		t.Fatalf("unknown type written: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty frame", []byte{0, 0, 0, 0}, ErrFrame},
		{"unknown type", []byte{0, 0, 0, 1, 'x'}, ErrFrame},
		{"too large", []byte{0, 0, 0, 12, 'm'}, ErrTooLarge},
		{"short length", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"no type", []byte{0, 0, 0, 3}, io.ErrUnexpectedEOF},
		{"short body", []byte{0, 0, 0, 3, 'm', 'a'}, io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadFrame(bytes.NewReader(tc.in), 10)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzReadFrame: a frame read back re-encodes to the bytes it came from.
func FuzzReadFrame(f *testing.F) {
	f.Add(AppendFrame(nil, Message, []byte(`{"a":1}`)))
	f.Add(AppendFrame(nil, Ping, nil))
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 'm'})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		typ, p, err := ReadFrame(r, 1<<16)
		if err != nil {
			return
		}
		if !known(typ) {
			t.Fatalf("unknown type %q accepted", typ)
		}
		consumed := in[:len(in)-r.Len()]
		if again := AppendFrame(nil, typ, p); !bytes.Equal(again, consumed) {
			t.Fatalf("round trip: %x != %x", again, consumed)
		}
	})
}
