// Package nativehost is `kep native-host`: the program a browser starts for
// kep's extension (native messaging), one process per page channel. It
// relays that page to the user's running kep agent and does nothing else.
//
// Why a relay and not an agent of its own: the user's consent per site, the
// PIN cache, kep's confirmation window (one at a time across all sites) and
// the audit log belong to one process. A host that signed by itself would
// keep a second set of each, and a page could play one against the other
// (ask again in the host after a refusal in the agent, or cache a PIN
// twice). So the host connects to the agent's relay socket (a Unix socket in
// the user's private directory, see agent.DefaultRelaySocket; the agent
// checks the peer's uid), starting the agent when none answers, and from then
// on copies messages both ways.
//
// The origin: the extension's background takes it from the browser (the
// sender of the content script's port) and sends it first, in
// {"kep":"open","v":1,"origin":...}; the host passes it on in its Hello and
// never reads another. Later messages from the page are forwarded as
// JSON-RPC; one that tries to open again is just an invalid request to the
// agent. The host also checks that the browser started it for kep's
// extension (Chromium passes the caller's origin, Firefox the extension ID).
//
// To the browser: {"kep":"ready","v":1,"origin":O} once the agent accepted
// the page; JSON-RPC replies and notifications as the agent wrote them, each
// over 1 MiB (nativemsg.MaxOut) as {"kep":"part","data":BASE64,"more":bool}
// pieces; {"kep":"closed","reason":R,"message":M[,"code":N]} before it ends.
//
// Warning: stdout is the browser's channel. Nothing else may write there;
// the host logs to stderr (which Chromium sends to its own log).
package nativehost

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kepkit/kep/internal/agentlink"
	"github.com/kepkit/kep/internal/nativemsg"
)

// Reasons in {"kep":"closed"} that kep.js reports.
const (
	ReasonNotAllowed   = "EXTENSION_NOT_ALLOWED" // started for another extension
	ReasonProtocol     = "PROTOCOL"              // the extension spoke out of turn
	ReasonUnreachable  = "AGENT_UNREACHABLE"     // no agent, and none could be started
	ReasonRefused      = "AGENT_REFUSED"         // the agent closed the channel (code and message say why)
	ReasonAgentGone    = "CONNECTION_CLOSED"     // the agent went away
	ReasonMessageLimit = "MESSAGE_TOO_BIG"
)

// PartSize is the raw size of one piece of a reply over nativemsg.MaxOut:
// base64 makes it 4/3 larger, well inside the browser's limit.
const PartSize = 512 << 10

// MaxFromAgent bounds one message from the agent.
const MaxFromAgent = 64 << 20

// Options configure Run.
type Options struct {
	// In and Out are the browser's pipes (os.Stdin, os.Stdout).
	In  io.Reader
	Out io.Writer
	// Args are the host's command-line arguments as the browser gave them:
	// Chromium passes the caller's origin (chrome-extension://ID/, and on
	// Windows --parent-window=N), Firefox the manifest's path and the
	// extension's ID.
	Args []string
	// Allowed are the callers served: extension origins or IDs. Empty
	// allows none.
	Allowed []string
	// Socket is the agent's relay socket (agent.DefaultRelaySocket).
	Socket string
	// StartAgent, when set, starts the agent when nobody answers on Socket;
	// Run then waits up to StartTimeout (15 s when zero) for it.
	StartAgent   func() error
	StartTimeout time.Duration
	// MaxIn bounds one message from the browser (nativemsg.DefaultMaxIn).
	MaxIn int
	// Logger logs to stderr, never stdout (slog.Default when nil).
	Logger *slog.Logger
}

// Caller returns the argument naming the extension that started the host,
// if it is one of allowed.
func Caller(args, allowed []string) (string, bool) {
	for _, a := range args {
		if slices.Contains(allowed, a) {
			return a, true
		}
	}
	return "", false
}

type openMsg struct {
	Kep    string `json:"kep"`
	V      int    `json:"v"`
	Origin string `json:"origin"`
}

