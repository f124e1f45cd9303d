package extension_test

// The extension's road for real: Debian's Chromium (new headless) with the
// unpacked extension, the native host registered by kep install in the
// test's own profile, kep native-host (the real binary) started by Chromium,
// relaying to an agent over its relay socket, and the software token. Pages
// come from https://kep.test and https://other.test (host-resolver rules to
// 127.0.0.1, a test certificate the browser is told to accept by its key).

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kepkit/kep/agent"
	"github.com/kepkit/kep/agent/cades"
	"github.com/kepkit/kep/extension"
	"github.com/kepkit/kep/install"
	"github.com/kepkit/kep/internal/demopki"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/pkcs11/keystore"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

func chromium(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed (run `make deps`)")
	return ""
}

// testCert is a certificate for the test's host names, and the base64
// SHA-256 of its key for --ignore-certificate-errors-spki-list.
func testCert(t *testing.T, names ...string) (tls.Certificate, string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(spki)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, base64.StdEncoding.EncodeToString(sum[:])
}

const testPage = `<!doctype html><html><head><meta charset="utf-8"><title>kep test</title>
<script type="module">import * as kep from "/kep.js"; window.kep = kep; window.kepReady = true;</script></head><body>kep</body></html>`

// cadesPage loads neither kep.js nor cadesplugin.js: the extension's
// cadesplugin switch puts window.cadesplugin in it.
const cadesPage = `<!doctype html><html><head><meta charset="utf-8"><title>kep cades test</title>
<script>window.kepReady = true;</script></head><body>cades</body></html>`

type road struct {
	t       *testing.T
	agent   *agent.Agent
	demo    *demopki.Manifest
	browser context.Context
	prompts chan string
	port    int    // the pages' https port
	home    string // the test user's home
	kep     string // the kep binary
	hsmCert []byte // the SoftHSM token's certificate (PEM, self-signed)
}

const (
	softhsmModule = "/usr/lib/softhsm/libsofthsm2.so"
	hsmPIN        = "1234"
)

// softHSM makes a SoftHSM2 token "hsm" holding an ECDSA P-256 key and its
// self-signed certificate (CKA_ID 01), made by openssl and imported with
// softhsm2-util and OpenSC's pkcs11-tool, and returns the certificate.
func softHSM(t *testing.T, dir string) []byte {
	t.Helper()
	if _, err := os.Stat(softhsmModule); err != nil {
		t.Fatalf("SoftHSM2: %v (run `make deps`)", err)
	}
	hsm := filepath.Join(dir, "softhsm")
	os.MkdirAll(filepath.Join(hsm, "tokens"), 0o700)
	conf := filepath.Join(hsm, "softhsm2.conf")
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(hsm, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
	// Not t.Setenv: the test runs in parallel with the lint, which does not
	// read it. SoftHSM reads it when the agent's keystore loads the module.
	old, had := os.LookupEnv("SOFTHSM2_CONF")
	os.Setenv("SOFTHSM2_CONF", conf)
	t.Cleanup(func() {
		if had {
			os.Setenv("SOFTHSM2_CONF", old)
		} else {
			os.Unsetenv("SOFTHSM2_CONF")
		}
	})
	run := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Dir = hsm
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("softhsm2-util", "--init-token", "--free", "--label", "hsm", "--so-pin", "12345678", "--pin", hsmPIN)
	run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "k.pem", "-out", "c.pem", "-subj", "/CN=SoftHSM signer", "-days", "1")
	run("openssl", "pkcs8", "-topk8", "-nocrypt", "-in", "k.pem", "-out", "k8.pem")
	run("openssl", "x509", "-in", "c.pem", "-outform", "DER", "-out", "c.der")
	run("softhsm2-util", "--import", "k8.pem", "--token", "hsm", "--label", "signer", "--id", "01", "--pin", hsmPIN)
	run("pkcs11-tool", "--module", softhsmModule, "--token-label", "hsm", "--login", "--pin", hsmPIN, "--write-object", "c.der", "--type", "cert", "--id", "01", "--label", "signer")
	return mustRead(t, filepath.Join(hsm, "c.pem"))
}

