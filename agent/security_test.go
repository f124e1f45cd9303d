package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11/soft"
	"github.com/kepkit/kep/verify"
	"github.com/kepkit/kep/verify/login"
)

func TestCheckOrigin(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://portal.example.ru", "https://portal.example.ru"},
		{"https://Portal.Example.RU:443", "https://portal.example.ru"},
		{"https://portal.example.ru:8443", "https://portal.example.ru:8443"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"http://127.0.0.1", "http://127.0.0.1"},
		{"http://[::1]:3000", "http://[::1]:3000"},
		{"", ""},
		{"null", ""},
		{"http://portal.example.ru", ""},
		{"http://localhost.evil.example", ""},
		{"file://", ""},
		{"chrome-extension://abcdef", ""},
		{"https://user@portal.example.ru", ""},
		{"https://portal.example.ru/path", ""},
		{"https://", ""},
	} {
		got, err := CheckOrigin(tc.in)
		if tc.want == "" && err == nil || tc.want != "" && (err != nil || got != tc.want) {
			t.Errorf("CheckOrigin(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestHandshakeRefusals(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	for _, tc := range []struct {
		name, origin string
		host         string
		status       int
	}{
		{"no origin", "", "", http.StatusForbidden},
		{"null origin", "null", "", http.StatusForbidden},
		{"http site", "http://portal.example.ru", "", http.StatusForbidden},
		{"DNS rebinding", siteOrigin, "evil.example:" + fmt.Sprint(f.agent.Port()), http.StatusMisdirectedRequest},
		{"other port", siteOrigin, "127.0.0.1:1", http.StatusMisdirectedRequest},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		req, _ := http.NewRequest(http.MethodGet, f.url("/ws"), nil)
		req.Header = h
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
	}
	// localhost and [::1] are the agent's own names.
	for _, host := range []string{"localhost", "127.0.0.1"} {
		req, _ := http.NewRequest(http.MethodGet, f.url("/"), nil)
		req.Host = fmt.Sprintf("%s:%d", host, f.agent.Port())
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("Host %s: %v %v", host, resp, err)
		}
	}
}

func TestDiscoveryEndpoint(t *testing.T) {
	f := newFixture(t, Config{})
	req, _ := http.NewRequest(http.MethodOptions, f.url("/"), nil)
	req.Header.Set("Origin", siteOrigin)
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Private-Network", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != siteOrigin || resp.Header.Get("Access-Control-Allow-Private-Network") != "true" {
		t.Errorf("preflight headers %v", resp.Header)
	}
	d, err := httpGetJSON[Discovery](f.url("/"))
	if err != nil || d.Name != "kep" || d.Protocol != ProtocolVersion || !strings.HasSuffix(d.WS, fmt.Sprintf(":%d/ws", f.agent.Port())) {
		t.Fatalf("discovery %+v %v", d, err)
	}
	// A foreign non-https origin gets no CORS grant.
	req, _ = http.NewRequest(http.MethodGet, f.url("/"), nil)
	req.Header.Set("Origin", "http://evil.example")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS granted to http://evil.example")
	}
	// The JS client is served.
	resp, err = http.Get(f.url("/kep.js"))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(js, []byte("export async function connect")) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("kep.js: %s %d bytes", resp.Header.Get("Content-Type"), len(js))
	}
}

// TestPromptPageIsTheAgents: the prompt's one-time address works once and
// sets the prompt's cookie; only the agent's own page in that browser
// session sees the details and answers; the page cannot be framed.
func TestPromptPageIsTheAgents(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	urls := make(chan string, 1)
	f.ui.Open = func(url string) error { urls <- url; return nil }
	c := f.dial(t, siteOrigin)
	ch := c.send(t, "sign", map[string]any{"certId": f.ids[0].Cert.Thumbprint(), "data": []byte("x")})
	oneTime := recvURL(t, urls)

	s, err := visit(oneTime)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.client.Get(s.page)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("prompt page may be framed: %v", resp.Header)
	}
	if strings.Contains(s.page, oneTime[strings.LastIndexByte(oneTime, '/')+1:]) {
		t.Errorf("the one-time code stays in the page's address %s", s.page)
	}
	// The address works once: whoever comes second gets nothing.
	if _, err := visit(oneTime); err == nil || !strings.Contains(err.Error(), "410") {
		t.Errorf("second visit of the one-time address: %v, want 410", err)
	}
	// Without the prompt's cookie: neither the details nor an answer.
	if r, err := http.Get(s.page + "/info"); err != nil || r.StatusCode != http.StatusForbidden {
		t.Errorf("info without the cookie: %v %v", r, err)
	}
	wrongID := s.page[:len(s.page)-4] + "0000"
	for _, tc := range []struct {
		name        string
		cl          *http.Client
		url, origin string
		status      int
	}{
		{"site's origin", s.client, s.page, siteOrigin, http.StatusForbidden},
		{"no origin", s.client, s.page, "", http.StatusForbidden},
		{"no cookie", http.DefaultClient, s.page, s.origin, http.StatusForbidden},
		{"wrong prompt", s.client, wrongID, s.origin, http.StatusGone},
	} {
		_, err := postAnswerWith(tc.cl, tc.url, tc.origin, answer{Approve: true, PIN: testPIN})
		var se *statusError
		if !errors.As(err, &se) || se.code != tc.status {
			t.Errorf("%s: %v, want %d", tc.name, err, tc.status)
		}
	}
	// The user refuses: the site hears USER_CANCELLED and nothing was signed.
	if out, err := s.post(answer{Approve: false}); err != nil || out.Status != "denied" {
		t.Fatalf("deny: %+v %v", out, err)
	}
	r := <-ch
	wantReason(t, r.Error, ReasonUserCancelled)
}

