// Package agentlink is the framing of the channel between `kep native-host`
// and the user's running agent: a Unix domain socket in the agent's private
// directory, which only that user can open (the agent checks the peer's uid
// as well). It is not the browsers' native-messaging framing
// (internal/nativemsg): that one carries only JSON, this one also carries the
// relay's control frames.
//
// A frame is a 4-byte big-endian length n, then n bytes: a type byte and the
// payload. The host opens with one Hello frame (JSON: the page's origin as
// the browser reported it, the extension that relayed it); after that
// Message frames carry JSON-RPC text in both directions, the agent sends
// Ping frames that the host answers with Pong (the WebSocket's keep-alive),
// and a Close frame carries a WebSocket-style close code and reason.
//
// Warning: a Hello frame is believed only because of who may connect. A
// listener of this protocol must check the peer (peercred.UnixPeerUID)
// before reading it.
package agentlink

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Frame types.
const (
	Hello   byte = 'h'
	Message byte = 'm'
	Ping    byte = 'p'
	Pong    byte = 'P'
	Close   byte = 'c'
)

// Version is the version of the relay protocol, carried in Hello.
const Version = 1

var (
	// ErrTooLarge: a frame longer than the reader's limit. Its body has not
	// been read; the stream is out of step.
	ErrTooLarge = errors.New("agentlink: frame too large")
	// ErrFrame: an empty frame or an unknown type.
	ErrFrame = errors.New("agentlink: malformed frame")
)

func known(t byte) bool {
	switch t {
	case Hello, Message, Ping, Pong, Close:
		return true
	}
	return false
}

// AppendFrame appends the frame of type t with payload p to dst.
func AppendFrame(dst []byte, t byte, p []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)+1))
	dst = append(dst, t)
	return append(dst, p...)
}

// WriteFrame writes one frame in a single Write. Callers writing from
// several goroutines hold their own lock.
func WriteFrame(w io.Writer, t byte, p []byte) error {
	if !known(t) {
		return fmt.Errorf("%w: type %q", ErrFrame, t)
	}
	_, err := w.Write(AppendFrame(make([]byte, 0, 5+len(p)), t, p))
	return err
}

// ReadHeader reads a frame's length and type and returns the type and the
// payload's length, at most max bytes; the caller then reads exactly that
// many bytes (io.LimitReader). io.EOF, unwrapped, means the stream ended
// cleanly between frames.
func ReadHeader(r io.Reader, max int64) (t byte, n int64, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:4]); err != nil {
		if err == io.EOF {
			return 0, 0, io.EOF
		}
		return 0, 0, fmt.Errorf("agentlink: reading a frame length: %w", err)
	}
	l := int64(binary.BigEndian.Uint32(hdr[:4]))
	if l == 0 {
		return 0, 0, fmt.Errorf("%w: empty", ErrFrame)
	}
	if l-1 > max {
		return 0, 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, l-1, max)
	}
	if _, err := io.ReadFull(r, hdr[4:]); err != nil {
		return 0, 0, fmt.Errorf("agentlink: reading a frame type: %w", noEOF(err))
	}
	if !known(hdr[4]) {
		return 0, 0, fmt.Errorf("%w: type %q", ErrFrame, hdr[4])
	}
	return hdr[4], l - 1, nil
}

// ReadFrame reads one whole frame of at most max payload bytes.
func ReadFrame(r io.Reader, max int64) (byte, []byte, error) {
	t, n, err := ReadHeader(r, max)
	if err != nil {
		return 0, nil, err
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, fmt.Errorf("agentlink: reading a frame: %w", noEOF(err))
	}
	return t, p, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// HelloMsg opens the channel: who is at the other end of the relay.
type HelloMsg struct {
	V int `json:"v"`
	// Origin is the page's origin as the browser reported it to the
	// extension (the sender's origin), never what the page says.
	Origin string `json:"origin"`
	// Extension is the extension that relayed it, as the browser named it
	// to the host ("chrome-extension://ID/", or Firefox's extension ID).
	Extension string `json:"extension"`
}

// CloseMsg is a Close frame's payload.
type CloseMsg struct {
	Code   int    `json:"code"`
	Reason string `json:"reason,omitempty"`
}

// EncodeJSON is json.Marshal for the two control payloads.
func EncodeJSON(v any) []byte {
	b, _ := json.Marshal(v) // HelloMsg and CloseMsg always encode
	return b
}