func newRoad(t *testing.T) *road {
	r := &road{t: t, prompts: make(chan string, 8)}
	dir := t.TempDir()
	t0 := time.Now()
	defer func() { t.Logf("set up in %v", time.Since(t0).Round(time.Millisecond)) }()
	// The real kep binary: Chromium starts it through the launcher.
	// KEP_TEST_BINARY names one already built (make build's bin/kep).
	// It is built while the rest is set up; newRoad waits for it at the end.
	kep := os.Getenv("KEP_TEST_BINARY")
	built := make(chan error, 1)
	if kep == "" {
		kep = filepath.Join(dir, "kep")
		go func() {
			build := exec.Command("go", "build", "-o", kep, "./cmd/kep")
			build.Dir = repoRoot()
			out, err := build.CombinedOutput()
			if err != nil {
				err = fmt.Errorf("go build: %v\n%s", err, out)
			}
			built <- err
		}()
	} else {
		built <- nil
	}
	defer func() {
		if err := <-built; err != nil {
			t.Fatal(err)
		}
	}()
	demo, err := demopki.Create(filepath.Join(dir, "demo"), demopki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.demo = demo
	r.hsmCert = softHSM(t, dir)
	keys, err := keystore.Open(context.Background(), keystore.Config{SoftDir: demo.Path(demo.Token), Modules: []string{softhsmModule}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })
	ui := &agent.PageUI{Open: func(url string) error { r.prompts <- url; return nil }, Timeout: 60 * time.Second}
	r.agent, err = agent.New(agent.Config{Keys: keys, UI: ui, EphemeralPort: true, SoftToken: true,
		Sites:  agent.OpenSites(filepath.Join(dir, "sites.json")),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := r.agent.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "run", "agent.sock")
	if err := r.agent.ListenRelay(sock); err != nil {
		t.Fatal(err)
	}

	// kep install, in the test's home: Chromium's profile is
	// ~/.config/chromium, where the host manifest goes.
	home := filepath.Join(dir, "home")
	r.home, r.kep = home, kep
	profile := filepath.Join(home, ".config", "chromium")
	os.MkdirAll(profile, 0o700)
	changes, err := install.Install(context.Background(), install.Env{Home: home, Exe: kep, Only: "native-host"})
	if err != nil {
		t.Fatal(err)
	}
	registered := false
	for _, c := range changes {
		registered = registered || (c.Step == "native-host chromium" && c.Action == install.Created)
	}
	if !registered {
		t.Fatalf("kep install did not register Chromium: %+v", changes)
	}

	// The unpacked extension, as packaged (the Chromium manifest, and the
	// extras extension/pack adds: cadesplugin.js and the kep.js it imports).
	ext := filepath.Join(dir, "extension")
	if err := os.CopyFS(ext, extension.Files()); err != nil {
		t.Fatal(err)
	}
	kepJS := mustRead(t, filepath.Join(repoRoot(), "agent", "client", "kep.js"))
	for name, data := range map[string][]byte{"kep.js": kepJS, "cadesplugin.js": mustRead(t, filepath.Join(repoRoot(), "agent", "client", "cadesplugin.js"))} {
		if err := os.WriteFile(filepath.Join(ext, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The pages.
	cert, spki := testCert(t, "kep.test", "other.test")
	mux := http.NewServeMux()
	mux.HandleFunc("/cades", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(cadesPage)) })
	mux.HandleFunc("/kep.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(kepJS)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(testPage)) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.port = l.Addr().(*net.TCPAddr).Port
	srv := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go srv.ServeTLS(l, "", "")
	t.Cleanup(func() { srv.Close() })

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		// Chrome 137+ ignores --load-extension unless this feature is off.
		chromedp.Flag("disable-features", "DisableLoadExtensionCommandLineSwitch"),
		chromedp.Flag("load-extension", ext),
		chromedp.Flag("host-resolver-rules", "MAP kep.test 127.0.0.1, MAP other.test 127.0.0.1"),
		chromedp.Flag("ignore-certificate-errors-spki-list", spki),
		chromedp.UserDataDir(profile),
		chromedp.Env(agent.EnvRelaySocket+"="+sock, "KEP_NATIVE_HOST_NO_START=1"),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	r.browser = browser
	return r
}

func (r *road) tab(url string) context.Context {
	r.t.Helper()
	ctx, cancel := chromedp.NewContext(r.browser)
	r.t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	r.t.Cleanup(cancelT)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		r.t.Fatalf("open %s: %v", url, err)
	}
	poll(r.t, ctx, `window.kepReady === true`)
	return ctx
}

// cadesOn turns the popup's cadesplugin switch on for origin in the
// background: what its message {kep: "cades", origin, on: true} does
// (background.js's listener takes it only from an extension page outside a
// tab, which a test cannot open), evaluated in the service worker.
func (r *road) cadesOn(origin string) {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		targets, err := chromedp.Targets(r.browser)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, ti := range targets {
			if ti.Type != "service_worker" || !strings.HasPrefix(ti.URL, extension.ChromeOrigin) {
				continue
			}
			ctx, cancel := chromedp.NewContext(r.browser, chromedp.WithTargetID(ti.TargetID), chromedp.WithDetachOnCancel())
			defer cancel()
			ids, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`(async () => {
				await chrome.storage.local.set({cadesOrigins: [%q]}); await applyCades();
				return (await chrome.scripting.getRegisteredContentScripts()).map((s) => s.id + " " + s.matches.join(" "));
			})()`, origin), chromedp.EvalAwaitPromise))
			if err != nil || len(ids) != 1 || ids[0] != "kep-cadesplugin "+origin+"/*" {
				r.t.Fatalf("the cadesplugin switch: %v %v", ids, err)
			}
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("no service worker of the extension among %d targets", len(targets))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *road) page(host string) string { return fmt.Sprintf("https://%s:%d", host, r.port) }

// poll waits until expr is true in the page's own world (chromedp.Poll
// runs in another one, which does not see the page's globals).
func poll(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", expr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// eval runs an async JavaScript body in the page and returns its result.
func eval[T any](t *testing.T, ctx context.Context, body string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](`(async () => {`+body+`})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return v
}

// start runs body in the page without waiting (it waits for a window).
func start(t *testing.T, ctx context.Context, body string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.result = undefined; (async () => {`+body+`})().then((v) => { window.result = {ok: v}; }, (e) => { window.result = {err: String(e.reason || e)}; }); undefined`)); err != nil {
		t.Fatal(err)
	}
}