func TestWrongPINThenRight(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	c := f.dial(t, siteOrigin)
	u := f.expect(answer{Approve: true, PIN: "0000"}, answer{Approve: true, PIN: testPIN})
	mustCall[SignResult](t, c, "sign", map[string]any{"certId": f.ids[0].Cert.Thumbprint(), "data": []byte("x")})
	u.wait(t)
	if len(u.results) != 2 || u.results[0].Status != "retry" || !strings.Contains(u.results[0].Message, "Неверный PIN-код. Осталось 9 попыток.") || u.results[1].Status != "done" {
		t.Fatalf("page results %+v", u.results)
	}
	// The wrong PIN is on the audit record, not only the signature.
	audit := string(mustReadFile(t, f.audit))
	if !strings.Contains(audit, `"method":"sign.pin"`) || !strings.Contains(audit, `"result":"PIN_INCORRECT"`) {
		t.Errorf("audit log without the wrong PIN:\n%s", audit)
	}
	// Wrong PIN, then the user gives up: PIN_INCORRECT is not what the site
	// hears; the user cancelled.
	u = f.expect(answer{Approve: true, PIN: "0000"}, answer{Approve: false})
	_, e := c.call(t, "sign", map[string]any{"certId": f.ids[0].Cert.Thumbprint(), "data": []byte("x")})
	u.wait(t)
	wantReason(t, e, ReasonUserCancelled)
}

func TestPagePINOrigin(t *testing.T) {
	const kiosk = "https://kiosk.example.ru"
	f := newFixture(t, Config{PagePINOrigins: []string{kiosk}, AllowOrigins: []string{siteOrigin}})
	f.ui.Open = func(url string) error { t.Errorf("a page-PIN request opened the agent's window"); return nil }
	k := f.dial(t, kiosk)
	id := f.ids[0].Cert.Thumbprint()
	pin := testPIN
	mustCall[SignResult](t, k, "sign", map[string]any{"certId": id, "data": []byte("x"), "pin": pin})

	// A wrong page PIN costs exactly one try and is never retried.
	_, e := k.call(t, "sign", map[string]any{"certId": id, "data": []byte("x"), "pin": "0000"})
	wantReason(t, e, ReasonPINIncorrect)
	tok, err := soft.Open(f.dir + "/token")
	if err != nil {
		t.Fatal(err)
	}
	in, err := tok.Info()
	tok.Close()
	if err != nil || in.Failures != 1 {
		t.Fatalf("failures %d (%v), want 1", in.Failures, err)
	}
	// Other origins may not pass a PIN.
	c := f.dial(t, siteOrigin)
	_, e = c.call(t, "sign", map[string]any{"certId": id, "data": []byte("x"), "pin": pin})
	wantReason(t, e, ReasonPINFromPage)
}

