// Package ctxio copies streams in bounded memory while honouring a context,
// for hashing documents of any size without holding them.
package ctxio

import (
	"bytes"
	"context"
	"io"
	"sync"
)

const bufSize = 256 << 10

var bufs = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// Copy copies src to dst until EOF, checking ctx between chunks, and returns
// the number of bytes copied. In-memory sources (*bytes.Reader,
// *bytes.Buffer) are written in one call without a copy buffer.
func Copy(ctx context.Context, dst io.Writer, src io.Reader) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	switch src.(type) {
	case *bytes.Reader, *bytes.Buffer:
		return src.(io.WriterTo).WriteTo(dst)
	}
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	buf := *bp
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
