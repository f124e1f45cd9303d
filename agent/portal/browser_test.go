package portal_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/agent"
	"github.com/kepkit/kep/agent/portal"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/demopki"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/pkcs11/soft"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
)

// The whole browser suite runs in one headless Chromium: the user's
// browser, where the portal's page and the agent's own confirmation pages
// open as tabs.

// chromiumPath finds Debian's chromium (installed by `make deps`).
func chromiumPath(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed (run `make deps`)")
	return ""
}

type world struct {
	t         *testing.T
	demo      *demopki.Manifest
	rootCerts []*certs.Certificate
	agent     *agent.Agent // nil when the agent runs in another process
	port      int          // the agent's port on 127.0.0.1
	browser   context.Context
	prompts   chan string // confirmation pages the agent asked to open
	portals   map[string]string
	// beforeAnswer, when set, runs in the prompt's tab before the answer.
	beforeAnswer func(ctx context.Context)
	ui           *agent.PageUI
	shots        int
	// wrongPIN is what the wrong-PIN message says besides «Неверный PIN»:
	// the tries left («Осталось», the software token counts them) when
	// empty, else e.g. the count-low warning, all a PKCS#11 module tells.
	wrongPIN string
}

// newWorld runs the agent over the demo PKI's token.
func newWorld(t *testing.T) *world {
	t.Helper()
	demo, err := demopki.Create(filepath.Join(t.TempDir(), "demo"), demopki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(demo.Path(demo.CA))
	if err != nil {
		t.Fatal(err)
	}
	roots, err := certs.ParseCertificates(data)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorldWith(t, demo.Path(demo.Token), roots)
	w.demo = demo
	return w
}

// newWorldWith runs the agent over the software token in tokenDir, with
// the portal trusting roots.
func newWorldWith(t *testing.T, tokenDir string, roots []*certs.Certificate) *world {
	t.Helper()
	w := &world{t: t, prompts: make(chan string, 8), portals: map[string]string{}, rootCerts: roots}
	keys, err := keystore.Open(context.Background(), keystore.Config{SoftDir: tokenDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	ui := &agent.PageUI{Open: func(url string) error { w.prompts <- url; return nil }, Timeout: 30 * time.Second}
	w.ui = ui
	w.agent, err = agent.New(agent.Config{Keys: keys, UI: ui, EphemeralPort: true, Roots: w.roots(), SoftToken: true,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := w.agent.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	w.port = w.agent.Port()
	w.browser = startBrowser(t)
	return w
}

// startBrowser starts the headless Chromium the world's tabs open in.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		chromedp.Flag("host-resolver-rules", "MAP evil.test 127.0.0.1"),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return browser
}

func (w *world) roots() []*certs.Certificate { return w.rootCerts }

// portal starts a demo portal on a loopback port and returns its URL.
func (w *world) portal(agentPort int) string {
	w.t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	url := fmt.Sprintf("http://localhost:%d", port)
	p, err := portal.New(portal.Config{Origins: []string{url}, Roots: w.roots(), AgentPort: agentPort})
	if err != nil {
		w.t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go srv.Serve(l)
	w.t.Cleanup(func() { srv.Close() })
	return url
}

// tab opens url in a new tab of the browser.
func (w *world) tab(url string) context.Context {
	w.t.Helper()
	ctx, cancel := chromedp.NewContext(w.browser)
	w.t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	w.t.Cleanup(cancelT)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		w.t.Fatalf("open %s: %v", url, err)
	}
	return ctx
}

// answer plays the user in the agent's next confirmation page: it checks
// what the page shows, types the PIN when asked and clicks approve (or
// deny), and returns the page's final status text.
func (w *world) answer(approve bool, pins ...string) (shown, status string) {
	w.t.Helper()
	var url string
	select {
	case url = <-w.prompts:
	case <-time.After(60 * time.Second):
		w.t.Fatal("the agent opened no confirmation page")
	}
	if !strings.HasPrefix(url, fmt.Sprintf("http://127.0.0.1:%d/ui/", w.port)) && !strings.HasPrefix(url, "file:///") {
		w.t.Fatalf("confirmation page at %s, not on the agent's origin", url)
	}
	ctx := w.tab(url)
	t := w.t
	do(t, ctx, visible("#approve"))
	poll(t, ctx, `document.getElementById("title").textContent !== "Загрузка…"`)
	shown = text(t, ctx, "main")
	w.shots++
	screenshot(t, ctx, fmt.Sprintf("%s-prompt-%d", strings.ReplaceAll(t.Name(), "/", "_"), w.shots))
	const done = `(() => { const s = document.getElementById("status").textContent; return s !== "" && s !== "Выполняется…"; })()`
	if w.beforeAnswer != nil {
		w.beforeAnswer(ctx)
	}
	// The buttons come alive only after the input protection's delay.
	poll(t, ctx, armed)
	if !approve {
		do(t, ctx, chromedp.Click(chromedp.CSS("#deny")))
		poll(t, ctx, done)
		return shown, text(t, ctx, "#status")
	}
	if len(pins) == 0 {
		pins = []string{""} // consent: nothing to type
	}
	for i, pin := range pins {
		if pin != "" {
			do(t, ctx, chromedp.SendKeys(chromedp.CSS("#pin"), pin))
		}
		poll(t, ctx, armed)
		do(t, ctx, chromedp.Click(chromedp.CSS("#approve")))
		poll(t, ctx, done)
		status = text(t, ctx, "#status")
		tries := w.wrongPIN
		if tries == "" {
			tries = "Осталось"
		}
		if i < len(pins)-1 && (!strings.Contains(status, "Неверный PIN") || !strings.Contains(status, tries)) {
			t.Fatalf("after PIN %d the page says %q, want the wrong-PIN message with %q", i+1, status, tries)
		}
	}
	return shown, status
}

// armed is true once the prompt's buttons accept clicks.
const armed = `!document.getElementById("approve").disabled && !document.getElementById("deny").disabled`

// do runs browser steps, failing the test on error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// poll waits until the JavaScript expression is true.
func poll(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
}

func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// text waits for the element to be visible and returns its text.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	do(t, ctx, visible(sel))
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	r, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		t.Fatalf("%s[%s]: %v", sel, name, err)
	}
	return r.Value
}

func TestBrowserLoginSignVerify(t *testing.T) {
	loginSignVerify(t, newWorld(t))
}

// loginSignVerify is a person's first visit to the demo portal: the access
// window, the certificates listed, a login (a wrong PIN first), a document
// signed and its .sig checked by openssl and by the portal, the
// verification protocol. It returns the document and signature files.
func loginSignVerify(t *testing.T, w *world) (docFile, sigFile string) {
	url := w.portal(w.port)
	page := w.tab(url)

	// First use: the agent asks whether the portal may use it.
	shown, status := w.answer(true)
	if !strings.Contains(shown, url) || !strings.Contains(status, "Доступ разрешён") {
		t.Fatalf("consent page showed %q, ended %q", shown, status)
	}
	person := w.demo.Identities[0]
	do(t, page, visible("#login-section"))
	poll(t, page, fmt.Sprintf(`document.getElementById("cert-select").options.length >= %d`, len(w.demo.Identities)))
	listed, err := chromedp.Run(page, chromedp.Evaluate[[]string](`[...document.getElementById("cert-select").options].map((o) => o.value)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range w.demo.Identities {
		if !slices.Contains(listed, id.Thumbprint) {
			t.Errorf("the portal lists %v, not %s (%s)", listed, id.Thumbprint, id.Role)
		}
	}
	do(t, page, chromedp.SetValue(chromedp.CSS("#cert-select"), person.Thumbprint))

	// Login with a wrong PIN first, then the right one. The login window
	// shows the nonce, not an empty hash row.
	w.beforeAnswer = func(ctx context.Context) {
		if displayed(t, ctx, "#digest") || displayed(t, ctx, "#digestLabel") || !displayed(t, ctx, "#challenge") {
			t.Error("the login window shows a hash row, or no nonce")
		}
	}
	do(t, page, chromedp.Click(chromedp.CSS("#login-btn")))
	shown, status = w.answer(true, "00000000", demopki.PIN)
	w.beforeAnswer = nil
	if !strings.Contains(shown, "Войти") || !strings.Contains(shown, "Иванов Иван Иванович") || !strings.Contains(status, "Готово") {
		t.Fatalf("login page showed %q, ended %q", shown, status)
	}
	if name := text(t, page, "#id-name"); name != "Иванов Иван Иванович" {
		t.Errorf("identity name %q", name)
	}
	if s := text(t, page, "#id-snils"); s != "11223344595" {
		t.Errorf("СНИЛС %q", s)
	}
	if s := text(t, page, "#id-inn"); len(s) != 12 {
		t.Errorf("ИНН %q", s)
	}

	// Sign a document; the .sig the page offers verifies with openssl.
	o := ossltest.New(t)
	docFile = o.WriteFile(t, "Договор.txt", []byte("Договор поставки № 42\n"))
	do(t, page, chromedp.SetUploadFiles(chromedp.CSS("#sign-file"), []string{docFile}), chromedp.Click(chromedp.CSS("#sign-btn")))
	shown, _ = w.answer(true, demopki.PIN)
	if !strings.Contains(shown, "Договор.txt") || !strings.Contains(shown, "байт") || !strings.Contains(shown, "streebog256") {
		t.Errorf("signing page showed %q", shown)
	}
	do(t, page, visible("#sign-result"))
	cmsB64, download := attr(t, page, "#sig-download", "data-cms"), attr(t, page, "#sig-download", "download")
	if download != "Договор.txt.sig" {
		t.Errorf("download name %q", download)
	}
	cms, err := base64.StdEncoding.DecodeString(cmsB64)
	if err != nil {
		t.Fatal(err)
	}
	sigFile = o.WriteFile(t, "Договор.txt.sig", cms)
	caFile := o.WriteFile(t, "ca.pem", mustRead(t, w.demo.Path(w.demo.CA)))
	if out, err := o.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", docFile,
		"-CAfile", caFile, "-purpose", "any", "-out", os.DevNull); err != nil {
		t.Fatalf("openssl cms -verify: %v %s", err, out)
	}

	// The portal's verification page checks it too.
	do(t, page, chromedp.SetUploadFiles(chromedp.CSS("#verify-sig"), []string{sigFile}),
		chromedp.SetUploadFiles(chromedp.CSS("#verify-doc"), []string{docFile}),
		chromedp.Click(chromedp.CSS("#verify-btn")), visible("#verify-result"))
	if indication := attr(t, page, "#verify-summary", "data-indication"); indication != verify.TotalPassed {
		t.Errorf("portal verification: %s", indication)
	}
	if summary := text(t, page, "#verify-summary"); strings.Contains(summary, "[ok]") || !strings.Contains(summary, "Подпись действительна") {
		t.Errorf("portal summary %q", summary)
	}
	screenshot(t, page, "portal-verification")

	// The verification protocol the portal offers, as a PDF whose text
	// names the document, the signer and the stamp.
	pdf := postProtocol(t, url, sigFile, docFile, "pdf")
	pdfFile := o.WriteFile(t, "protocol.pdf", pdf)
	out, err := exec.Command("pdftotext", "-layout", pdfFile, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, out)
	}
	for _, want := range []string{"Договор.txt", "Иванов Иван Иванович", "ДОКУМЕНТ ПОДПИСАН", "ЭЛЕКТРОННОЙ ПОДПИСЬЮ", "ПРОТОКОЛ ПРОВЕРКИ"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the protocol's text lacks %q:\n%s", want, out)
		}
	}
	if html := postProtocol(t, url, sigFile, docFile, "html"); !strings.Contains(string(html), "Договор.txt") {
		t.Errorf("HTML protocol without the document's name")
	}
	return docFile, sigFile
}

// postProtocol asks the portal for the verification protocol of a
// signature, as the page's download link does.
func postProtocol(t *testing.T, portalURL, sigFile, docFile, format string) []byte {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for field, path := range map[string]string{"signature": sigFile, "document": docFile} {
		fw, _ := mw.CreateFormFile(field, filepath.Base(path))
		fw.Write(mustRead(t, path))
	}
	mw.WriteField("format", format)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, portalURL+"/api/verify/protocol", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", portalURL)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("protocol %s: %s %s", format, resp.Status, data)
	}
	return data
}

func TestBrowserRefusals(t *testing.T) {
	w := newWorld(t)

	// A site the user does not approve gets nothing.
	page := w.tab(w.portal(w.agent.Port()))
	w.answer(false)
	msg := text(t, page, "#agent-error")
	reason := attr(t, page, "#agent-error", "data-reason")
	if reason != agent.ReasonConsentDenied || !strings.Contains(msg, "не разрешён") {
		t.Errorf("refused site shows %q (%s)", msg, reason)
	}

	// No agent: the page says so in Russian.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close()
	page = w.tab(w.portal(closed))
	msg = text(t, page, "#agent-error")
	reason = attr(t, page, "#agent-error", "data-reason")
	if reason != "AGENT_UNREACHABLE" || !strings.Contains(msg, "не запущена") {
		t.Errorf("no agent: %q (%s)", msg, reason)
	}

	// A foreign http page (evil.test → 127.0.0.1) cannot open a WebSocket to
	// the agent, and reaching the agent under its name (DNS rebinding) gets 421.
	evil := http.NewServeMux()
	evil.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(rw, `<!doctype html><title>evil</title><script>
const ws = new WebSocket("ws://127.0.0.1:%d/ws");
ws.onopen = () => { document.title = "open"; };
ws.onerror = () => { document.title = "refused"; };
</script>`, w.agent.Port())
	})
	el, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := &http.Server{Handler: evil}
	go srv.Serve(el)
	defer srv.Close()
	page = w.tab(fmt.Sprintf("http://evil.test:%d/", el.Addr().(*net.TCPAddr).Port))
	poll(t, page, `document.title !== "evil"`)
	if title, _ := chromedp.Run(page, chromedp.Title()); title != "refused" {
		t.Errorf("a foreign page's WebSocket: %s", title)
	}
	page = w.tab(fmt.Sprintf("http://evil.test:%d/", w.agent.Port()))
	if body := text(t, page, "body"); !strings.Contains(body, "wrong Host") {
		t.Errorf("rebinding name answered %q", body)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestBrowserExpiredCertificate: a login with an expired certificate is
// refused by the portal, and the page shows the agent's diagnosis:
// CERT_EXPIRED with the date, in Russian.
func TestBrowserExpiredCertificate(t *testing.T) {
	now := time.Now()
	caKey, _ := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"}, NotBefore: now.AddDate(-3, 0, 0),
		NotAfter: now.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := certs.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := certs.ParseCertificate(caDER)
	caTmpl.SubjectKeyId = caCert.SubjectKeyId
	key, _ := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
	expiry := now.AddDate(0, 0, -3)
	leafDER, err := certs.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Просроченный Пользователь"},
		NotBefore: now.AddDate(-1, 0, 0), NotAfter: expiry, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, caTmpl, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := certs.ParseCertificate(leafDER)
	tokDir := filepath.Join(t.TempDir(), "token")
	if err := soft.Init(tokDir, []byte("123456"), "expired"); err != nil {
		t.Fatal(err)
	}
	tok, _ := soft.Open(tokDir)
	tok.Login([]byte("123456"))
	if _, err := tok.ImportKey(key, "", leaf, caCert); err != nil {
		t.Fatal(err)
	}
	tok.Close()

	w := newWorldWith(t, tokDir, []*certs.Certificate{caCert})
	page := w.tab(w.portal(w.agent.Port()))
	w.answer(true)
	do(t, page, visible("#login-section"), chromedp.Click(chromedp.CSS("#login-btn")))
	w.answer(true, "123456")
	if reason := text(t, page, "#login-error"); !strings.Contains(reason, "CERT_EXPIRED") {
		t.Errorf("login error %q", reason)
	}
	diag := text(t, page, "#diagnosis")
	if !strings.Contains(diag, "CERT_EXPIRED") || !strings.Contains(diag, "истёк "+expiry.Local().Format("02.01.2006")) {
		t.Errorf("diagnosis %q", diag)
	}
}

// TestBrowserInputProtectionAndChoice: the prompt's buttons ignore clicks
// for a moment after the window shows or comes back to the front; the
// access window lets the user give the site only some certificates, and
// the site then sees only those.
func TestBrowserInputProtectionAndChoice(t *testing.T) {
	w := newWorld(t)
	chosen := w.demo.Identities[1]
	w.beforeAnswer = func(ctx context.Context) {
		// The window comes back to the front: the buttons are dead at once
		// and for at least the protection's delay, then alive again.
		states, err := chromedp.Run(ctx, chromedp.Evaluate[[]bool](`(async () => {
			const b = document.getElementById("approve");
			const out = [];
			window.dispatchEvent(new Event("blur"));
			window.dispatchEvent(new Event("focus"));
			out.push(b.disabled);
			b.click(); // a click that lands now does nothing
			out.push(document.getElementById("status").textContent === "");
			await new Promise((r) => setTimeout(r, 300));
			out.push(b.disabled);
			await new Promise((r) => setTimeout(r, 1500));
			out.push(b.disabled);
			return out;
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, true, true, false}; fmt.Sprint(states) != fmt.Sprint(want) {
			t.Errorf("buttons disabled / click ignored / disabled at 300 ms / at 1.8 s: %v, want %v", states, want)
		}
		// Give the site one certificate only.
		do(t, ctx, chromedp.Click(chromedp.CSS(`input[value="chosen"]`)),
			chromedp.Click(chromedp.CSS(`#certList input[value="`+chosen.Thumbprint+`"]`)))
		screenshot(t, ctx, "access-window-choice")
	}
	page := w.tab(w.portal(w.agent.Port()))
	shown, status := w.answer(true)
	if !strings.Contains(shown, "Какие сертификаты сайт увидит") || !strings.Contains(status, "Доступ разрешён") {
		t.Fatalf("access window %q, ended %q", shown, status)
	}
	// The organisation's certificate names its person and the organisation, each once.
	if !strings.Contains(shown, "Петрова Мария Сергеевна, ООО «Ромашка»") || strings.Count(shown, "ООО «Ромашка»") != 1 {
		t.Errorf("the access window lists %q", shown)
	}
	w.beforeAnswer = nil
	do(t, page, visible("#login-section"))
	poll(t, page, `document.getElementById("cert-select").options.length > 0`)
	ids, err := chromedp.Run(page, chromedp.Evaluate[[]string](`[...document.getElementById("cert-select").options].map((o) => o.value)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != chosen.Thumbprint {
		t.Errorf("the site sees certificates %v, want only %s", ids, chosen.Thumbprint)
	}
	screenshot(t, page, "portal-one-certificate")
}

// TestBrowserLauncherFile: the agent's own way to reach the user — a
// launcher file in a private directory, opened as file:// — takes Chromium
// to the prompt, whose cookie is set on that navigation; the one-time code
// is gone from the address bar.
func TestBrowserLauncherFile(t *testing.T) {
	w := newWorld(t)
	dir := filepath.Join(t.TempDir(), "prompts")
	opened := filepath.Join(t.TempDir(), "opened")
	opener := filepath.Join(t.TempDir(), "opener")
	os.WriteFile(opener, []byte("#!/bin/sh\necho \"$1\" >> \""+opened+"\"\n"), 0o755)
	w.ui.Open, w.ui.Browser, w.ui.Dir = nil, []string{opener}, dir
	go func() {
		// Hand each launcher the opener recorded to the simulated user.
		seen := 0
		for {
			data, _ := os.ReadFile(opened)
			lines := strings.Fields(string(data))
			for ; seen < len(lines); seen++ {
				w.prompts <- lines[seen]
			}
			select {
			case <-w.browser.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	page := w.tab(w.portal(w.agent.Port()))
	shown, status := w.answer(true)
	if !strings.Contains(shown, "Сайт просит доступ к kep") || !strings.Contains(status, "Доступ разрешён") {
		t.Fatalf("through the launcher: %q, ended %q", shown, status)
	}
	do(t, page, visible("#login-section"))
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("prompt directory %v %v", fi, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("launcher files left behind: %v", left)
	}
}

// TestBrowserAgentImpostor: once a site was approved, kep.js pins the
// agent's key for it; a program that later answers on the agent's port —
// with its own key, or with the real agent's public key but no private
// key — is refused with AGENT_NOT_TRUSTED before the page sends anything.
func TestBrowserAgentImpostor(t *testing.T) {
	w := newWorld(t)
	port := w.agent.Port()
	page := w.tab(w.portal(port))
	w.answer(true)
	do(t, page, visible("#login-section"))
	realKey, err := chromedp.Run(page, chromedp.Evaluate[string](`localStorage.getItem("kep.agentKey.v1")`))
	if err != nil || realKey == "" {
		t.Fatalf("kep.js pinned no key: %q %v", realKey, err)
	}
	w.agent.Close()

	for _, tc := range []struct {
		name string
		key  string // the key the impostor presents; "" for its own
	}{{"own key", ""}, {"the real agent's public key", realKey}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startImpostor(t, port, tc.key)
			defer srv.Close()
			do(t, page, chromedp.Reload())
			poll(t, page, `!document.getElementById("agent-error").hidden`)
			if reason := attr(t, page, "#agent-error", "data-reason"); reason != "AGENT_NOT_TRUSTED" {
				t.Errorf("page error %q (%s)", text(t, page, "#agent-error"), reason)
			}
			if !strings.Contains(text(t, page, "#agent-error"), "другая программа") {
				t.Errorf("the page does not say another program answers: %q", text(t, page, "#agent-error"))
			}
		})
	}
}

// startImpostor answers on the agent's port as kep would: the discovery
// document, agent.info approving everything with key (or a key of its own),
// agent.prove signing with its own key.
func startImpostor(t *testing.T, port int, key string) *http.Server {
	t.Helper()
	own, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	spki, _ := x509.MarshalPKIXPublicKey(&own.PublicKey)
	if key == "" {
		key = base64.StdEncoding.EncodeToString(spki)
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		rw.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(rw, `{"name":"kep","version":"1","protocol":1,"ws":"ws://127.0.0.1:%d/ws"}`, port)
	})
	mux.HandleFunc("/ws", func(rw http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		ws, err := up.Upgrade(rw, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			var req struct {
				ID     int             `json:"id"`
				Method string          `json:"method"`
				Params json.RawMessage `json:"params"`
			}
			if ws.ReadJSON(&req) != nil {
				return
			}
			var result any = map[string]any{}
			switch req.Method {
			case "agent.info":
				result = map[string]any{"name": "kep", "version": "1", "protocol": 1, "origin": origin, "approved": true,
					"methods": []string{}, "capabilities": []string{}, "maxMessage": 8 << 20, "agentKey": key}
			case "agent.prove":
				h := sha256.Sum256([]byte("kep-agent-proof-v1\n" + origin + "\n"))
				r, s, _ := ecdsa.Sign(rand.Reader, own, h[:])
				sig := make([]byte, 64)
				r.FillBytes(sig[:32])
				s.FillBytes(sig[32:])
				result = map[string]any{"origin": origin, "signature": sig}
			case "certs.list":
				result = map[string]any{"certificates": []any{}}
			}
			ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": req.ID, "result": result})
		}
	})
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	return srv
}

// displayed reports whether the element takes space on the page (the
// hidden attribute must win over the page's CSS).
func displayed(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const e = document.querySelector(`+"`"+sel+"`"+`); return !!e && getComputedStyle(e).display !== "none" && e.getClientRects().length > 0; })()`))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestBrowserWhatAPersonSees: hidden parts of the portal and of the
// agent's window are not displayed; the portal says it waits for kep's
// window while one is open; a wrong PIN says how many tries are left; a
// refusal names the wait before the site may ask again.
func TestBrowserWhatAPersonSees(t *testing.T) {
	w := newWorld(t)
	url := w.portal(w.agent.Port())
	w.beforeAnswer = func(ctx context.Context) {
		// The access window: no certificate details, no PIN box.
		for _, sel := range []string{"#details", "#pinRow"} {
			if displayed(t, ctx, sel) {
				t.Errorf("the access window displays %s", sel)
			}
		}
	}
	page := w.tab(url)
	poll(t, page, `!document.getElementById("waiting").hidden`)
	if !displayed(t, page, "#waiting") || !strings.Contains(text(t, page, "#waiting"), "Подтвердите действие в окне kep") {
		t.Error("the portal does not say it waits for kep's window")
	}
	if displayed(t, page, "#identity") {
		t.Error("the portal displays identity rows before any login")
	}
	w.answer(false)
	poll(t, page, `!document.getElementById("agent-error").hidden`)
	if displayed(t, page, "#waiting") {
		t.Error("the waiting note stays after the window was answered")
	}
	msg := text(t, page, "#agent-error")
	if !strings.Contains(msg, "CONSENT_DENIED") {
		t.Fatalf("refusal: %q", msg)
	}
	// Reloading within the minute: told when it may ask again.
	do(t, page, chromedp.Reload())
	poll(t, page, `!document.getElementById("agent-error").hidden`)
	if msg := text(t, page, "#agent-error"); !strings.Contains(msg, "сможет снова спросить разрешения после") {
		t.Errorf("after a reload within the cool-down: %q", msg)
	}
	// The portal's own page does not get wider than the window.
	width, err := chromedp.Run(page, chromedp.Evaluate[float64](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
	if err != nil || width > 0 {
		t.Errorf("the page overflows its width by %v px (%v)", width, err)
	}
}

// screenshot saves a PNG of the tab as a test artefact: in
// $KEP_TEST_ARTEFACTS when set (CI keeps them), else the test's temp dir.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv("KEP_TEST_ARTEFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	os.MkdirAll(dir, 0o755)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
	return path
}

// TestBrowserLongNames: a certificate with a very long unbroken name does
// not make the portal's verification result wider than the window.
func TestBrowserLongNames(t *testing.T) {
	now := time.Now()
	key, _ := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
	long := "ООО«" + strings.Repeat("Очень", 60) + "ДлинноеНазвание»"
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: long, Organization: []string{long}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		IsCA: true, BasicConstraintsValid: true}
	der, err := certs.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := certs.ParseCertificate(der)
	doc := []byte("документ с длинным именем подписанта")
	sig, err := sign.Sign(context.Background(), bytes.NewReader(doc), key, cert, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorldWith(t, filepath.Join(t.TempDir(), "no-token"), []*certs.Certificate{cert})
	page := w.tab(w.portal(w.agent.Port()))
	dir := t.TempDir()
	sigFile, docFile := filepath.Join(dir, "long.sig"), filepath.Join(dir, "long.txt")
	os.WriteFile(sigFile, sig, 0o644)
	os.WriteFile(docFile, doc, 0o644)
	do(t, page, chromedp.SetUploadFiles(chromedp.CSS("#verify-sig"), []string{sigFile}),
		chromedp.SetUploadFiles(chromedp.CSS("#verify-doc"), []string{docFile}),
		chromedp.Click(chromedp.CSS("#verify-btn")), visible("#verify-result"))
	if !strings.Contains(text(t, page, "#verify-summary"), "ОченьОчень") {
		t.Fatal("the long name is not in the result")
	}
	width, err := chromedp.Run(page, chromedp.Evaluate[float64](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
	if err != nil || width > 0 {
		t.Errorf("a long name widens the page by %v px (%v)", width, err)
	}
	screenshot(t, page, "portal-long-name")
}
