package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/pkcs11/soft"
	"github.com/kepkit/kep/tsp"
	"github.com/kepkit/kep/verify"
)

const (
	testPIN    = "1234"
	siteOrigin = "https://portal.example.ru"
)

// answer is what the prompt page posts (pageAnswer's JSON, with the PIN
// in the clear: pageAnswer never writes a PIN out).
type answer struct {
	Approve      bool     `json:"approve"`
	PIN          string   `json:"pin"`
	Scope        string   `json:"scope,omitempty"`
	Certificates []string `json:"certificates,omitempty"`
}

// person plays the person in front of the agent's window: it receives the
// prompt's one-time address from PageUI.Open, opens it as a browser would
// (keeping the prompt's cookie), reads what the page shows through the
// page's own endpoints and answers as the page's script does.
type person struct {
	t       *testing.T
	mu      sync.Mutex
	answers []answer // answered in turn; then the prompt is left alone
	shown   []promptInfo
	results []pageOutcome
	done    chan struct{}
}

func newPerson(t *testing.T, answers ...answer) *person {
	return &person{t: t, answers: answers, done: make(chan struct{}, 16)}
}

func (u *person) open(url string) error {
	go func() {
		defer func() { u.done <- struct{}{} }()
		s, err := visit(url)
		if err != nil {
			u.t.Errorf("prompt: %v", err)
			return
		}
		info, err := s.info()
		if err != nil {
			u.t.Errorf("prompt info: %v", err)
			return
		}
		u.mu.Lock()
		u.shown = append(u.shown, info)
		u.mu.Unlock()
		for {
			u.mu.Lock()
			if len(u.answers) == 0 {
				u.mu.Unlock()
				return
			}
			a := u.answers[0]
			u.answers = u.answers[1:]
			u.mu.Unlock()
			out, err := s.post(a)
			if err != nil {
				u.t.Errorf("answer: %v", err)
				return
			}
			u.mu.Lock()
			u.results = append(u.results, out)
			u.mu.Unlock()
			if out.Status != "retry" {
				return
			}
		}
	}()
	return nil
}

func (u *person) wait(t *testing.T) {
	t.Helper()
	select {
	case <-u.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the prompt was never shown")
	}
}

// promptSession is a browser session on a prompt: the cookie the one-time
// address set, and the page's address.
type promptSession struct {
	client *http.Client
	page   string // http://127.0.0.1:PORT/ui/ID
	origin string
}

// visit opens a prompt's one-time address as the user's browser does.
func visit(oneTime string) (*promptSession, error) {
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Timeout: time.Minute}
	r, err := cl.Get(oneTime)
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(r.Body)
		return nil, fmt.Errorf("GET %s: %s %s", oneTime, r.Status, b)
	}
	page := r.Request.URL.String()
	return &promptSession{client: cl, page: page, origin: ownOrigin(page)}, nil
}

func (s *promptSession) info() (promptInfo, error) {
	var v promptInfo
	r, err := s.client.Get(s.page + "/info")
	if err != nil {
		return v, err
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		return v, fmt.Errorf("GET info: %s", r.Status)
	}
	return v, json.NewDecoder(r.Body).Decode(&v)
}

func (s *promptSession) post(a answer) (pageOutcome, error) {
	return postAnswerWith(s.client, s.page, s.origin, a)
}

func ownOrigin(url string) string {
	i := strings.Index(url[len("http://"):], "/")
	return url[:len("http://")+i]
}

func httpGetJSON[T any](url string) (T, error) {
	var v T
	r, err := http.Get(url)
	if err != nil {
		return v, err
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		return v, fmt.Errorf("GET %s: %s", url, r.Status)
	}
	return v, json.NewDecoder(r.Body).Decode(&v)
}

// postAnswerWith posts an answer to a prompt page with cl's cookies.
func postAnswerWith(cl *http.Client, url, origin string, a answer) (pageOutcome, error) {
	var out pageOutcome
	body, _ := json.Marshal(a)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	r, err := cl.Do(req)
	if err != nil {
		return out, err
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(r.Body)
		return out, &statusError{code: r.StatusCode, msg: fmt.Sprintf("POST: %s %s", r.Status, b)}
	}
	return out, json.NewDecoder(r.Body).Decode(&out)
}

