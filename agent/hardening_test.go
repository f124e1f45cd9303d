package agent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/verify/login"
)

func TestRegistrableDomain(t *testing.T) {
	for _, tc := range []struct{ origin, want string }{
		{"https://a.evil.example.com", "example.com"},
		{"https://b.c.evil.co.uk", "evil.co.uk"},
		{"https://gosuslugi.ru", "gosuslugi.ru"},
		{"https://esia.gosuslugi.ru", "gosuslugi.ru"},
		{"https://x.msk.ru", "x.msk.ru"}, // msk.ru is a public suffix
		{"http://localhost:8090", "localhost"},
		{"http://127.0.0.1:1234", "127.0.0.1"},
		{"http://[::1]:1234", "::1"},
		{"https://user.github.io", "user.github.io"},
	} {
		if got := registrableDomain(tc.origin); got != tc.want {
			t.Errorf("registrableDomain(%s) = %s, want %s", tc.origin, got, tc.want)
		}
	}
}

func TestConnQuota(t *testing.T) {
	q := newConnQuota(Limits{MaxConnections: 10, MaxUnapprovedConnections: 5, MaxUnapprovedPerDomain: 3, MaxUnapprovedPerOrigin: 2})
	var slots []*connSlot
	take := func(origin string, approved, want bool) {
		t.Helper()
		s := q.take(origin, approved)
		if (s != nil) != want {
			t.Fatalf("take(%s, approved %v) = %v, want %v", origin, approved, s != nil, want)
		}
		if s != nil {
			slots = append(slots, s)
		}
	}
	take("https://a.evil.example", false, true)
	take("https://a.evil.example", false, true)
	take("https://a.evil.example", false, false) // per origin
	take("https://b.evil.example", false, true)
	take("https://c.evil.example", false, false) // per registrable domain
	take("https://x.example.org", false, true)
	take("https://y.example.net", false, true)
	take("https://z.example.info", false, false) // unapproved in all
	for i := 0; i < 5; i++ {
		take("https://portal.example.ru", true, true) // the approved site still gets in
	}
	take("https://portal.example.ru", true, false) // the global limit
	// A connection whose site is approved gives back its unapproved share.
	slots[0].approve()
	slots[0].approve()                           // idempotent
	take("https://a.evil.example", false, false) // still 10 in all
	slots[len(slots)-1].release()
	slots[len(slots)-1].release() // idempotent
	take("https://a.evil.example", false, true)
	if q.unapproved != 5 || q.total != 10 {
		t.Errorf("unapproved %d total %d", q.unapproved, q.total)
	}
}

func TestBudget(t *testing.T) {
	b := newBudget(100)
	if err := b.acquire(context.Background(), 60); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.acquire(ctx, 60); err == nil {
		t.Fatal("acquired past the budget")
	}
	got := make(chan error, 1)
	go func() { got <- b.acquire(context.Background(), 60) }()
	b.release(60)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if b.free != 40 {
		t.Errorf("free %d", b.free)
	}
}

func TestTurnsOneWindowAtATime(t *testing.T) {
	tr := newTurns()
	release, err := tr.wait(context.Background(), "https://a.evil.example")
	if err != nil {
		t.Fatal(err)
	}
	// Three more of the same registrable domain may wait; the fifth is BUSY.
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan error, 3)
	for i := 0; i < 3; i++ {
		go func(i int) {
			_, err := tr.wait(ctx, fmt.Sprintf("https://s%d.evil.example", i))
			waiting <- err
		}(i)
	}
	waitFor(t, "three waiting", func() bool { tr.mu.Lock(); defer tr.mu.Unlock(); return tr.waiting == 4 })
	if _, err := tr.wait(context.Background(), "https://s9.evil.example"); err == nil || toRPCError(err).Data.Reason != ReasonBusy {
		t.Fatalf("fifth prompt of one site: %v, want BUSY", err)
	}
	// The waiting ones leave the line when their page goes away.
	cancel()
	for i := 0; i < 3; i++ {
		if err := <-waiting; err == nil {
			t.Fatal("a cancelled prompt got the turn")
		}
	}
	// Another site waits for the turn too: one window for the whole agent.
	other := make(chan struct{})
	go func() {
		r, err := tr.wait(context.Background(), "https://portal.example.ru")
		if err == nil {
			r()
		}
		close(other)
	}()
	select {
	case <-other:
		t.Fatal("a second window opened while one was shown")
	case <-time.After(100 * time.Millisecond):
	}
	release()
	release() // idempotent
	<-other
}