func TestChunkedUpload(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}, Limits: Limits{MaxMessage: 1 << 20}})
	c := f.dial(t, siteOrigin)
	id := f.ids[0].Cert.Thumbprint()
	doc := make([]byte, 12<<20) // 12 MiB through 1 MiB messages
	rand.Read(doc)
	up := mustCall[struct {
		UploadID string `json:"uploadId"`
		HashAlg  string `json:"hashAlg"`
	}](t, c, "upload.begin", map[string]any{"certId": id, "description": "big.bin"})
	if up.HashAlg != "streebog256" {
		t.Errorf("hashAlg %s", up.HashAlg)
	}
	for off := 0; off < len(doc); off += 512 << 10 {
		mustCall[map[string]int64](t, c, "upload.chunk", map[string]any{"uploadId": up.UploadID, "data": doc[off:min(off+512<<10, len(doc))]})
	}
	u := f.expect(answer{Approve: true, PIN: testPIN})
	res := mustCall[SignResult](t, c, "sign", map[string]any{"certId": id, "uploadId": up.UploadID})
	u.wait(t)
	if u.shown[0].Size != int64(len(doc)) || u.shown[0].Description != "big.bin" {
		t.Errorf("page showed %+v", u.shown[0])
	}
	rep, err := verify.Verify(context.Background(), res.CMS, verify.Options{Roots: []*certs.Certificate{f.pki.Root.Cert}, Content: bytes.NewReader(doc)})
	if err != nil || rep.Indication != verify.TotalPassed {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	// The upload is used up.
	_, e := c.call(t, "sign", map[string]any{"certId": id, "uploadId": up.UploadID})
	wantReason(t, e, ReasonUploadUnknown)
	// A message over the limit ends the connection (with close code 1009,
	// when the close frame gets through before the agent drops it).
	big := bytes.Repeat([]byte("A"), 1<<20+1)
	c.ws.WriteMessage(websocket.TextMessage, big)
	select {
	case <-c.closed:
	case <-time.After(10 * time.Second):
		t.Errorf("the connection stayed open after an oversized message")
	}
	mustCall[Info](t, f.dial(t, siteOrigin), "agent.info", nil)
}

func TestSignParamsRefused(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	f.ui.Open = func(string) error { t.Error("a refused request opened the agent's window"); return nil }
	c := f.dial(t, siteOrigin)
	id := f.ids[0].Cert.Thumbprint()
	for _, tc := range []struct {
		params any
		reason string
	}{
		{map[string]any{"certId": id}, ReasonInvalidParams},
		{map[string]any{"certId": id, "data": "eA==", "hash": "eA==", "hashAlg": "streebog256"}, ReasonInvalidParams},
		{map[string]any{"certId": id, "hash": "eA==", "hashAlg": "streebog256"}, ReasonInvalidParams},
		{map[string]any{"certId": id, "hash": strings.Repeat("A", 44), "hashAlg": "md5"}, ReasonInvalidParams},
		{map[string]any{"certId": id, "data": "eA==", "unknown": 1}, ReasonInvalidParams},
		{map[string]any{"certId": strings.Repeat("AB", 20), "data": "eA=="}, ReasonCertNotFound},
		{map[string]any{"certId": id, "uploadId": "nope"}, ReasonUploadUnknown},
	} {
		_, e := c.call(t, "sign", tc.params)
		wantReason(t, e, tc.reason)
	}
	_, e := c.call(t, "no.such.method", nil)
	wantReason(t, e, ReasonMethodNotFound)
	// Not JSON, a batch, a wrong version.
	for _, raw := range []string{"{", `[{"jsonrpc":"2.0","id":1,"method":"agent.info"}]`, `{"jsonrpc":"1.0","id":1,"method":"agent.info"}`} {
		c.ws.WriteMessage(websocket.TextMessage, []byte(raw))
	}
	// Replies with a null id are read by nobody in client.read; the
	// connection must still answer afterwards.
	mustCall[Info](t, c, "agent.info", nil)
}

func TestLimits(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}, Limits: Limits{MaxConnections: 2, MaxInFlight: 1}})
	urls := make(chan string, 4)
	f.ui.Open = func(url string) error { urls <- url; return nil }
	c := f.dial(t, siteOrigin)
	// One request waiting for the user fills the connection.
	ch := c.send(t, "sign", map[string]any{"certId": f.ids[0].Cert.Thumbprint(), "data": []byte("x")})
	url := recvURL(t, urls)
	_, e := c.call(t, "agent.info", nil)
	wantReason(t, e, ReasonBusy)
	f.dial(t, siteOrigin)
	if _, resp, err := f.dialErr(siteOrigin, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("third connection: %v %v", resp, err)
	}
	ps, err := visit(url)
	if err != nil {
		t.Fatal(err)
	}
	ps.post(answer{Approve: false})
	<-ch
	// A client that disconnects cancels its prompt: the window's details
	// are gone (410) and an answer signs nothing.
	ch = c.send(t, "sign", map[string]any{"certId": f.ids[0].Cert.Thumbprint(), "data": []byte("x")})
	url = recvURL(t, urls)
	ps, err = visit(url)
	if err != nil {
		t.Fatal(err)
	}
	c.ws.Close()
	<-ch // the client's reader saw the connection end
	waitFor(t, "the prompt to close", func() bool {
		r, err := ps.client.Get(ps.page + "/info")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == http.StatusGone
	})
	if out, err := ps.post(answer{Approve: true, PIN: testPIN}); err != nil || out.Status == "done" {
		t.Errorf("prompt of a closed connection: %+v %v", out, err)
	}
}