func result[T any](t *testing.T, ctx context.Context) T {
	t.Helper()
	poll(t, ctx, `window.result !== undefined`)
	return eval[T](t, ctx, `if (window.result.err) throw new Error(window.result.err); return window.result.ok;`)
}

// answer plays the user in the agent's next window.
func (r *road) answer(approve bool, pin string) string {
	r.t.Helper()
	var url string
	select {
	case url = <-r.prompts:
	case <-time.After(60 * time.Second):
		r.t.Fatal("the agent opened no window")
	}
	ctx, cancel := chromedp.NewContext(r.browser)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#approve"))); err != nil {
		r.t.Fatal(err)
	}
	poll(r.t, ctx, `document.getElementById("title").textContent !== "Загрузка…"`)
	shown, _ := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS("main")))
	poll(r.t, ctx, `!document.getElementById("approve").disabled`)
	btn := "#deny"
	if approve {
		btn = "#approve"
		if pin != "" {
			if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#pin"), pin)); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(btn))); err != nil {
		r.t.Fatal(err)
	}
	poll(r.t, ctx, `(() => { const s = document.getElementById("status").textContent; return s !== "" && s !== "Выполняется…"; })()`)
	return shown
}

// doc is the 20 MiB document, made alike in Go and in the page.
const docSize = 20 << 20

func document() []byte {
	b := make([]byte, docSize)
	for i := range b {
		b[i] = byte(i*7 + i>>12)
	}
	return b
}

const docJS = `const doc = new Uint8Array(20 << 20); for (let i = 0; i < doc.length; i++) doc[i] = (i * 7 + (i >> 12)) & 255;`