func TestESIAChallenge(t *testing.T) {
	for _, ok := range []string{
		"0123456789abcdefABCDEF",
		"Hh3o1Nh2J6E7N7pXUq0m_X6i2qg2s8Yu-4cV7Zq6b1A", // a kep nonce
		"6b0e7a4e-3f1e-4a4b-9c3e-1d2f3a4b5c6d",        // a UUID
		"openid fullname2019.08.08 10:53:05 +0300ABC123" + "4d1e65e4-7e3f-4a4b-9c3e-1d2f3a4b5c6d", // ЕСИА client_secret
		"http://esia.gosuslugi.ru/usr_inf2024.01.02 03:04:05 +0300CLIENT",
	} {
		if err := checkESIAChallenge(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"short",
		"Доверенность: я, Иванов И.И., доверяю Петрову П.П. распоряжаться моим счётом",
		"I authorise the transfer of all my funds to account 40817810099910004312\n",
		"abcdefghijklmnop<script>",
		"abcdefghijklmnop  qrstuv",
		" abcdefghijklmnopqrstuv",
		strings.Repeat("a", maxESIAChallenge+1),
		"abcdefghijklmnop\u009bqrstuv",
	} {
		if err := checkESIAChallenge(bad); err == nil {
			t.Errorf("%q accepted as a login challenge", bad)
		}
	}
}

func TestTriesRU(t *testing.T) {
	for n, want := range map[int]string{1: "1 попытка", 2: "2 попытки", 4: "4 попытки", 5: "5 попыток", 9: "9 попыток",
		11: "11 попыток", 12: "12 попыток", 21: "21 попытка", 22: "22 попытки", 25: "25 попыток", 111: "111 попыток"} {
		if got := triesRU(n); got != want {
			t.Errorf("triesRU(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestDigestFits(t *testing.T) {
	p := testpki.New(t)
	g256 := p.Leaf(t, testpki.TC26256A, "g256").Cert.PublicKey
	g512 := p.Leaf(t, testpki.TC26512A, "g512").Cert.PublicKey
	rsa := p.Leaf(t, testpki.RSA2048, "rsa").Cert.PublicKey
	for _, tc := range []struct {
		name string
		pub  any
		d    *certs.Digest
		ok   bool
	}{
		{"gost256/streebog256", g256, certs.Streebog256, true},
		{"gost256/streebog512", g256, certs.Streebog512, false},
		{"gost256/sha256", g256, certs.SHA256, false},
		{"gost512/streebog512", g512, certs.Streebog512, true},
		{"gost512/streebog256", g512, certs.Streebog256, false},
		{"rsa/sha256", rsa, certs.SHA256, true},
		{"rsa/sha512", rsa, certs.SHA512, true},
		{"rsa/sha1", rsa, certs.SHA1, false},
		{"rsa/sha224", rsa, certs.SHA224, false},
		{"rsa/streebog256", rsa, certs.Streebog256, false},
	} {
		if err := digestFits(tc.pub, tc.d); (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// TestSignByHashChecksBeforePIN: a hash that does not fit the key is
// refused before any window opens.
func TestSignByHashChecksBeforePIN(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	f.ui.Open = func(string) error { t.Error("a refused hash opened the window"); return nil }
	c := f.dial(t, siteOrigin)
	for _, tc := range []struct {
		id      string
		hashAlg string
		size    int
	}{
		{f.ids[0].Cert.Thumbprint(), "sha256", 32},      // GOST key, SHA-256
		{f.ids[0].Cert.Thumbprint(), "streebog512", 64}, // GOST-256 key, Streebog-512
		{f.ids[1].Cert.Thumbprint(), "sha1", 20},        // RSA with SHA-1
	} {
		_, e := c.call(t, "sign", map[string]any{"certId": tc.id, "hash": make([]byte, tc.size), "hashAlg": tc.hashAlg})
		wantReason(t, e, ReasonInvalidParams)
	}
}

// TestESIALoginRefusesText: free text is not signed as a login, before the
// window; a real challenge shows the nonce in the window, and the audit log
// has the digest of what was signed.
func TestESIALoginRefusesText(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	c := f.dial(t, siteOrigin)
	id := f.ids[0].Cert.Thumbprint()
	f.ui.Open = func(string) error { t.Error("a document posing as a login opened the window"); return nil }
	_, e := c.call(t, "login.sign", map[string]any{"certId": id, "format": "esia-compatible",
		"challenge": "Доверенность № 1: я, Иванов Иван Иванович, уполномочиваю Петрова П. П. подписывать договоры от моего имени"})
	wantReason(t, e, ReasonInvalidParams)

	f.ui.Open = func(url string) error { return f.user.open(url) }
	const nonce = "Hh3o1Nh2J6E7N7pXUq0m_X6i2qg2s8Yu-4cV7Zq6b1A"
	u := f.expect(answer{Approve: true, PIN: testPIN})
	mustCall[login.Response](t, c, "login.sign", map[string]any{"certId": id, "format": "esia-compatible", "challenge": nonce})
	u.wait(t)
	if u.shown[0].Challenge != nonce {
		t.Errorf("the window showed challenge %q, want %q", u.shown[0].Challenge, nonce)
	}
	last := lastAudit(t, f.audit)
	if last.Method != "login.sign" || last.Digest != fmt.Sprintf("%x", certs.Streebog256.Sum([]byte(nonce))) {
		t.Errorf("audit entry %+v: want the Streebog-256 digest of the nonce", last)
	}
}

func lastAudit(t *testing.T, path string) AuditEntry {
	t.Helper()
	data := mustReadFile(t, path)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var e AuditEntry
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestPINCachePerSite: a PIN typed for one site does not sign for another.
func TestPINCachePerSite(t *testing.T) {
	const other = "https://other.example.ru"
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin, other}, PINCache: 5 * time.Minute})
	id := f.ids[0].Cert.Thumbprint()
	c, o := f.dial(t, siteOrigin), f.dial(t, other)
	u := f.expect(answer{Approve: true, PIN: testPIN})
	mustCall[SignResult](t, c, "sign", map[string]any{"certId": id, "data": []byte("x")})
	u.wait(t)
	if !u.shown[0].NeedPIN || !strings.Contains(u.shown[0].PINCache, "будет запомнен для сайта "+siteOrigin) {
		t.Errorf("first window: %+v", u.shown[0])
	}
	u = f.expect(answer{Approve: true, PIN: testPIN})
	mustCall[SignResult](t, o, "sign", map[string]any{"certId": id, "data": []byte("y")})
	u.wait(t)
	if !u.shown[0].NeedPIN {
		t.Error("another site signed with the PIN typed for " + siteOrigin)
	}
	u = f.expect(answer{Approve: true})
	mustCall[SignResult](t, c, "sign", map[string]any{"certId": id, "data": []byte("z")})
	u.wait(t)
	if u.shown[0].NeedPIN || !strings.Contains(u.shown[0].PINCache, "запомнен для сайта "+siteOrigin+" до") {
		t.Errorf("the same site's second window: %+v", u.shown[0])
	}
}

// TestRevokedWhileWindowOpen: a site revoked (by another process, through
// the file) while its window is open signs nothing when the user clicks.
func TestRevokedWhileWindowOpen(t *testing.T) {
	f := newFixture(t, Config{})
	c := f.dial(t, siteOrigin)
	f.approve(t, c)
	urls := make(chan string, 1)
	f.ui.Open = func(url string) error { urls <- url; return nil }
	ch := c.send(t, "sign", map[string]any{"certId": f.ids[0].Cert.Thumbprint(), "data": []byte("x")})
	s, err := visit(recvURL(t, urls))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := OpenSites(filepath.Join(f.dir, "sites.json")).Revoke(siteOrigin); !ok || err != nil {
		t.Fatalf("revoke: %v %v", ok, err)
	}
	if out, err := s.post(answer{Approve: true, PIN: testPIN}); err != nil || out.Status == "done" {
		t.Errorf("answer after revocation: %+v %v", out, err)
	}
	r := <-ch
	wantReason(t, r.Error, ReasonOriginNotApproved)
}

// TestSitesFileLock: two writers of one sites.json (two processes' Sites
// objects) lose none of each other's changes.
func TestSitesFileLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sites.json")
	a, b := OpenSites(path), OpenSites(path)
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(2)
		go func(i int) {
			defer wg.Done()
			if err := a.Approve(fmt.Sprintf("https://a%d.example.ru", i), time.Now(), Grant{All: true}); err != nil {
				t.Error(err)
			}
		}(i)
		go func(i int) {
			defer wg.Done()
			if err := b.Approve(fmt.Sprintf("https://b%d.example.ru", i), time.Now(), Grant{Certificates: []string{"AB"}}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	list, err := OpenSites(path).List()
	if err != nil || len(list) != 80 {
		t.Fatalf("%d sites (%v), want 80", len(list), err)
	}
	for _, s := range list {
		if strings.HasPrefix(s.Origin, "https://b") && (s.Scope != ScopeChosen || !s.Allows("AB") || s.Allows("CD")) {
			t.Errorf("%+v", s)
		}
	}
}

// TestRawErrorFrames: malformed requests get JSON-RPC error objects with
// the right codes and ids, read as raw frames.
func TestRawErrorFrames(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	ws, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws", f.agent.Port()), map[string][]string{"Origin": {siteOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, tc := range []struct {
		send, reason string
		id           string
	}{
		{`{`, ReasonParse, "null"},
		{`[{"jsonrpc":"2.0","id":1,"method":"agent.info"}]`, ReasonInvalidRequest, "null"},
		{`{"jsonrpc":"1.0","id":7,"method":"agent.info"}`, ReasonInvalidRequest, "7"},
		{`{"jsonrpc":"2.0","id":"x","method":""}`, ReasonInvalidRequest, `"x"`},
		{`{"jsonrpc":"2.0","id":{"a":1},"method":"agent.info"}`, ReasonInvalidRequest, "null"},
		{`{"jsonrpc":"2.0","id":8,"method":"agent.info"} {"x":1}`, ReasonParse, "null"},
		{`{"jsonrpc":"2.0","id":9,"method":"no.such"}`, ReasonMethodNotFound, "9"},
		{`{"jsonrpc":"2.0","id":10,"method":"sign","params":{"certId":"x","bogus":1}}`, ReasonInvalidParams, "10"},
		{`{"jsonrpc":"2.0","id":11,"method":"sign","params":[1]}`, ReasonInvalidParams, "11"},
		{`"just a string"`, ReasonInvalidRequest, "null"},
	} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(tc.send)); err != nil {
			t.Fatal(err)
		}
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("%s: %v", tc.send, err)
		}
		var r struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Result  json.RawMessage `json:"result"`
			Error   *Error          `json:"error"`
		}
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("%s: reply %s: %v", tc.send, data, err)
		}
		if r.JSONRPC != "2.0" || string(r.ID) != tc.id || r.Result != nil || r.Error == nil || r.Error.Data.Reason != tc.reason || r.Error.Code != reasonCodes[tc.reason] {
			t.Errorf("%s: reply %s, want %s (%d) with id %s", tc.send, data, tc.reason, reasonCodes[tc.reason], tc.id)
		}
	}
	// Invalid UTF-8 in a text frame closes the connection with 1007.
	ws.WriteMessage(websocket.TextMessage, []byte("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"agent.info\",\"x\":\"\xff\"}"))
	_, _, err = ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseInvalidFramePayloadData) {
		t.Errorf("invalid UTF-8: %v, want close 1007", err)
	}
}

