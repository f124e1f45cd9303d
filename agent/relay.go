package agent

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/internal/agentlink"
	"github.com/kepkit/kep/internal/peercred"
)

// The relay: pages that reach kep through the browser extension come to the
// agent through `kep native-host` (agent/nativehost), which the browser
// starts for the extension and which connects here, over a Unix domain
// socket in the user's private directory (internal/agentlink framing). The
// page's origin arrives in the host's Hello: the extension took it from the
// browser (the sender of the content script's message), never from the page.
// The agent believes a Hello only from a peer the kernel says is this user
// (peercred.UnixPeerUID); from there on a relayed page is a conn like a
// WebSocket one: the same methods, consent, limits, windows and audit log.

// EnvRelaySocket names the relay socket for `kep agent` and `kep
// native-host` alike, in place of DefaultRelaySocket's.
const EnvRelaySocket = "KEP_AGENT_SOCKET"

// DefaultRelaySocket is where the native host finds the agent:
// $KEP_AGENT_SOCKET when set, else agent.sock in DefaultPromptDir (the
// user's private directory: $XDG_RUNTIME_DIR/kep or the user cache).
func DefaultRelaySocket() (string, error) {
	if p := os.Getenv(EnvRelaySocket); p != "" {
		return p, nil
	}
	dir, err := DefaultPromptDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "agent.sock"), nil
}

// maxHello bounds the host's opening frame.
const maxHello = 4 << 10

// ListenRelay serves the native host's relay on a Unix socket at path (in
// a directory only this user may use, made when missing) until Close. A
// stale socket left by an agent that died is replaced; one another agent
// still answers on is an error.
func (a *Agent) ListenRelay(path string) error {
	if err := privateDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("agent: relay socket: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return fmt.Errorf("agent: relay socket: %s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return fmt.Errorf("agent: relay socket: another kep agent answers on %s", path)
		}
		os.Remove(path)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("agent: relay socket: %w", err)
	}
	os.Chmod(path, 0o600)
	a.mu.Lock()
	a.relays = append(a.relays, l)
	a.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go a.serveRelay(c)
		}
	}()
	return nil
}

// Served counts the connections served since New, by road: WebSocket and
// the extension's relay.
func (a *Agent) Served() (websocket, relay int64) {
	return a.servedWS.Load(), a.servedRelay.Load()
}

func (a *Agent) serveRelay(nc net.Conn) {
	defer nc.Close()
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		return
	}
	uid, err := peercred.UnixPeerUID(uc)
	switch {
	case err == nil && uid == os.Geteuid():
	case errors.Is(err, peercred.ErrUnknown) && !relayPeerCheck:
		// The OS does not tell (Windows): the directory's ACL is the guard.
	case err == nil:
		a.log.Warn("refused a relay connection from another local user", "uid", uid)
		return
	default:
		a.log.Warn("refused a relay connection whose user cannot be found", "err", err)
		return
	}
	nc.SetReadDeadline(time.Now().Add(a.limits.WriteTimeout))
	br := bufio.NewReaderSize(nc, readStep)
	typ, p, err := agentlink.ReadFrame(br, maxHello)
	if err != nil || typ != agentlink.Hello {
		a.log.Warn("refused a relay connection: no hello", "err", err)
		return
	}
	var h agentlink.HelloMsg
	if err := json.Unmarshal(p, &h); err != nil || h.V != agentlink.Version {
		a.log.Warn("refused a relay connection: bad hello", "err", err)
		return
	}
	t := &relayTransport{c: nc, r: br}
	origin, err := CheckOrigin(h.Origin)
	if err != nil {
		a.log.Warn("refused a relayed page", "origin", h.Origin, "extension", h.Extension, "err", err)
		t.WriteClose(websocket.ClosePolicyViolation, err.Error(), time.Now().Add(time.Second))
		return
	}
	slot := a.quota.take(origin, a.approved(origin))
	if slot == nil {
		a.log.Warn("refused a relayed page: limit reached", "origin", origin)
		t.WriteClose(websocket.CloseTryAgainLater, "kep agent: too many connections", time.Now().Add(time.Second))
		return
	}
	defer slot.release()
	ack := agentlink.EncodeJSON(agentlink.HelloMsg{V: agentlink.Version, Origin: origin})
	nc.SetWriteDeadline(time.Now().Add(a.limits.WriteTimeout))
	if agentlink.WriteFrame(nc, agentlink.Hello, ack) != nil {
		return
	}
	a.servedRelay.Add(1)
	a.serveConn(t, origin, slot)
}

// relayTransport is the agent's end of the relay channel.
type relayTransport struct {
	c    net.Conn
	r    *bufio.Reader
	pong func(string) error
	mu   sync.Mutex // one frame at a time
}

func (t *relayTransport) NextReader(limit int64) (int, io.Reader, error) {
	for {
		typ, n, err := agentlink.ReadHeader(t.r, limit)
		if errors.Is(err, agentlink.ErrTooLarge) {
			return 0, nil, websocket.ErrReadLimit
		}
		if err != nil {
			return 0, nil, err
		}
		switch typ {
		case agentlink.Message:
			return websocket.TextMessage, &exactReader{r: t.r, n: n}, nil
		case agentlink.Pong:
			if _, err := io.CopyN(io.Discard, t.r, n); err != nil {
				return 0, nil, err
			}
			if t.pong != nil {
				if err := t.pong(""); err != nil {
					return 0, nil, err
				}
			}
		case agentlink.Close:
			return 0, nil, io.EOF
		default:
			return 0, nil, fmt.Errorf("agent: relay frame %q out of place", typ)
		}
	}
}

func (t *relayTransport) SetReadDeadline(d time.Time) error   { return t.c.SetReadDeadline(d) }
func (t *relayTransport) SetPongHandler(h func(string) error) { t.pong = h }
func (t *relayTransport) Close() error                        { return t.c.Close() }

func (t *relayTransport) write(typ byte, p []byte, deadline time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.c.SetWriteDeadline(deadline)
	return agentlink.WriteFrame(t.c, typ, p)
}

func (t *relayTransport) WriteMessage(data []byte, deadline time.Time) error {
	return t.write(agentlink.Message, data, deadline)
}

func (t *relayTransport) WritePing(deadline time.Time) error {
	return t.write(agentlink.Ping, nil, deadline)
}

func (t *relayTransport) WriteClose(code int, text string, deadline time.Time) error {
	return t.write(agentlink.Close, agentlink.EncodeJSON(agentlink.CloseMsg{Code: code, Reason: text}), deadline)
}

// exactReader reads a frame's n payload bytes; a stream ending sooner is
// an error, not a shorter message.
type exactReader struct {
	r io.Reader
	n int64
}

// Len is how much of the frame is left to read.
func (e *exactReader) Len() int64 { return e.n }

func (e *exactReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	n, err := e.r.Read(p)
	e.n -= int64(n)
	if err == io.EOF && e.n > 0 {
		err = io.ErrUnexpectedEOF
	} else if err == io.EOF {
		err = nil
	}
	return n, err
}