// Run serves one page channel until the browser or the agent ends it. It
// returns nil when the browser closed the channel.
func Run(ctx context.Context, o Options) error {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	in := nativemsg.NewReader(o.In, o.MaxIn)
	out := nativemsg.NewWriter(o.Out)
	closed := func(reason, msg string, code int) error {
		m := map[string]any{"kep": "closed", "reason": reason, "message": msg}
		if code != 0 {
			m["code"] = code
		}
		b, _ := json.Marshal(m)
		out.Write(b)
		return fmt.Errorf("native-host: %s: %s", reason, msg)
	}
	caller, ok := Caller(o.Args, o.Allowed)
	if !ok {
		return closed(ReasonNotAllowed, fmt.Sprintf("started for %q, which is not kep's extension", strings.Join(o.Args, " ")), 0)
	}
	first, err := in.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return closed(ReasonProtocol, err.Error(), 0)
	}
	var open openMsg
	if err := json.Unmarshal(first, &open); err != nil || open.Kep != "open" || open.V != 1 || open.Origin == "" {
		return closed(ReasonProtocol, "the first message must be {\"kep\":\"open\",\"v\":1,\"origin\":…}", 0)
	}
	conn, err := dial(ctx, o)
	if err != nil {
		return closed(ReasonUnreachable, err.Error(), 0)
	}
	defer conn.Close()
	hello := agentlink.EncodeJSON(agentlink.HelloMsg{V: agentlink.Version, Origin: open.Origin, Extension: caller})
	if err := agentlink.WriteFrame(conn, agentlink.Hello, hello); err != nil {
		return closed(ReasonUnreachable, err.Error(), 0)
	}
	ar := bufio.NewReaderSize(conn, 64<<10)
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	typ, p, err := agentlink.ReadFrame(ar, MaxFromAgent)
	conn.SetReadDeadline(time.Time{})
	switch {
	case err != nil:
		return closed(ReasonRefused, "the agent closed the channel: "+err.Error(), 0)
	case typ == agentlink.Close:
		var cm agentlink.CloseMsg
		json.Unmarshal(p, &cm)
		return closed(ReasonRefused, cm.Reason, cm.Code)
	case typ != agentlink.Hello:
		return closed(ReasonProtocol, fmt.Sprintf("the agent answered with frame %q", typ), 0)
	}
	var ack agentlink.HelloMsg
	json.Unmarshal(p, &ack)
	ready, _ := json.Marshal(map[string]any{"kep": "ready", "v": 1, "origin": ack.Origin})
	if err := out.Write(ready); err != nil {
		return err
	}
	log.Debug("relaying", "origin", ack.Origin, "extension", caller)

	var wmu sync.Mutex // frames to the agent: pongs and the page's messages
	toAgent := func(t byte, p []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return agentlink.WriteFrame(conn, t, p)
	}
	agentDone := make(chan error, 1)
	go func() { agentDone <- fromAgent(ar, out, toAgent, closed) }()
	browserDone := make(chan error, 1)
	go func() {
		for {
			msg, err := in.Read()
			if errors.Is(err, nativemsg.ErrInvalid) {
				continue // not JSON: the extension only sends JSON, drop it
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				browserDone <- err
				return
			}
			if err := toAgent(agentlink.Message, msg); err != nil {
				browserDone <- err
				return
			}
		}
	}()
	select {
	case err := <-browserDone:
		// The page, its tab or the browser went away: the agent's conn
		// ends with this socket (its uploads and objects are released).
		if errors.Is(err, nativemsg.ErrTooLarge) {
			return closed(ReasonMessageLimit, err.Error(), 0)
		}
		return err
	case err := <-agentDone:
		return err
	case <-ctx.Done():
		return closed(ReasonAgentGone, "native host stopped", 0)
	}
}

// fromAgent copies the agent's frames to the browser until the agent ends.
func fromAgent(ar *bufio.Reader, out *nativemsg.Writer, toAgent func(byte, []byte) error, closed func(string, string, int) error) error {
	for {
		typ, p, err := agentlink.ReadFrame(ar, MaxFromAgent)
		if err != nil {
			return closed(ReasonAgentGone, "the agent closed the channel", 1006)
		}
		switch typ {
		case agentlink.Ping:
			if err := toAgent(agentlink.Pong, nil); err != nil {
				return closed(ReasonAgentGone, err.Error(), 1006)
			}
		case agentlink.Close:
			var cm agentlink.CloseMsg
			json.Unmarshal(p, &cm)
			return closed(ReasonRefused, cm.Reason, cm.Code)
		case agentlink.Message:
			if err := writeBrowser(out, p); err != nil {
				return err
			}
		}
	}
}

// writeBrowser writes one message, in pieces when it is over the limit.
func writeBrowser(out *nativemsg.Writer, msg []byte) error {
	if len(msg) <= nativemsg.MaxOut {
		return out.Write(msg)
	}
	for off := 0; off < len(msg); off += PartSize {
		end := min(off+PartSize, len(msg))
		part, _ := json.Marshal(map[string]any{"kep": "part", "data": base64.StdEncoding.EncodeToString(msg[off:end]), "more": end < len(msg)})
		if err := out.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// dial connects to the agent, starting it when nobody answers.
func dial(ctx context.Context, o Options) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", o.Socket)
	if err == nil || o.StartAgent == nil {
		if err != nil {
			err = fmt.Errorf("no kep agent answers on %s (start «kep agent»): %w", o.Socket, err)
		}
		return c, err
	}
	if serr := o.StartAgent(); serr != nil {
		return nil, fmt.Errorf("no kep agent answers on %s, and it could not be started: %w", o.Socket, serr)
	}
	timeout := o.StartTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for {
		c, err = d.DialContext(ctx, "unix", o.Socket)
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("kep agent was started but does not answer on %s after %s: %w", o.Socket, timeout, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
