package agent

// The attack suite: `kep agent` as a process, attacked as a malicious page
// and as another local user (a process under uid 65534, started when the
// test runs as root), with a fake browser opener that records its command
// line. No part of the agent is replaced.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/agentlink"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/pkcs11/soft"
	"github.com/kepkit/kep/verify"
)

// roleEnv makes the test binary play a role in another process.
const roleEnv = "KEP_AGENT_TEST_ROLE"

const nobody = 65534

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(playRole(role))
	}
	os.Exit(m.Run())
}

// playRole runs in a child process, usually as another local user. It
// prints one JSON line of what it could do, then waits for stdin to close.
func playRole(role string) int {
	port := os.Getenv("KEP_ATTACK_PORT")
	out := map[string]any{"uid": os.Getuid()}
	switch role {
	case "thief":
		// What another local user can find: the opener's command line
		// (world-readable /proc/PID/cmdline) and whatever it points to.
		if data, err := os.ReadFile("/proc/" + os.Getenv("KEP_ATTACK_PID") + "/cmdline"); err == nil {
			out["cmdline"] = strings.ReplaceAll(string(data), "\x00", " ")
		} else {
			out["cmdlineErr"] = err.Error()
		}
		if _, err := os.ReadFile(os.Getenv("KEP_ATTACK_FILE")); err != nil {
			out["fileErr"] = err.Error()
		} else {
			out["fileRead"] = true
		}
		cl := &http.Client{Timeout: 5 * time.Second}
		if r, err := cl.Get("http://127.0.0.1:" + port + "/"); err != nil {
			out["httpErr"] = err.Error()
		} else {
			r.Body.Close()
			out["httpStatus"] = r.StatusCode
		}
		// A local program can send any Origin: it poses as the approved site.
		h := http.Header{"Origin": {os.Getenv("KEP_ATTACK_ORIGIN")}}
		if ws, _, err := websocket.DefaultDialer.Dial("ws://127.0.0.1:"+port+"/ws", h); err != nil {
			out["wsErr"] = err.Error()
		} else {
			ws.Close()
			out["ws"] = true
		}
		// Ten PIN guesses at the prompt's answer endpoint.
		refused := 0
		for i := 0; i < 10; i++ {
			req, _ := http.NewRequest(http.MethodPost, os.Getenv("KEP_ATTACK_PAGE"), strings.NewReader(`{"approve":true,"pin":"000`+strconv.Itoa(i)+`"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", "http://127.0.0.1:"+port)
			if r, err := cl.Do(req); err != nil {
				refused++
			} else {
				r.Body.Close()
			}
		}
		out["answersRefused"] = refused
	case "relay":
		// Another user who can reach the relay socket (its directory made
		// open to all) poses as the native host of an approved site.
		if c, err := net.Dial("unix", os.Getenv("KEP_ATTACK_SOCKET")); err != nil {
			out["dialErr"] = err.Error()
		} else {
			out["dialed"] = true
			agentlink.WriteFrame(c, agentlink.Hello, []byte(`{"v":1,"origin":"`+os.Getenv("KEP_ATTACK_ORIGIN")+`"}`))
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if typ, _, err := agentlink.ReadFrame(c, 1<<20); err != nil {
				out["readErr"] = err.Error()
			} else {
				out["frame"] = string(typ)
			}
			c.Close()
		}
	case "squatter":
		l, err := net.Listen("tcp4", "127.0.0.1:"+port)
		if err != nil {
			out["error"] = err.Error()
			break
		}
		defer l.Close()
		out["listening"] = true
		out["pid"] = os.Getpid()
	default:
		out["error"] = "unknown role " + role
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// asNobody runs the test binary in role as uid 65534 and returns what it
// printed; it ends when the test does.
func asNobody(t *testing.T, role string, env ...string) map[string]any {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skipf("running as uid %d: a second local user (uid %d) needs root to start", os.Getuid(), nobody)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// uid 65534 cannot run the binary in go test's 0700 work directory.
	dir, err := os.MkdirTemp("", "kep-attack")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "attacker")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), roleEnv+"="+role, "HOME="+dir), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("%s: %v", role, err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(line), &out); err != nil {
		t.Fatalf("%s printed %q", role, line)
	}
	if out["uid"] != float64(nobody) {
		t.Fatalf("%s ran as uid %v", role, out["uid"])
	}
	return out
}

var (
	kepOnce sync.Once
	kepBin  string
	kepErr  error
)

// kepBinary builds cmd/kep once for the suite.
func kepBinary(t *testing.T) string {
	t.Helper()
	kepOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kep-agent-bin")
		if err != nil {
			kepErr = err
			return
		}
		kepBin = filepath.Join(dir, "kep")
		if out, err := exec.Command("go", "build", "-o", kepBin, "../cmd/kep").CombinedOutput(); err != nil {
			kepErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if kepErr != nil {
		t.Fatal(kepErr)
	}
	return kepBin
}

// agentProc is `kep agent` running as a process.
type agentProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	port   int
	dir    string
	token  string
	runDir string // XDG_RUNTIME_DIR: where launcher files go
	opened string // the fake opener's log: "PID ARGS" per line
	ids    []*testpki.Identity
	pki    *testpki.PKI
	stderr *bytes.Buffer
	mu     sync.Mutex
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startAgent runs `kep agent` with a software token holding a GOST-256
// identity, siteOrigin approved, and the fake opener as the browser.
func startAgent(t *testing.T, port int, args ...string) *agentProc {
	t.Helper()
	return startAgentWith(t, port, true, args...)
}

// startAgentWith is startAgent, with the fake opener or without one (the
// system's way, in an environment without a desktop).
func startAgentWith(t *testing.T, port int, fakeOpener bool, args ...string) *agentProc {
	t.Helper()
	bin := kepBinary(t)
	p := &agentProc{t: t, dir: t.TempDir(), pki: testpki.New(t), port: port, stderr: &bytes.Buffer{}}
	p.ids = []*testpki.Identity{p.pki.Leaf(t, testpki.TC26256A, "Иванов Иван Иванович")}
	p.token = filepath.Join(p.dir, "token")
	if err := soft.Init(p.token, []byte(testPIN), "attack test"); err != nil {
		t.Fatal(err)
	}
	tok, err := soft.Open(p.token)
	if err != nil {
		t.Fatal(err)
	}
	tok.Login([]byte(testPIN))
	for _, id := range p.ids {
		if _, err := tok.ImportKey(id.Signer, "", id.Cert, p.pki.Root.Cert); err != nil {
			t.Fatal(err)
		}
	}
	tok.Close()
	p.runDir = filepath.Join(p.dir, "run")
	os.Mkdir(p.runDir, 0o700)
	p.opened = filepath.Join(p.dir, "opened.log")
	opener := filepath.Join(p.dir, "opener")
	// The fake browser: records its command line, stays a few seconds (so
	// that /proc/PID/cmdline can be read), opens nothing.
	os.WriteFile(opener, []byte("#!/bin/sh\necho \"$$ $*\" >> \""+p.opened+"\"\nsleep 5\n"), 0o755)
	if port == 0 {
		p.port = freePort(t)
	}
	base := []string{"agent", "--port", strconv.Itoa(p.port), "--soft", p.token, "--no-discover",
		"--allow-origin", siteOrigin, "--trust", p.pki.Root.CertFile}
	if fakeOpener {
		base = append(base, "--browser", opener)
	}
	p.cmd = exec.Command(bin, append(base, args...)...)
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "DISPLAY=") && !strings.HasPrefix(e, "WAYLAND_DISPLAY=") {
			env = append(env, e)
		}
	}
	p.cmd.Env = append(env, "XDG_CONFIG_HOME="+filepath.Join(p.dir, "config"), "XDG_RUNTIME_DIR="+p.runDir, "HOME="+p.dir)
	p.cmd.Stderr = &lockedWriter{w: p.stderr, mu: &p.mu}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	})
	return p
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *agentProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// ready waits until the agent listens.
func (p *agentProc) ready() {
	p.t.Helper()
	waitFor(p.t, "the agent to listen", func() bool { return strings.Contains(p.log(), "listening on") })
}

func (p *agentProc) dial(t *testing.T, origin string) (*client, *http.Response, error) {
	h := http.Header{"Origin": {origin}}
	ws, resp, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws", p.port), h)
	if err != nil {
		return nil, resp, err
	}
	c := &client{ws: ws, wait: map[int]chan rpcReply{}, notes: make(chan notification, 16), closed: make(chan struct{})}
	go c.read()
	t.Cleanup(func() { ws.Close() })
	return c, resp, nil
}

// openedLines is what the fake opener recorded.
func (p *agentProc) openedLines() []string {
	data, _ := os.ReadFile(p.opened)
	if len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// nextPrompt waits for the opener's n-th call and returns its PID and the
// launcher file it was given.
func (p *agentProc) nextPrompt(n int) (pid, file string) {
	p.t.Helper()
	waitFor(p.t, fmt.Sprintf("opener call %d", n), func() bool { return len(p.openedLines()) >= n })
	line := p.openedLines()[n-1]
	pid, arg, _ := strings.Cut(line, " ")
	if !strings.HasPrefix(arg, "file://") || strings.Contains(arg, " ") {
		p.t.Fatalf("the opener got %q, want one file:// URL", arg)
	}
	return pid, strings.TrimPrefix(arg, "file://")
}

var refreshURL = regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/ui/[0-9a-f]+/[0-9a-f]+)"`)

// openLauncher is the user's browser opening the launcher file.
func openLauncher(t *testing.T, file string) *promptSession {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := refreshURL.FindSubmatch(data)
	if m == nil {
		t.Fatalf("launcher without the prompt's address:\n%s", data)
	}
	s, err := visit(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAttackAnotherUserAnswersPrompts: the prompt's secret is in no
// command line and in no file another user can read; another local user
// cannot connect to the agent at all (peer uid), so it can neither answer
// a prompt, nor guess PINs, nor use a PIN kept by --pin-cache.
func TestAttackAnotherUserAnswersPrompts(t *testing.T) {
	p := startAgent(t, 0, "--pin-cache", "5m")
	p.ready()
	c, _, err := p.dial(t, siteOrigin)
	if err != nil {
		t.Fatal(err)
	}
	id := p.ids[0].Cert.Thumbprint()
	for round := 1; round <= 2; round++ {
		doc := []byte(fmt.Sprintf("Договор № %d", round))
		ch := c.send(t, "sign", map[string]any{"certId": id, "data": doc})
		pid, file := p.nextPrompt(round)
		if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("launcher %s: %v %v, want mode 0600", file, fi, err)
		}
		if fi, err := os.Stat(filepath.Dir(file)); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("launcher directory: %v %v, want mode 0700", fi, err)
		}
		got := asNobody(t, "thief", "KEP_ATTACK_PORT="+strconv.Itoa(p.port), "KEP_ATTACK_PID="+pid, "KEP_ATTACK_FILE="+file,
			"KEP_ATTACK_ORIGIN="+siteOrigin, fmt.Sprintf("KEP_ATTACK_PAGE=http://127.0.0.1:%d/ui/%s", p.port, promptID(file)))
		t.Logf("round %d, what uid %d could do: %v", round, nobody, got)
		cmdline, _ := got["cmdline"].(string)
		if strings.Contains(cmdline, "/ui/") || regexp.MustCompile(`[0-9a-f]{32}`).MatchString(cmdline) {
			t.Errorf("the opener's command line holds the prompt's address: %q", cmdline)
		}
		if got["fileRead"] == true || !strings.Contains(fmt.Sprint(got["fileErr"]), "permission denied") {
			t.Errorf("another user could read the launcher: %v", got)
		}
		if got["httpStatus"] != nil || got["ws"] == true {
			t.Errorf("another user reached the agent: %v", got)
		}
		if got["answersRefused"] != float64(10) {
			t.Errorf("another user's answers: %v refused of 10", got["answersRefused"])
		}
		// The user's own browser opens the launcher and answers.
		s := openLauncher(t, file)
		info, err := s.info()
		if err != nil {
			t.Fatal(err)
		}
		a := answer{Approve: true, PIN: testPIN}
		if round == 2 {
			if info.NeedPIN || info.PINCache == "" {
				t.Errorf("second signature with --pin-cache: %+v", info)
			}
			a.PIN = ""
		}
		if out, err := s.post(a); err != nil || out.Status != "done" {
			t.Fatalf("round %d: %+v %v", round, out, err)
		}
		r := <-ch
		if r.Error != nil {
			t.Fatalf("round %d: %+v", round, r.Error)
		}
		var res SignResult
		json.Unmarshal(r.Result, &res)
		rep, err := verify.Verify(context.Background(), res.CMS, verify.Options{Roots: []*certs.Certificate{p.pki.Root.Cert}, Content: bytes.NewReader(doc)})
		if err != nil || rep.Indication != verify.TotalPassed {
			t.Fatalf("round %d: %v %+v", round, err, rep)
		}
		if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the launcher was not removed once used: %v", err)
		}
	}
	// No PIN try was burnt.
	tok, err := soft.Open(p.token)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	if in, err := tok.Info(); err != nil || in.Failures != 0 {
		t.Errorf("token failures %d (%v), want 0", in.Failures, err)
	}
	if !strings.Contains(p.log(), "refused a connection from another local user") {
		t.Errorf("the agent did not log the other user's connections:\n%s", p.log())
	}
}

// promptID reads the prompt's id from its launcher file name.
func promptID(file string) string {
	return strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "prompt-"), ".html")
}

// TestAttackResourceBudgets: a page the user never approved opens 256
// WebSockets from 128 registrable domains and sends 8 MiB messages on
// them; the approved site still signs, and the agent's peak RSS stays
// within budget. Then the approved site itself floods the agent with 8 MiB
// messages: the message budget bounds the memory.
func TestAttackResourceBudgets(t *testing.T) {
	p := startAgent(t, 0)
	p.ready()
	honest, _, err := p.dial(t, siteOrigin)
	if err != nil {
		t.Fatal(err)
	}
	mustCall[Info](t, honest, "agent.info", nil)
	// One signature first: the software token's scrypt login takes its
	// ~32 MiB once, before the baseline.
	sign := func(doc string, n int) {
		t.Helper()
		ch := honest.send(t, "sign", map[string]any{"certId": p.ids[0].Cert.Thumbprint(), "data": []byte(doc)})
		_, file := p.nextPrompt(n)
		if out, err := openLauncher(t, file).post(answer{Approve: true, PIN: testPIN}); err != nil || out.Status != "done" {
			t.Fatalf("the approved site's signature %q: %+v %v", doc, out, err)
		}
		if r := <-ch; r.Error != nil {
			t.Fatalf("sign %q: %+v", doc, r.Error)
		}
	}
	sign("до атаки", 1)
	base := peakRSS(t, p.cmd.Process.Pid)

	start := time.Now()
	var hostile []*client
	refused := 0
	for i := 0; i < 256; i++ {
		origin := fmt.Sprintf("https://s%d.evil%d.example", i, i%128)
		if i < 128 {
			origin = fmt.Sprintf("https://s%d.evil.example", i) // one site's sub-origins
		}
		c, resp, err := p.dial(t, origin)
		if err != nil {
			if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("connection %d: %v %v", i, resp, err)
			}
			refused++
			continue
		}
		hostile = append(hostile, c)
	}
	if len(hostile) != 32 || refused != 224 {
		t.Errorf("hostile connections: %d accepted, %d refused; want 32 and 224", len(hostile), refused)
	}
	// The approved site signs while they are all open (the baseline is
	// taken after it: the software token's scrypt makes the peak).
	sign("при атаке", 2)
	base = peakRSS(t, p.cmd.Process.Pid)
	// Each accepted one sends an 8 MiB message; the agent reads 64 KiB and
	// closes it.
	msg := []byte(`{"jsonrpc":"2.0","id":1,"method":"agent.info","params":{"pad":"` + strings.Repeat("A", 8<<20) + `"}}`)
	var wg sync.WaitGroup
	for _, c := range hostile {
		wg.Add(1)
		go func(c *client) {
			defer wg.Done()
			c.ws.SetWriteDeadline(time.Now().Add(20 * time.Second))
			c.ws.WriteMessage(websocket.TextMessage, msg)
		}(c)
	}
	wg.Wait()
	for _, c := range hostile {
		select {
		case <-c.closed:
		case <-time.After(20 * time.Second):
			t.Fatal("a hostile connection that sent 8 MiB was not closed")
		}
	}
	hostilePeak := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("unapproved flood handled in %v", time.Since(start))
	start = time.Now()
	t.Logf("agent peak RSS: %d MiB before, %d MiB after the unapproved flood (256 connections tried, 32 × 8 MiB sent on the 32 accepted)", base>>20, hostilePeak>>20)
	if hostilePeak > base+16<<20 {
		t.Errorf("peak RSS grew from %d to %d MiB under an unapproved page's flood (budget +16 MiB)", base>>20, hostilePeak>>20)
	}

	// The approved site itself: 24 connections × 8 MiB at once, more than
	// the 128 MiB budget (each message is charged twice).
	var flood []*client
	for i := 0; i < 24; i++ {
		c, _, err := p.dial(t, siteOrigin)
		if err != nil {
			t.Fatal(err)
		}
		flood = append(flood, c)
	}
	pad := map[string]string{"pad": strings.Repeat("A", 8<<20-200)}
	chs := make([]chan rpcReply, len(flood))
	for i, c := range flood {
		wg.Add(1)
		go func(i int, c *client) {
			defer wg.Done()
			c.ws.SetWriteDeadline(time.Now().Add(60 * time.Second))
			chs[i] = c.sendNoFail(pad)
		}(i, c)
	}
	wg.Wait()
	answered, closed := 0, 0
	for i, c := range flood {
		select {
		case r, ok := <-chs[i]:
			if ok && r.Error == nil {
				answered++
			}
		case <-c.closed:
			closed++
		case <-time.After(60 * time.Second):
			t.Fatal("a flooding connection got neither an answer nor a close")
		}
	}
	approvedPeak := peakRSS(t, p.cmd.Process.Pid)
	t.Logf("approved flood handled in %v", time.Since(start))
	t.Logf("approved flood: %d answered, %d disconnected (busy); agent peak RSS %d MiB", answered, closed, approvedPeak>>20)
	if approvedPeak > base+320<<20 {
		t.Errorf("peak RSS %d MiB under the approved site's flood (budget: base %d + 320 MiB)", approvedPeak>>20, base>>20)
	}
	// And the agent still serves.
	mustCall[Info](t, honest, "agent.info", nil)
}