func TestLoginSign(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	c := f.dial(t, siteOrigin)
	ctx := context.Background()
	store := login.NewMemoryStore()
	issuer := &login.Issuer{Store: store}
	verifier := &login.Verifier{Store: store, Roots: []*certs.Certificate{f.pki.Root.Cert}, AllowESIACompatible: true}
	id := f.ids[0].Cert.Thumbprint()

	ch, err := issuer.Challenge(ctx, siteOrigin)
	if err != nil {
		t.Fatal(err)
	}
	u := f.expect(answer{Approve: true, PIN: testPIN})
	resp := mustCall[login.Response](t, c, "login.sign", map[string]any{"certId": id, "challenge": ch})
	u.wait(t)
	if u.shown[0].Kind != OpLogin {
		t.Errorf("page showed %+v", u.shown[0])
	}
	data, _ := resp.Marshal()
	ident, err := verifier.Verify(ctx, siteOrigin, data)
	if err != nil || ident.CommonName != "Иванов Иван Иванович" || ident.Origin != siteOrigin {
		t.Fatalf("login verify: %+v %v", ident, err)
	}

	// A challenge of another site (a phishing page relaying it) is refused
	// before anything is shown to the user.
	other, _ := issuer.Challenge(ctx, "https://gosuslugi.ru")
	f.ui.Open = func(string) error { t.Error("a refused login opened the window"); return nil }
	_, e := c.call(t, "login.sign", map[string]any{"certId": id, "challenge": other})
	wantReason(t, e, ReasonOriginMismatch)

	// Clocks 10 minutes apart: CLOCK_SKEW with the measured skew.
	skewed := *ch
	skewed.ServerTime = time.Now().Add(-10 * time.Minute)
	_, e = c.call(t, "login.sign", map[string]any{"certId": id, "challenge": skewed})
	wantReason(t, e, ReasonClockSkew)
	if s, ok := e.Data.Details["skewSeconds"].(float64); !ok || s < 590 || s > 610 {
		t.Errorf("skew details %+v", e.Data.Details)
	}

	// esia-compatible: the challenge string signed attached.
	f.ui.Open = func(url string) error { return f.user.open(url) }
	u = f.expect(answer{Approve: true, PIN: testPIN})
	resp = mustCall[login.Response](t, c, "login.sign", map[string]any{"certId": id, "challenge": "digital_challenge_0123456789abcdef", "format": "esia-compatible"})
	u.wait(t)
	rep, err := verify.Verify(ctx, resp.CMS, verify.Options{Roots: []*certs.Certificate{f.pki.Root.Cert}, Purpose: certs.PurposeAny})
	if err != nil || rep.Indication != verify.TotalPassed || string(rep.Content) != "digital_challenge_0123456789abcdef" {
		t.Fatalf("esia-compatible: %v %+v", err, rep)
	}
}

// TestOnlyLoopback: the agent listens on loopback only.
func TestOnlyLoopback(t *testing.T) {
	f := newFixture(t, Config{})
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		ip, _, _ := net.ParseCIDR(a.String())
		if ip == nil || ip.IsLoopback() {
			continue
		}
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip.String(), fmt.Sprint(f.agent.Port())), time.Second)
		if err == nil {
			conn.Close()
			t.Errorf("the agent answers on %s", ip)
		}
	}
}

// TestManyConnections: 100 pages at once, 1,000 requests in all, no error,
// and the agent's heap does not grow with them.
func TestManyConnections(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, _, err := f.dialErr(siteOrigin, nil)
			if err != nil {
				errs <- err
				return
			}
			defer c.ws.Close()
			for j := 0; j < 10; j++ {
				method := "agent.info"
				if j%5 == 4 {
					method = "certs.list"
				}
				r, ok := <-c.send(t, method, nil)
				if !ok || r.Error != nil {
					errs <- fmt.Errorf("connection %d request %d: %v %+v", i, j, ok, r.Error)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 32<<20 {
		t.Errorf("heap grew by %d MiB", grown>>20)
	}
}

// recvURL waits for the agent to open a confirmation page.
func recvURL(t *testing.T, urls <-chan string) string {
	t.Helper()
	select {
	case u := <-urls:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("the agent opened no confirmation page")
		return ""
	}
}

// waitFor polls cond until it holds (30 s at most): for outcomes another
// goroutine or process brings about, without fixed sleeps.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
