package agent

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/internal/agentlink"
)

// relayClient plays `kep native-host` on the agent's relay socket.
type relayClient struct {
	c  net.Conn
	r  *bufio.Reader
	id int
}

func (f *fixture) relay(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run", "agent.sock")
	if err := f.agent.ListenRelay(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func dialRelay(t *testing.T, path string, hello any) *relayClient {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &relayClient{c: c, r: bufio.NewReader(c)}
	if hello != nil {
		p, _ := json.Marshal(hello)
		if err := agentlink.WriteFrame(c, agentlink.Hello, p); err != nil {
			t.Fatal(err)
		}
	}
	return rc
}

// frame reads the next frame, answering pings.
func (rc *relayClient) frame(t *testing.T) (byte, []byte) {
	t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		typ, p, err := agentlink.ReadFrame(rc.r, 64<<20)
		if err != nil {
			return 0, []byte(err.Error())
		}
		if typ == agentlink.Ping {
			agentlink.WriteFrame(rc.c, agentlink.Pong, nil)
			continue
		}
		return typ, p
	}
}

func (rc *relayClient) call(t *testing.T, method string, params any) rpcReply {
	t.Helper()
	rc.id++
	msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": rc.id, "method": method, "params": params})
	if err := agentlink.WriteFrame(rc.c, agentlink.Message, msg); err != nil {
		t.Fatal(err)
	}
	for {
		typ, p := rc.frame(t)
		if typ != agentlink.Message {
			t.Fatalf("%s: frame %q %s", method, typ, p)
		}
		var r rpcReply
		if err := json.Unmarshal(p, &r); err != nil {
			t.Fatal(err)
		}
		if r.ID != nil && *r.ID == rc.id {
			return r
		}
	}
}

// TestRelayConsentAndCerts: a page relayed by the native host is the origin
// of its Hello, asks for consent in the agent's window like a WebSocket
// page, and is counted on its own road.
func TestRelayConsentAndCerts(t *testing.T) {
	f := newFixture(t, Config{})
	path := f.relay(t)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode: %v %v", fi, err)
	}
	rc := dialRelay(t, path, agentlink.HelloMsg{V: 1, Origin: "https://Portal.Example.ru:443", Extension: "chrome-extension://x/"})
	if typ, p := rc.frame(t); typ != agentlink.Hello || !strings.Contains(string(p), `"origin":"`+siteOrigin+`"`) {
		t.Fatalf("hello answer %q %s", typ, p)
	}
	var info Info
	r := rc.call(t, "agent.info", nil)
	json.Unmarshal(r.Result, &info)
	if info.Origin != siteOrigin || info.Approved {
		t.Fatalf("info %+v", info)
	}
	if r := rc.call(t, "certs.list", nil); r.Error == nil || r.Error.Data.Reason != ReasonOriginNotApproved {
		t.Fatalf("unapproved certs.list: %+v", r)
	}
	u := f.expect(answer{Approve: true})
	if r := rc.call(t, "agent.requestAccess", nil); r.Error != nil {
		t.Fatalf("requestAccess: %+v", r.Error)
	}
	u.wait(t)
	if len(u.shown) != 1 || u.shown[0].Origin != siteOrigin {
		t.Fatalf("window showed %+v", u.shown)
	}
	var list struct {
		Certificates []CertJSON `json:"certificates"`
	}
	json.Unmarshal(rc.call(t, "certs.list", nil).Result, &list)
	if len(list.Certificates) != len(f.ids) {
		t.Fatalf("certs.list: %d certificates", len(list.Certificates))
	}
	log, _ := os.ReadFile(f.audit)
	if !strings.Contains(string(log), `"origin":"`+siteOrigin+`","method":"agent.requestAccess"`) {
		t.Errorf("audit log: %s", log)
	}
	if ws, relay := f.agent.Served(); ws != 0 || relay != 1 {
		t.Errorf("served: websocket %d, relay %d", ws, relay)
	}
	// A second agent cannot take the socket while this one answers.
	if err := f.agent.ListenRelay(path); err == nil || !strings.Contains(err.Error(), "another kep agent") {
		t.Errorf("second listener: %v", err)
	}
}

// TestRelayRefusals: no Hello, a wrong version, an origin the WebSocket
// would refuse, and an oversized message end the channel; the origin is
// the Hello's alone (a request cannot name another).
func TestRelayRefusals(t *testing.T) {
	f := newFixture(t, Config{})
	path := f.relay(t)
	for _, tc := range []struct {
		name  string
		hello any
		want  string
	}{
		{"message first", nil, ""},
		{"version", agentlink.HelloMsg{V: 2, Origin: siteOrigin}, ""},
		{"http origin", agentlink.HelloMsg{V: 1, Origin: "http://portal.example.ru"}, "not https"},
		{"null origin", agentlink.HelloMsg{V: 1, Origin: "null"}, "no Origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := dialRelay(t, path, tc.hello)
			if tc.hello == nil {
				agentlink.WriteFrame(rc.c, agentlink.Message, []byte(`{"jsonrpc":"2.0","id":1,"method":"agent.info"}`))
			}
			typ, p := rc.frame(t)
			switch {
			case tc.want == "" && typ != 0:
				t.Fatalf("got frame %q %s, want the channel closed", typ, p)
			case tc.want != "" && (typ != agentlink.Close || !strings.Contains(string(p), tc.want)):
				t.Fatalf("got %q %s, want a close with %q", typ, p, tc.want)
			}
		})
	}
	t.Run("too big", func(t *testing.T) {
		rc := dialRelay(t, path, agentlink.HelloMsg{V: 1, Origin: siteOrigin})
		rc.frame(t) // hello
		big := make([]byte, 100<<10)
		for i := range big {
			big[i] = ' '
		}
		agentlink.WriteFrame(rc.c, agentlink.Message, big)
		typ, p := rc.frame(t)
		var cm agentlink.CloseMsg
		json.Unmarshal(p, &cm)
		if typ != agentlink.Close || cm.Code != websocket.CloseMessageTooBig {
			t.Fatalf("got %q %s", typ, p)
		}
	})
}

// TestRelayOtherUser: a process of another local user that can reach the
// socket (its directory opened to all on purpose) is refused before its
// Hello is read: the kernel names its uid. Runs as root only (it starts a
// process as uid 65534).
func TestRelayOtherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a process as another user (uid 65534)")
	}
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	dir, err := os.MkdirTemp("", "kep-relay")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "run", "agent.sock")
	if err := f.agent.ListenRelay(sock); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(sock), 0o777)
	os.Chmod(sock, 0o777)
	out := asNobody(t, "relay", "KEP_ATTACK_SOCKET="+sock, "KEP_ATTACK_ORIGIN="+siteOrigin)
	if out["dialed"] != true {
		t.Fatalf("the other user could not even connect, so the peer check was not reached: %v", out)
	}
	if out["frame"] != nil || out["readErr"] == nil {
		t.Fatalf("the agent answered another user's Hello: %v", out)
	}
	if _, relay := f.agent.Served(); relay != 0 {
		t.Fatalf("served %d relayed connections", relay)
	}
	// The same socket serves this user.
	rc := dialRelay(t, sock, agentlink.HelloMsg{V: 1, Origin: siteOrigin})
	if typ, _ := rc.frame(t); typ != agentlink.Hello {
		t.Fatalf("this user refused: %q", typ)
	}
}