// sendNoFail sends agent.info with params; a write the agent cut short
// (it may close a flooding connection) leaves the reply channel to close.
func (c *client) sendNoFail(params any) chan rpcReply {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan rpcReply, 1)
	c.wait[id] = ch
	c.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": "agent.info", "params": params})
	c.ws.WriteMessage(websocket.TextMessage, msg)
	return ch
}

// peakRSS reads VmHWM (the peak resident set) of a process.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestAttackPromptFlood: one page with many sub-origins gets one window at
// a time; a refusal cools the whole registrable domain down; a window
// closes when the page that asked for it goes away.
func TestAttackPromptFlood(t *testing.T) {
	p := startAgent(t, 0)
	p.ready()
	var subs []*client
	for i := 0; i < 50; i++ {
		c, _, err := p.dial(t, fmt.Sprintf("https://s%d.evil.example", i))
		if err != nil {
			continue // beyond the site's connection share
		}
		subs = append(subs, c)
	}
	if len(subs) != 8 {
		t.Fatalf("%d sub-origin connections, want the share of 8", len(subs))
	}
	replies := make([]chan rpcReply, len(subs))
	for i, c := range subs {
		replies[i] = c.send(t, "agent.requestAccess", nil)
	}
	_, file := p.nextPrompt(1)
	// Four are in line (one shown), four are told the agent is busy.
	busy := 0
	for i := range replies {
		select {
		case r := <-replies[i]:
			if r.Error == nil || r.Error.Data.Reason != ReasonBusy {
				t.Fatalf("sub-origin %d: %+v", i, r.Error)
			}
			busy++
			replies[i] = nil
		case <-time.After(2 * time.Second):
		}
	}
	if busy != 4 || len(p.openedLines()) != 1 {
		t.Fatalf("%d BUSY, %d windows; want 4 and 1", busy, len(p.openedLines()))
	}
	// The user refuses the window: the others of the site are refused
	// without a window, and so is any sub-origin for a minute.
	if out, err := openLauncher(t, file).post(answer{Approve: false}); err != nil || out.Status != "denied" {
		t.Fatalf("deny: %+v %v", out, err)
	}
	for i, ch := range replies {
		if ch == nil {
			continue
		}
		r := <-ch
		if r.Error == nil || r.Error.Data.Reason != ReasonConsentDenied {
			t.Errorf("sub-origin %d after the refusal: %+v", i, r.Error)
		}
	}
	if n := len(p.openedLines()); n != 1 {
		t.Errorf("%d windows after the refusal, want 1", n)
	}
	// A window closes with the page that asked for it.
	other, _, err := p.dial(t, "https://other.example.org")
	if err != nil {
		t.Fatal(err)
	}
	other.send(t, "agent.requestAccess", nil)
	_, file = p.nextPrompt(2)
	s := openLauncher(t, file)
	other.ws.Close()
	waitFor(t, "the window of a closed page to close", func() bool {
		r, err := s.client.Get(s.page + "/info")
		if err != nil {
			return false
		}
		r.Body.Close()
		return r.StatusCode == http.StatusGone
	})
}