func TestExtensionRoad(t *testing.T) {
	t.Parallel() // beside the web-ext lint
	r := newRoad(t)
	kepOrigin, otherOrigin := r.page("kep.test"), r.page("other.test")
	port := r.agent.Port()

	// The agent's real port is given: a kep.js that took the WebSocket road
	// would reach it, and the agent would count it.
	page := r.tab(kepOrigin + "/")
	info := eval[map[string]any](t, page, fmt.Sprintf(`window.k = await kep.connect({port: %d}); return {road: k.road, origin: k.agent.origin, approved: k.agent.approved, installed: kep.extensionInstalled()};`, port))
	if info["road"] != "extension" || info["origin"] != kepOrigin || info["approved"] != false || info["installed"] != true {
		t.Fatalf("connect: %v", info)
	}
	start(t, page, `await k.requestAccess(); return k.agent.approved;`)
	shown := r.answer(true, "")
	if !strings.Contains(shown, "kep.test") {
		t.Errorf("the access window showed %q", shown)
	}
	if !result[bool](t, page) {
		t.Fatal("not approved after the window")
	}
	certs := eval[[]map[string]any](t, page, `return (await k.certificates()).map((c) => ({id: c.id, alg: c.keyAlgorithm, canSign: c.canSign, source: c.token.source, label: c.token.label}));`)
	var certID, hsmID string
	for _, c := range certs {
		switch {
		case c["source"] == "soft" && strings.Contains(fmt.Sprint(c["alg"]), "256") && c["canSign"] == true && certID == "":
			certID = c["id"].(string)
		case c["source"] == "pkcs11" && c["label"] == "hsm":
			hsmID = c["id"].(string)
		}
	}
	if len(certs) < 3 || certID == "" || hsmID == "" {
		t.Fatalf("certificates: %v", certs)
	}

	// 20 MiB through extension → native host → agent → software token.
	began := time.Now()
	start(t, page, docJS+fmt.Sprintf(`const parts = []; const t0 = performance.now(); const res = await k.sign({certId: %q, data: new Blob([doc]), description: "big.bin", onProgress: (s) => parts.push(performance.now() - t0)}); return {cms: res.cmsBase64, parts: parts.length, upload: parts[parts.length - 1], total: performance.now() - t0};`, certID))
	r.answer(true, demopki.PIN)
	res := result[map[string]any](t, page)
	signTime := time.Since(began)
	if n := res["parts"].(float64); n < 5 {
		t.Errorf("the document went in %v chunks", n)
	}
	cms, err := base64.StdEncoding.DecodeString(res["cms"].(string))
	if err != nil {
		t.Fatal(err)
	}
	o := ossltest.New(t)
	docFile := o.WriteFile(t, "big.bin", document())
	sigFile := o.WriteFile(t, "big.bin.sig", cms)
	caFile := o.WriteFile(t, "ca.pem", mustRead(t, r.demo.Path(r.demo.CA)))
	if out, err := o.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", docFile,
		"-CAfile", caFile, "-purpose", "any", "-out", os.DevNull); err != nil {
		t.Fatalf("openssl cms -verify: %v %s", err, out)
	}
	t.Logf("20 MiB over the extension road: uploaded (read, base64, relayed, hashed) in %.0f ms, signed in %.0f ms in all with the person's clicks in the window (%v seen by the test)",
		res["upload"], res["total"], signTime.Round(time.Millisecond))

	// The same through SoftHSM (PKCS#11): the PIN typed in kep's window.
	start(t, page, docJS+fmt.Sprintf(`const t0 = performance.now(); const res = await k.sign({certId: %q, data: new Blob([doc]), description: "big.bin"}); return {cms: res.cmsBase64, total: performance.now() - t0};`, hsmID))
	r.answer(true, hsmPIN)
	res = result[map[string]any](t, page)
	if cms, err = base64.StdEncoding.DecodeString(res["cms"].(string)); err != nil {
		t.Fatal(err)
	}
	sigFile = o.WriteFile(t, "big.bin.hsm.sig", cms)
	hsmCA := o.WriteFile(t, "hsm.pem", r.hsmCert)
	if out, err := o.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", docFile,
		"-CAfile", hsmCA, "-purpose", "any", "-out", os.DevNull); err != nil {
		t.Fatalf("openssl cms -verify (SoftHSM): %v %s", err, out)
	}
	t.Logf("20 MiB over the extension road with the SoftHSM key: %.0f ms with the window", res["total"])

	// A second origin is refused until the user approves it, and cannot
	// pass itself off as the first: neither a forged opening message on its
	// own port nor anything in a request changes what the agent sees.
	other := r.tab(otherOrigin + "/")
	forged := eval[map[string]any](t, other, fmt.Sprintf(`
		const port = window.kepExtension.open();
		const got = [];
		port.onmessage = (ev) => got.push(ev.data);
		port.postMessage({kep: "open", v: 1, origin: %q});
		port.postMessage({jsonrpc: "2.0", id: 1, method: "agent.info", params: {}, kep: "open", origin: %q});
		port.postMessage({jsonrpc: "2.0", id: 2, method: "agent.info", params: {origin: %q}});
		port.postMessage({jsonrpc: "2.0", id: 3, method: "certs.list"});
		for (let i = 0; i < 100 && got.filter((m) => m.id).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
		port.postMessage({kep: "close"});
		const byId = Object.fromEntries(got.filter((m) => m.id).map((m) => [m.id, m]));
		return {ready: got[0], info: byId[2] && byId[2].error ? byId[2].error.data.reason : byId[2] && byId[2].result.origin, certs: byId[3] && byId[3].error && byId[3].error.data.reason, one: !!byId[1]};`,
		kepOrigin, kepOrigin, kepOrigin))
	ready, _ := forged["ready"].(map[string]any)
	if ready["kep"] != "ready" || ready["origin"] != otherOrigin || forged["certs"] != agent.ReasonOriginNotApproved || forged["one"] != false {
		t.Fatalf("forged origin: %v", forged)
	}
	if forged["info"] != agent.ReasonInvalidParams && forged["info"] != otherOrigin {
		t.Fatalf("agent.info with an origin param: %v", forged)
	}
	refused := eval[string](t, other, fmt.Sprintf(`window.k = await kep.connect({port: %d}); try { await k.certificates(); return "listed"; } catch (e) { return e.reason + " " + k.road + " " + k.agent.origin; }`, port))
	if refused != agent.ReasonOriginNotApproved+" extension "+otherOrigin {
		t.Fatalf("unapproved other origin: %s", refused)
	}
	start(t, other, `await k.requestAccess(); return (await k.certificates()).length;`)
	r.answer(true, "")
	if n := result[float64](t, other); int(n) != len(certs) {
		t.Fatalf("other origin after approval: %v certificates", n)
	}

	// The diagnosis names the road.
	diag := eval[map[string]any](t, other, `const d = await k.diagnose(); return d.transport;`)
	if diag["road"] != "extension" {
		t.Errorf("diagnose transport: %v", diag)
	}

	// The cadesplugin switch on for kep.test: a page written for CryptoPro's
	// plug-in gets window.cadesplugin from the extension, and its kep.js
	// too, over the extension's road (never the agent's port: the WebSocket
	// count below stays 0). kep.test is approved already: no window.
	cadesStart := time.Now()
	r.cadesOn(kepOrigin)
	cadesTab := r.tab(kepOrigin + "/cades")
	cp := eval[map[string]any](t, cadesTab, `await cadesplugin;
		const about = await cadesplugin.CreateObjectAsync("CAdESCOM.About");
		const v = await about.PluginVersion;
		const store = await cadesplugin.CreateObjectAsync("CAdESCOM.Store");
		await store.Open();
		return {version: await about.Version, major: await v.MajorVersion, certs: await (await store.Certificates).Count, client: await kepExtension.client(),
			static: await import("`+extension.ChromeOrigin+`kep.js").then(() => "loaded", () => "refused")};`)
	if want := fmt.Sprintf("%d.%d.%d", cades.PluginVersion[0], cades.PluginVersion[1], cades.PluginVersion[2]); cp["version"] != want || cp["major"] != float64(cades.PluginVersion[0]) || cp["certs"] != float64(len(certs)) {
		t.Fatalf("cadesplugin through the extension: %v (want version %s and %d certificates)", cp, want, len(certs))
	}
	// kep.js is web-accessible only by its dynamic URL (use_dynamic_url),
	// not by the extension's fixed ID.
	if u, _ := cp["client"].(string); !strings.HasPrefix(u, "chrome-extension://") || !strings.HasSuffix(u, "/kep.js") || strings.HasPrefix(u, extension.ChromeOrigin) || cp["static"] != "refused" {
		t.Errorf("kep.js from the extension at %q, by the fixed ID %v", cp["client"], cp["static"])
	}
	t.Logf("cadesplugin through the extension's switch: About and Store answered in %v", time.Since(cadesStart).Round(time.Millisecond))
	if ws, relay := r.agent.Served(); ws != 0 || relay != 4 {
		t.Fatalf("the agent served %d WebSocket and %d relayed connections: the WebSocket must not be opened on this road", ws, relay)
	}

	// Latency: agent.info round trips over each road, from one page. A
	// loopback page may use both (no Local Network Access there).
	const n = 100
	lat := eval[map[string]float64](t, page, fmt.Sprintf(`
		const time = async (k) => { const d = []; for (let i = 0; i < %d; i++) { const t0 = performance.now(); await k.info(); d.push(performance.now() - t0); } d.sort((a, b) => a - b); return d[d.length >> 1]; };
		const ws = await kep.connect({port: %d, road: "websocket"}).catch((e) => null);
		const out = {extension: await time(k)};
		if (ws) { out.websocket = await time(ws); }
		if (!%t) { if (ws) ws.close(); return out; }
		// A 4 MiB upload.chunk (base64 made beforehand), 3 times.
		const chunk = new Uint8Array(4 << 20).fill(7);
		let bin = ""; for (let i = 0; i < chunk.length; i += 0x8000) bin += String.fromCharCode.apply(null, chunk.subarray(i, i + 0x8000));
		const b64 = btoa(bin);
		const up = async (k) => { const u = await k.call("upload.begin", {certId: %q}); const t0 = performance.now();
			for (let i = 0; i < 3; i++) await k.call("upload.chunk", {uploadId: u.uploadId, data: b64});
			const d = performance.now() - t0; await k.call("upload.cancel", {uploadId: u.uploadId}); return d; };
		out.uploadExtension = await up(k);
		if (ws) { out.uploadWebsocket = await up(ws); ws.close(); }
		return out;`, n, port, os.Getenv("KEP_TEST_ROAD_BENCH") == "1", certID))
	t.Logf("agent.info median round trip over %d calls: extension %.2f ms, websocket %.2f ms", n, lat["extension"], lat["websocket"])
	if _, ok := lat["uploadExtension"]; ok {
		t.Logf("12 MiB as 3 upload.chunk calls: extension %.0f ms, websocket %.0f ms", lat["uploadExtension"], lat["uploadWebsocket"])
	} else {
		t.Logf("upload throughput per road not measured (KEP_TEST_ROAD_BENCH=1 measures it)")
	}
	if _, ok := lat["websocket"]; !ok {
		t.Logf("the WebSocket road from https://kep.test was refused by the browser (Local Network Access): only the extension road measured here")
	}

	// Without the host's registration (kep uninstall), kep.js says so and
	// takes the WebSocket.
	wsBefore, _ := r.agent.Served()
	if _, err := install.Uninstall(context.Background(), install.Env{Home: r.home, Exe: r.kep, Only: "native-host"}); err != nil {
		t.Fatal(err)
	}
	fallback := eval[map[string]any](t, other, fmt.Sprintf(`const k2 = await kep.connect({port: %d}); const out = {road: k2.road, ext: k2.roads.extension.reason}; k2.close(); return out;`, port))
	if fallback["road"] != "websocket" || fallback["ext"] != "HOST_NOT_REGISTERED" {
		t.Fatalf("without the host: %v", fallback)
	}
	if ws, _ := r.agent.Served(); ws != wsBefore+1 {
		t.Errorf("the fallback did not reach the agent over the WebSocket (%d → %d)", wsBefore, ws)
	}
	only := eval[map[string]any](t, other, fmt.Sprintf(`try { await kep.connect({port: %d, road: "extension"}); return {}; } catch (e) { return {reason: e.reason, roads: e.roads}; }`, port))
	if only["reason"] != "HOST_NOT_REGISTERED" {
		t.Errorf("road extension without the host: %v", only)
	}
}

func mustRead(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
