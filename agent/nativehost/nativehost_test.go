package nativehost

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/internal/agentlink"
	"github.com/kepkit/kep/internal/nativemsg"
)

const ext = "chrome-extension://dlddleogcmheghkldiemeeklfnciopjn/"

// browser plays the browser: it writes to the host's stdin and reads its
// stdout, in the native-messaging framing.
type browser struct {
	w    *io.PipeWriter
	out  *nativemsg.Writer
	in   *nativemsg.Reader
	done chan error
}

func start(t *testing.T, o Options) *browser {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	o.In, o.Out = inR, outW
	b := &browser{w: inW, out: nativemsg.NewWriter(inW), in: nativemsg.NewReader(outR, 0), done: make(chan error, 1)}
	go func() {
		err := Run(context.Background(), o)
		outW.Close()
		b.done <- err
	}()
	t.Cleanup(func() { inW.Close() })
	return b
}

func (b *browser) send(t *testing.T, v any) {
	t.Helper()
	m, _ := json.Marshal(v)
	if err := b.out.Write(m); err != nil {
		t.Fatal(err)
	}
}

func (b *browser) recv(t *testing.T) map[string]any {
	t.Helper()
	m, err := b.in.Read()
	if err != nil {
		t.Fatalf("host said nothing: %v", err)
	}
	var v map[string]any
	json.Unmarshal(m, &v)
	return v
}

// fakeAgent accepts one relay connection and hands it to serve.
func fakeAgent(t *testing.T, path string, serve func(c net.Conn, r *bufio.Reader, hello agentlink.HelloMsg)) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		typ, p, err := agentlink.ReadFrame(r, 1<<20)
		if err != nil || typ != agentlink.Hello {
			t.Errorf("first frame %q %v", typ, err)
			return
		}
		var h agentlink.HelloMsg
		json.Unmarshal(p, &h)
		serve(c, r, h)
	}()
}

func TestRefusals(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	for _, tc := range []struct {
		name   string
		args   []string
		first  any
		reason string
	}{
		{"another extension", []string{"chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"}, nil, ReasonNotAllowed},
		{"no arguments", nil, nil, ReasonNotAllowed},
		{"not open first", []string{ext}, map[string]any{"jsonrpc": "2.0", "id": 1, "method": "agent.info"}, ReasonProtocol},
		{"no origin", []string{ext}, map[string]any{"kep": "open", "v": 1}, ReasonProtocol},
		{"no agent", []string{ext, "--parent-window=0"}, map[string]any{"kep": "open", "v": 1, "origin": "https://a.example"}, ReasonUnreachable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := start(t, Options{Args: tc.args, Allowed: []string{ext, "kep@kepkit.github.io"}, Socket: sock})
			if tc.first != nil {
				b.send(t, tc.first)
			}
			m := b.recv(t)
			if m["kep"] != "closed" || m["reason"] != tc.reason {
				t.Fatalf("got %v, want closed %s", m, tc.reason)
			}
			if err := <-b.done; err == nil {
				t.Fatal("Run returned nil")
			}
		})
	}
}

// TestRelay: the host starts the agent when none answers, passes the
// extension's origin in its Hello, relays both ways, answers pings itself,
// cuts a reply over 1 MiB into pieces that join to the reply, and ends
// cleanly when the browser closes the pipe.
func TestRelay(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	big := `{"jsonrpc":"2.0","id":2,"result":{"x":"` + strings.Repeat("я", 1<<20) + `"}}`
	gotHello := make(chan agentlink.HelloMsg, 1)
	agentSaw := make(chan string, 4)
	started := false
	b := start(t, Options{Args: []string{"/path/io.github.kepkit.kep.json", "kep@kepkit.github.io"}, Allowed: []string{ext, "kep@kepkit.github.io"}, Socket: sock,
		StartAgent: func() error {
			started = true
			fakeAgent(t, sock, func(c net.Conn, r *bufio.Reader, h agentlink.HelloMsg) {
				gotHello <- h
				agentlink.WriteFrame(c, agentlink.Hello, agentlink.EncodeJSON(agentlink.HelloMsg{V: 1, Origin: h.Origin}))
				agentlink.WriteFrame(c, agentlink.Ping, nil)
				for {
					typ, p, err := agentlink.ReadFrame(r, 1<<20)
					if err != nil {
						agentSaw <- "eof"
						return
					}
					agentSaw <- string(typ) + string(p)
					if typ == agentlink.Message {
						agentlink.WriteFrame(c, agentlink.Message, []byte(`{"jsonrpc":"2.0","id":1,"result":{}}`))
						agentlink.WriteFrame(c, agentlink.Message, []byte(big))
					}
				}
			})
			return nil
		}})
	b.send(t, map[string]any{"kep": "open", "v": 1, "origin": "https://portal.example"})
	if m := b.recv(t); m["kep"] != "ready" || m["origin"] != "https://portal.example" {
		t.Fatalf("got %v", m)
	}
	if h := <-gotHello; !started || h.Origin != "https://portal.example" || h.Extension != "kep@kepkit.github.io" {
		t.Fatalf("hello %+v (started %v)", h, started)
	}
	if s := <-agentSaw; s != "P" {
		t.Fatalf("agent got %q, want a pong", s)
	}
	// A page trying to open again only sends the agent a message.
	b.send(t, map[string]any{"kep": "open", "v": 1, "origin": "https://other.example"})
	if s := <-agentSaw; !strings.HasPrefix(s, "m") || !strings.Contains(s, "other.example") {
		t.Fatalf("agent got %q", s)
	}
	if m := b.recv(t); m["id"] != 1.0 {
		t.Fatalf("got %v", m)
	}
	var joined bytes.Buffer
	parts := 0
	for {
		raw, err := b.in.Read()
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > nativemsg.MaxOut {
			t.Fatalf("a message of %d bytes to the browser", len(raw))
		}
		var p struct {
			Kep  string `json:"kep"`
			Data string `json:"data"`
			More bool   `json:"more"`
		}
		json.Unmarshal(raw, &p)
		if p.Kep != "part" {
			t.Fatalf("got %.80s", raw)
		}
		d, _ := base64.StdEncoding.DecodeString(p.Data)
		joined.Write(d)
		parts++
		if !p.More {
			break
		}
	}
	if joined.String() != big || parts < 4 {
		t.Fatalf("%d parts joined to %d bytes, want %d", parts, joined.Len(), len(big))
	}
	b.w.Close()
	if err := <-b.done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	select {
	case s := <-agentSaw:
		if s != "eof" {
			t.Fatalf("agent got %q", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the agent's channel stayed open")
	}
}

// TestAgentCloses: the agent's refusal reaches the browser with its code.
func TestAgentCloses(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	fakeAgent(t, sock, func(c net.Conn, _ *bufio.Reader, _ agentlink.HelloMsg) {
		agentlink.WriteFrame(c, agentlink.Close, agentlink.EncodeJSON(agentlink.CloseMsg{Code: 1008, Reason: "origin http://x is not https"}))
	})
	b := start(t, Options{Args: []string{ext}, Allowed: []string{ext}, Socket: sock})
	b.send(t, map[string]any{"kep": "open", "v": 1, "origin": "http://x"})
	if m := b.recv(t); m["kep"] != "closed" || m["reason"] != ReasonRefused || m["code"] != 1008.0 || !strings.Contains(m["message"].(string), "not https") {
		t.Fatalf("got %v", m)
	}
}