type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

// fixture is an agent on an ephemeral port with a software token holding
// a GOST-256 and an RSA identity of a test PKI.
type fixture struct {
	agent *Agent
	pki   *testpki.PKI
	ids   []*testpki.Identity
	dir   string
	ui    *PageUI
	user  *person
	sites *Sites
	audit string
}

func newFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	return newFixtureKeys(t, cfg, nil)
}

// newFixtureKeys is newFixture with the further key sources that sources
// returns, given the fixture's PKI (SoftDir is the fixture's software token).
func newFixtureKeys(t *testing.T, cfg Config, sources func(*testpki.PKI) keystore.Config) *fixture {
	t.Helper()
	f := &fixture{pki: testpki.New(t)}
	var kc keystore.Config
	if sources != nil {
		kc = sources(f.pki)
	}
	f.ids = []*testpki.Identity{f.pki.Leaf(t, testpki.TC26256A, "Иванов Иван Иванович"), f.pki.Leaf(t, testpki.RSA2048, "Petrov RSA")}
	f.dir = t.TempDir()
	tokDir := filepath.Join(f.dir, "token")
	if err := soft.Init(tokDir, []byte(testPIN), "agent test"); err != nil {
		t.Fatal(err)
	}
	tok, err := soft.Open(tokDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.Login([]byte(testPIN)); err != nil {
		t.Fatal(err)
	}
	for _, id := range f.ids {
		if _, err := tok.ImportKey(id.Signer, "", id.Cert, f.pki.Root.Cert); err != nil {
			t.Fatal(err)
		}
	}
	tok.Close()
	kc.SoftDir = tokDir
	keys, err := keystore.Open(context.Background(), kc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	f.user = newPerson(t)
	f.ui = &PageUI{Open: func(url string) error { return f.user.open(url) }, Timeout: 20 * time.Second}
	f.sites = OpenSites(filepath.Join(f.dir, "sites.json"))
	f.audit = filepath.Join(f.dir, "audit.log")
	audit, err := OpenAuditLog(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.UI == nil {
		cfg.UI = f.ui
	}
	cfg.Keys, cfg.Sites, cfg.Audit, cfg.EphemeralPort = keys, f.sites, audit, true
	cfg.Logger = slog.New(slog.NewTextHandler(testLog{t}, nil))
	cfg.Roots = append(cfg.Roots, f.pki.Root.Cert)
	if cfg.Version == "" {
		cfg.Version = "test"
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := a.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	f.agent = a
	return f
}

// expect sets what the simulated user answers next.
func (f *fixture) expect(answers ...answer) *person {
	f.user.mu.Lock()
	f.user.answers = answers
	f.user.shown, f.user.results = nil, nil
	f.user.mu.Unlock()
	return f.user
}

func (f *fixture) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", f.agent.Port(), path)
}

// testLog sends the agent's log to the test's.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// client is a WebSocket JSON-RPC client.
type client struct {
	ws     *websocket.Conn
	mu     sync.Mutex
	nextID int
	wait   map[int]chan rpcReply
	notes  chan notification
	closed chan struct{} // closed when the connection ends
}

type rpcReply struct {
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`
	ID     *int            `json:"id"`
	Method string          `json:"method"`
}

func (f *fixture) dial(t *testing.T, origin string) *client {
	t.Helper()
	c, resp, err := f.dialErr(origin, nil)
	if err != nil {
		t.Fatalf("dial as %s: %v (%v)", origin, err, resp)
	}
	return c
}

func (f *fixture) dialErr(origin string, header http.Header) (*client, *http.Response, error) {
	if header == nil {
		header = http.Header{}
	}
	if origin != "" {
		header.Set("Origin", origin)
	}
	ws, resp, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws", f.agent.Port()), header)
	if err != nil {
		return nil, resp, err
	}
	c := &client{ws: ws, wait: map[int]chan rpcReply{}, notes: make(chan notification, 16), closed: make(chan struct{})}
	go c.read()
	return c, resp, nil
}

func (c *client) read() {
	defer close(c.closed)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			for id, ch := range c.wait {
				close(ch)
				delete(c.wait, id)
			}
			c.mu.Unlock()
			return
		}
		var r rpcReply
		if json.Unmarshal(data, &r) != nil {
			continue
		}
		if r.ID == nil {
			var n notification
			json.Unmarshal(data, &n)
			c.notes <- n
			continue
		}
		c.mu.Lock()
		ch := c.wait[*r.ID]
		delete(c.wait, *r.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
}

// call sends a request and returns the result or the error.
func (c *client) call(t *testing.T, method string, params any) (json.RawMessage, *Error) {
	t.Helper()
	ch := c.send(t, method, params)
	select {
	case r, ok := <-ch:
		if !ok {
			t.Fatalf("%s: connection closed", method)
		}
		return r.Result, r.Error
	case <-time.After(60 * time.Second):
		t.Fatalf("%s: no reply", method)
	}
	return nil, nil
}

func (c *client) send(t *testing.T, method string, params any) chan rpcReply {
	t.Helper()
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan rpcReply, 1)
	c.wait[id] = ch
	c.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return ch
}

func mustCall[T any](t *testing.T, c *client, method string, params any) T {
	t.Helper()
	res, e := c.call(t, method, params)
	if e != nil {
		t.Fatalf("%s: %v (%+v)", method, e, e.Data)
	}
	var v T
	if err := json.Unmarshal(res, &v); err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return v
}

func wantReason(t *testing.T, e *Error, reason string) {
	t.Helper()
	if e == nil || e.Data == nil || e.Data.Reason != reason {
		t.Fatalf("error %+v, want reason %s", e, reason)
	}
	if e.Code != reasonCodes[reason] {
		t.Errorf("code %d for %s, want %d", e.Code, reason, reasonCodes[reason])
	}
}

// approve runs the consent flow for origin on c.
func (f *fixture) approve(t *testing.T, c *client) {
	t.Helper()
	u := f.expect(answer{Approve: true})
	mustCall[map[string]bool](t, c, "agent.requestAccess", nil)
	u.wait(t)
}

func TestConsentFlow(t *testing.T) {
	f := newFixture(t, Config{})
	c := f.dial(t, siteOrigin)

	info := mustCall[Info](t, c, "agent.info", nil)
	if info.Approved || info.Origin != siteOrigin || info.Name != "kep" || len(info.Methods) != len(methods) {
		t.Fatalf("info %+v", info)
	}
	for _, m := range []string{"tokens.list", "certs.list", "sign", "login.sign", "verify", "certs.check", "upload.begin"} {
		_, e := c.call(t, m, map[string]any{})
		wantReason(t, e, ReasonOriginNotApproved)
	}

	// Refused: still not approved, and the page says so.
	u := f.expect(answer{Approve: false})
	_, e := c.call(t, "agent.requestAccess", nil)
	wantReason(t, e, ReasonConsentDenied)
	u.wait(t)
	if len(u.shown) != 1 || u.shown[0].Kind != "access" || u.shown[0].Origin != siteOrigin {
		t.Errorf("shown %+v", u.shown)
	}

	// A refused site cannot reopen the window at once.
	f.ui.Open = func(string) error { t.Error("a refused site reopened the window"); return nil }
	_, e = c.call(t, "agent.requestAccess", nil)
	wantReason(t, e, ReasonConsentDenied)
	f.ui.Open = func(url string) error { return f.user.open(url) }
	later := time.Now().Add(DenialCooldown + time.Second)
	f.agent.cfg.Now = func() time.Time { return later }

	f.approve(t, c)
	if !mustCall[Info](t, c, "agent.info", nil).Approved {
		t.Fatal("not approved after consent")
	}
	list := mustCall[map[string][]CertJSON](t, c, "certs.list", nil)["certificates"]
	if len(list) != 2 {
		t.Fatalf("%d certificates", len(list))
	}

	// Kept in the sites file; another connection is approved too; revoking
	// in the file (as `kep agent sites revoke` does) takes effect at once.
	if sites, err := OpenSites(filepath.Join(f.dir, "sites.json")).List(); err != nil || len(sites) != 1 || sites[0].Origin != siteOrigin {
		t.Fatalf("sites file: %+v %v", sites, err)
	}
	c2 := f.dial(t, siteOrigin)
	mustCall[map[string][]TokenJSON](t, c2, "tokens.list", nil)
	if ok, err := OpenSites(filepath.Join(f.dir, "sites.json")).Revoke(siteOrigin); !ok || err != nil {
		t.Fatal(ok, err)
	}
	_, e = c2.call(t, "tokens.list", nil)
	wantReason(t, e, ReasonOriginNotApproved)
}

func TestSignWithPINInAgentPage(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	c := f.dial(t, siteOrigin)
	doc := []byte("Договор № 1 от 24.11.2026")
	o := f.pki.O
	docFile := o.WriteFile(t, "doc.txt", doc)

	for _, id := range f.ids {
		u := f.expect(answer{Approve: true, PIN: testPIN})
		res := mustCall[SignResult](t, c, "sign", map[string]any{"certId": id.Cert.Thumbprint(), "data": doc, "description": "Договор\u202e.exe"})
		u.wait(t)
		if len(u.shown) != 1 || u.shown[0].Kind != OpSign || u.shown[0].Origin != siteOrigin || !u.shown[0].NeedPIN ||
			u.shown[0].Certificate == nil || u.shown[0].Certificate.Thumbprint != id.Cert.Thumbprint() || u.shown[0].Size != int64(len(doc)) {
			t.Fatalf("%s: page showed %+v", id.Key.Name, u.shown)
		}
		if strings.ContainsRune(u.shown[0].Description, '\u202e') {
			t.Errorf("bidi override reached the page: %q", u.shown[0].Description)
		}
		if len(u.results) != 1 || u.results[0].Status != "done" {
			t.Errorf("page results %+v", u.results)
		}
		rep, err := verify.Verify(context.Background(), res.CMS, verify.Options{Roots: []*certs.Certificate{f.pki.Root.Cert}, Content: bytes.NewReader(doc)})
		if err != nil || rep.Indication != verify.TotalPassed {
			t.Fatalf("%s: verify: %v %+v", id.Key.Name, err, rep)
		}
		sigFile := o.WriteFile(t, id.Key.Name+".sig", res.CMS)
		o.MustRun(t, nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", docFile,
			"-CAfile", f.pki.Root.CertFile, "-purpose", "any", "-out", os.DevNull)
	}

	// The audit log has both signatures and no PIN.
	log, err := os.ReadFile(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(log, []byte(`"method":"sign"`)); n != 2 {
		t.Errorf("audit log has %d signatures:\n%s", n, log)
	}
	if bytes.Contains(log, []byte(testPIN)) {
		t.Errorf("the PIN is in the audit log")
	}
}

// TestDiagnose: agent.diagnose tells an unapproved site only that it is not
// approved; an approved one gets the findings about the tokens too.
func TestDiagnose(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}, SoftToken: true})
	type report struct {
		Findings []struct {
			Code, MessageRU string
			Evidence        map[string]any
		}
	}
	stranger := mustCall[report](t, f.dial(t, "https://stranger.example.ru"), "agent.diagnose", nil)
	if len(stranger.Findings) != 1 || stranger.Findings[0].Code != "ORIGIN_NOT_APPROVED" || stranger.Findings[0].MessageRU == "" {
		t.Fatalf("stranger: %+v", stranger)
	}
	r := mustCall[report](t, f.dial(t, siteOrigin), "agent.diagnose", nil)
	ok := 0
	for _, x := range r.Findings {
		if x.Code == "CERT_OK" {
			ok++
		}
		if x.Code == "ORIGIN_NOT_APPROVED" {
			t.Errorf("approved site told it is not approved")
		}
	}
	if ok != len(f.ids) {
		t.Errorf("findings %+v, want CERT_OK for each of %d certificates", r.Findings, len(f.ids))
	}
}

// TestSignCAdEST: with a TSA configured, the agent's signatures carry a
// signature time-stamp that verifies.
func TestSignCAdEST(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	tsa := f.pki.TSA(t, testpki.CryptoProA, "critical,timeStamping")
	f.agent.cfg.Timestamper = &tsp.Client{URL: tsa.URL}
	c := f.dial(t, siteOrigin)
	if info := mustCall[Info](t, c, "agent.info", nil); !strings.Contains(strings.Join(info.Capabilities, ","), "cades-t") {
		t.Errorf("capabilities %v", info.Capabilities)
	}
	doc := []byte("CAdES-T through the agent")
	u := f.expect(answer{Approve: true, PIN: testPIN})
	res := mustCall[SignResult](t, c, "sign", map[string]any{"certId": f.ids[0].Cert.Thumbprint(), "data": doc})
	u.wait(t)
	rep, err := verify.Verify(context.Background(), res.CMS, verify.Options{Roots: []*certs.Certificate{f.pki.Root.Cert},
		Content: bytes.NewReader(doc), Profile: verify.ProfileCAdEST})
	if err != nil || rep.Indication != verify.TotalPassed || rep.Signers[0].Timestamp == nil {
		t.Fatalf("%v %+v", err, rep)
	}
}

// TestPINCache: with --pin-cache the second signature is approved without
// the PIN, until the time runs out; a PIN changed meanwhile costs one try and
// the user is asked again; without the option the PIN is asked every time.
func TestPINCache(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}, PINCache: 5 * time.Minute})
	c := f.dial(t, siteOrigin)
	id := f.ids[0].Cert.Thumbprint()
	sign := func(answers ...answer) *person {
		t.Helper()
		u := f.expect(answers...)
		mustCall[SignResult](t, c, "sign", map[string]any{"certId": id, "data": []byte("x")})
		u.wait(t)
		return u
	}
	if u := sign(answer{Approve: true, PIN: testPIN}); !u.shown[0].NeedPIN {
		t.Fatal("the first signature did not ask for the PIN")
	}
	if u := sign(answer{Approve: true}); u.shown[0].NeedPIN {
		t.Error("the second signature asked for the PIN again")
	}
	// The cache does not outlive its time.
	later := time.Now().Add(6 * time.Minute)
	f.agent.cfg.Now = func() time.Time { return later }
	if u := sign(answer{Approve: true, PIN: testPIN}); !u.shown[0].NeedPIN {
		t.Error("the PIN was still kept after its time")
	}
	// The PIN changed on the token: the kept one fails once, the user types
	// the new one on the page.
	tok, err := soft.Open(f.dir + "/token")
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.ChangePIN([]byte(testPIN), []byte("98765")); err != nil {
		t.Fatal(err)
	}
	tok.Close()
	u := sign(answer{Approve: true}, answer{Approve: true, PIN: "98765"})
	if u.shown[0].NeedPIN || len(u.results) != 2 || u.results[0].Status != "retry" || u.results[1].Status != "done" {
		t.Errorf("after a PIN change: %+v %+v", u.shown, u.results)
	}
	if u := sign(answer{Approve: true}); u.shown[0].NeedPIN {
		t.Error("the new PIN was not kept")
	}

	// Off by default.
	g := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	gc := g.dial(t, siteOrigin)
	for i := 0; i < 2; i++ {
		u := g.expect(answer{Approve: true, PIN: testPIN})
		mustCall[SignResult](t, gc, "sign", map[string]any{"certId": g.ids[0].Cert.Thumbprint(), "data": []byte("x")})
		u.wait(t)
		if !u.shown[0].NeedPIN {
			t.Fatalf("signature %d without --pin-cache did not ask for the PIN", i+1)
		}
	}
}
