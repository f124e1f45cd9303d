// Package nativemsg reads and writes the framing of the browsers'
// native-messaging protocol (Chrome family and Firefox): every message is a
// 32-bit length in the machine's native byte order, followed by that many
// bytes of UTF-8 JSON. The browser starts the host with the messages on the
// host's stdin, and reads the host's replies from its stdout.
//
// The package knows nothing of what the messages mean; it only bounds and
// checks them. A Reader refuses a message longer than its MaxIn before
// allocating anything for it, and a Writer refuses a reply longer than
// MaxOut, the browser's limit for messages from the host, before writing any
// byte of it.
//
// Warning: a host's stdout belongs to the Writer. Anything else written
// there (a log line, a panic trace, fmt.Println) corrupts the stream, and the
// browser then closes the connection. Log to stderr or a file.
package nativemsg

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"
)

const (
	// DefaultMaxIn is the limit a Reader applies when its MaxIn is zero
	// (or less): 64 MiB. Chrome lets an extension send up to 4 GB to the
	// host; kep bounds what one message can make it allocate, and large
	// documents are meant to arrive in chunks well below this.
	DefaultMaxIn = 64 << 20

	// MaxOut is the largest message a host may send to the browser,
	// 1 MiB (1024*1024 bytes). Chrome closes the connection to a host that
	// sends more.
	MaxOut = 1024 * 1024
)

var (
	// ErrTooLarge reports a message from the browser whose length exceeds
	// the Reader's limit. Its body has not been read, so the stream is out
	// of step and the Reader is done.
	ErrTooLarge = errors.New("nativemsg: message too large")

	// ErrReplyTooLarge reports a message to the browser longer than MaxOut.
	// Nothing was written.
	ErrReplyTooLarge = errors.New("nativemsg: reply larger than 1 MiB")

	// ErrInvalid reports a message that is not one UTF-8 JSON value (empty,
	// invalid UTF-8, invalid JSON, or data after the value). A Reader has
	// consumed the whole frame and may go on reading; a Writer has written
	// nothing.
	ErrInvalid = errors.New("nativemsg: message is not valid UTF-8 JSON")
)

// valid reports whether msg is exactly one JSON value in valid UTF-8.
// json.Valid alone accepts invalid UTF-8 inside strings.
func valid(msg []byte) bool {
	return utf8.Valid(msg) && json.Valid(msg)
}

// A Reader reads messages from the browser, one frame per Read. It is not
// safe for concurrent use; a host has one reading loop.
type Reader struct {
	// MaxIn is the largest message body, in bytes, Read accepts. Zero or
	// less means DefaultMaxIn.
	MaxIn int

	r   io.Reader
	hdr [4]byte
	err error // sticky: the stream is out of step
}

// NewReader returns a Reader reading frames from r (a host's os.Stdin) that
// accepts messages of at most max bytes; max of zero means DefaultMaxIn.
func NewReader(r io.Reader, max int) *Reader {
	return &Reader{r: r, MaxIn: max}
}

// Read reads exactly one message and returns its body, a new slice the
// caller may keep.
//
// It returns io.EOF, unwrapped, only when the stream ends cleanly between
// two messages; a stream ending inside a length or a body gives an error
// matching io.ErrUnexpectedEOF. A length above MaxIn gives ErrTooLarge
// without the body being allocated or read. A body that is not one UTF-8
// JSON value gives ErrInvalid; the frame has been consumed, and the next
// Read reads the next message. After any other error the stream is out of
// step, and every later Read returns that error again.
func (r *Reader) Read() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	msg, err := r.read()
	if err != nil && !errors.Is(err, ErrInvalid) {
		r.err = err
	}
	return msg, err
}

func (r *Reader) read() ([]byte, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		switch err {
		case io.EOF:
			return nil, io.EOF
		case io.ErrUnexpectedEOF:
			return nil, fmt.Errorf("nativemsg: stream ends inside a message length: %w", err)
		}
		return nil, fmt.Errorf("nativemsg: reading message length: %w", err)
	}
	n := binary.NativeEndian.Uint32(r.hdr[:])
	limit := r.MaxIn
	if limit <= 0 {
		limit = DefaultMaxIn
	}
	if uint64(n) > uint64(limit) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, limit)
	}
	msg := make([]byte, n)
	if got, err := io.ReadFull(r.r, msg); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("nativemsg: stream ends after %d of %d message bytes: %w", got, n, io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("nativemsg: reading message body: %w", err)
	}
	if !valid(msg) {
		return nil, fmt.Errorf("%w (%d bytes)", ErrInvalid, n)
	}
	return msg, nil
}

// A Writer writes messages to the browser. It is safe for concurrent use:
// replies and notifications may be written from several goroutines, and
// their frames never interleave. It keeps the buffer of its largest frame
// so far (at most MaxOut+4 bytes) for the next Write.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	err error // sticky: a frame may have been cut short
}

// NewWriter returns a Writer writing frames to w (a host's os.Stdout).
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// Write writes msg as one frame, length and body in a single call to the
// underlying writer. It refuses, writing nothing, a message longer than
// MaxOut (ErrReplyTooLarge) or one that is not one UTF-8 JSON value
// (ErrInvalid); the Writer stays usable after a refusal. When the underlying
// writer fails, part of a frame may have gone out and the stream is broken:
// that error is returned by every later Write too.
func (w *Writer) Write(msg []byte) error {
	if len(msg) > MaxOut {
		return fmt.Errorf("%w: %d bytes", ErrReplyTooLarge, len(msg))
	}
	if !valid(msg) {
		return fmt.Errorf("%w (%d bytes)", ErrInvalid, len(msg))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf = binary.NativeEndian.AppendUint32(w.buf[:0], uint32(len(msg)))
	w.buf = append(w.buf, msg...)
	n, err := w.w.Write(w.buf)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("nativemsg: writing message: %w", err)
		return w.err
	}
	return nil
}
