package ctxio

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestCopy(t *testing.T) {
	data := make([]byte, 3*bufSize+17)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]io.Reader{
		"bytes.Reader": bytes.NewReader(data),
		"one byte":     iotest.OneByteReader(bytes.NewReader(data[:1000])),
		"half":         iotest.HalfReader(bytes.NewReader(data)),
		"data+EOF":     iotest.DataErrReader(bytes.NewReader(data)),
	} {
		var out bytes.Buffer
		n, err := Copy(context.Background(), &out, src)
		want := data
		if name == "one byte" {
			want = data[:1000]
		}
		if err != nil || n != int64(len(want)) || !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("%s: n=%d err=%v", name, n, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Copy(ctx, io.Discard, iotest.HalfReader(bytes.NewReader(data))); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	boom := errors.New("boom")
	if _, err := Copy(context.Background(), io.Discard, iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Fatalf("read error: %v", err)
	}
}