// TestUnapprovedSmallMessages: a site not approved may send only small
// messages and cannot keep an idle connection with pongs.
func TestUnapprovedSmallMessages(t *testing.T) {
	// Pings every second (IdleTimeout/3), which the client's pongs answer.
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}, Limits: Limits{UnapprovedIdle: 300 * time.Millisecond, IdleTimeout: 3 * time.Second}})
	evil := f.dial(t, "https://evil.example")
	info := mustCall[Info](t, evil, "agent.info", nil)
	if info.Approved || info.MaxMessage != 64<<10 || info.AgentKey != nil {
		t.Errorf("unapproved agent.info: %+v", info)
	}
	big := `{"jsonrpc":"2.0","id":1,"method":"agent.info","params":{"pad":"` + strings.Repeat("A", 70<<10) + `"}}`
	evil.ws.WriteMessage(websocket.TextMessage, []byte(big))
	select {
	case <-evil.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("a 70 KiB message of an unapproved site was read")
	}
	// Idle: closed after UnapprovedIdle although pongs would answer pings.
	idle := f.dial(t, "https://evil.example")
	select {
	case <-idle.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("an idle unapproved connection stayed open")
	}
	// The approved site may send large messages, and its pongs keep its
	// connection past the idle time.
	c := f.dial(t, siteOrigin)
	info = mustCall[Info](t, c, "agent.info", nil)
	if info.MaxMessage != 8<<20 || len(info.AgentKey) == 0 {
		t.Errorf("approved agent.info: %+v", info)
	}
	select {
	case <-c.closed:
		t.Fatal("the approved site's connection was closed while pongs answered")
	case <-time.After(5 * time.Second): // past the idle time: the pongs kept it
	}
	mustCall[Info](t, c, "agent.info", map[string]string{"pad": strings.Repeat("A", 1<<20)})
}

