package agent

import (
	"io"
	"time"

	"github.com/gorilla/websocket"
)

// transport carries one client's messages: a WebSocket (wsTransport), or
// the relay channel of `kep native-host` (relayTransport). The close codes
// are the WebSocket's (websocket.Close*); a message over the limit gives
// websocket.ErrReadLimit on either.
type transport interface {
	// NextReader returns the next message (its type, websocket.TextMessage
	// or BinaryMessage, and a reader of at most limit bytes).
	NextReader(limit int64) (int, io.Reader, error)
	SetReadDeadline(t time.Time) error
	// SetPongHandler is called on each answer to WritePing.
	SetPongHandler(h func(string) error)
	WriteMessage(data []byte, deadline time.Time) error
	WritePing(deadline time.Time) error
	WriteClose(code int, text string, deadline time.Time) error
	Close() error
}

type wsTransport struct{ ws *websocket.Conn }

func (t wsTransport) NextReader(limit int64) (int, io.Reader, error) {
	t.ws.SetReadLimit(limit)
	return t.ws.NextReader()
}

func (t wsTransport) SetReadDeadline(d time.Time) error   { return t.ws.SetReadDeadline(d) }
func (t wsTransport) SetPongHandler(h func(string) error) { t.ws.SetPongHandler(h) }
func (t wsTransport) Close() error                        { return t.ws.Close() }

func (t wsTransport) WriteMessage(data []byte, deadline time.Time) error {
	t.ws.SetWriteDeadline(deadline)
	return t.ws.WriteMessage(websocket.TextMessage, data)
}

func (t wsTransport) WritePing(deadline time.Time) error {
	return t.ws.WriteControl(websocket.PingMessage, nil, deadline)
}

func (t wsTransport) WriteClose(code int, text string, deadline time.Time) error {
	return t.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), deadline)
}