// TestAttackPortSquatting: another local user holding the agent's port is
// named, with its uid and PID, by the agent (which refuses to start) and by
// `kep doctor` (PORT_TAKEN).
func TestAttackPortSquatting(t *testing.T) {
	port := freePort(t)
	got := asNobody(t, "squatter", "KEP_ATTACK_PORT="+strconv.Itoa(port))
	if got["listening"] != true {
		t.Fatalf("squatter: %v", got)
	}
	pid := strconv.Itoa(int(got["pid"].(float64)))
	p := startAgent(t, port)
	err := p.cmd.Wait()
	if err == nil {
		t.Fatal("the agent started on a port another user holds")
	}
	for _, want := range []string{"another local user's program", "nobody", "process " + pid} {
		if !strings.Contains(p.log(), want) {
			t.Errorf("the agent's error does not say %q:\n%s", want, p.log())
		}
	}
	out, err := exec.Command(kepBinary(t), "doctor", "--agent-port", strconv.Itoa(port), "--json", "--no-discover").CombinedOutput()
	if !strings.Contains(string(out), `"PORT_TAKEN"`) || !strings.Contains(string(out), pid) {
		t.Errorf("kep doctor (%v) does not name the squatter:\n%s", err, out)
	}
}

// TestAgentWithoutDesktop: with no desktop to open a browser on (SSH, a
// container), the agent prints the prompt's one-time address to its own
// terminal, and the user answers there.
func TestAgentWithoutDesktop(t *testing.T) {
	p := startAgentWith(t, 0, false)
	p.ready()
	c, _, err := p.dial(t, siteOrigin)
	if err != nil {
		t.Fatal(err)
	}
	ch := c.send(t, "sign", map[string]any{"certId": p.ids[0].Cert.Thumbprint(), "data": []byte("по SSH")})
	printed := regexp.MustCompile(`open (http://127\.0\.0\.1:\d+/ui/[0-9a-f]+/[0-9a-f]+) in your browser`)
	var url string
	waitFor(t, "the address on the agent's terminal", func() bool {
		m := printed.FindStringSubmatch(p.log())
		if m != nil {
			url = m[1]
		}
		return m != nil
	})
	if !strings.Contains(p.log(), "no browser could be opened here") {
		t.Errorf("the agent does not say why:\n%s", p.log())
	}
	s, err := visit(url)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := s.post(answer{Approve: true, PIN: testPIN}); err != nil || out.Status != "done" {
		t.Fatalf("%+v %v", out, err)
	}
	if r := <-ch; r.Error != nil {
		t.Fatal(r.Error)
	}
}