// TestAgentProve: the agent's key differs per origin and its proof
// verifies under the key it reports; the key is not given to sites that
// are not approved.
func TestAgentProve(t *testing.T) {
	const other = "https://other.example.ru"
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin, other}})
	c, o := f.dial(t, siteOrigin), f.dial(t, other)
	ic, io := mustCall[Info](t, c, "agent.info", nil), mustCall[Info](t, o, "agent.info", nil)
	if string(ic.AgentKey) == string(io.AgentKey) {
		t.Error("two sites got the same agent key (a cross-site identifier)")
	}
	nonce := []byte("0123456789abcdef0123456789abcdef")
	res := mustCall[struct {
		Origin    string `json:"origin"`
		Signature []byte `json:"signature"`
	}](t, c, "agent.prove", map[string]any{"nonce": nonce})
	if res.Origin != siteOrigin || !verifyProof(t, ic.AgentKey, siteOrigin, nonce, res.Signature) {
		t.Fatalf("proof %+v does not verify", res)
	}
	if verifyProof(t, io.AgentKey, siteOrigin, nonce, res.Signature) {
		t.Error("one site's proof verifies under another site's key")
	}
	evil := f.dial(t, "https://evil.example")
	_, e := evil.call(t, "agent.prove", map[string]any{"nonce": nonce})
	wantReason(t, e, ReasonOriginNotApproved)
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// verifyProof checks an agent.prove signature as kep.js does.
func verifyProof(t *testing.T, spki []byte, origin string, nonce, sig []byte) bool {
	t.Helper()
	k, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() || len(sig) != 64 {
		t.Fatalf("agent key %T, signature %d bytes", k, len(sig))
	}
	h := sha256.Sum256(append([]byte("kep-agent-proof-v1\n"+origin+"\n"), nonce...))
	return ecdsa.Verify(pub, h[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
}

// TestHTTPTimeouts: an idle keep-alive connection and a request that never
// finishes its headers are closed.
func TestHTTPTimeouts(t *testing.T) {
	// Each limit alone closes its connection well before the other would.
	idleOnly := newFixture(t, Config{Limits: Limits{HTTPIdleTimeout: 300 * time.Millisecond, HTTPReadTimeout: time.Minute}})
	readOnly := newFixture(t, Config{Limits: Limits{HTTPIdleTimeout: time.Minute, HTTPReadTimeout: 300 * time.Millisecond}})
	addr := fmt.Sprintf("127.0.0.1:%d", idleOnly.agent.Port())
	closedWithin := func(c net.Conn, d time.Duration) bool {
		c.SetReadDeadline(time.Now().Add(d))
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				var ne net.Error
				return !(errors.As(err, &ne) && ne.Timeout())
			}
		}
	}
	// Keep-alive: one request answered, then silence.
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
	if !closedWithin(idle, 5*time.Second) {
		t.Error("an idle keep-alive connection stayed open")
	}
	// Slow headers: never finished.
	addr = fmt.Sprintf("127.0.0.1:%d", readOnly.agent.Port())
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "GET / HTTP/1.1\r\nHost: %s\r\nX-Slow: ", addr)
	if !closedWithin(slow, 5*time.Second) {
		t.Error("a request with unfinished headers kept its connection")
	}
}
