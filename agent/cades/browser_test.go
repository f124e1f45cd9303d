package cades_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/chromedp/chromedp"

	"github.com/kepkit/kep/agent"
	"github.com/kepkit/kep/agent/cades"
	"github.com/kepkit/kep/agent/portal"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/demopki"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/verify"
)

// The proof: real cadesplugin clients that no one here wrote (npm
// crypto-pro 2.5.2, crypto-pro-cadesplugin 1.1.2, crypto-pro-js 2.3.3),
// unmodified, in headless Chromium against the real agent over the demo
// software token, with agent/client/cadesplugin.js loaded before them.
// Every signature they make passes openssl cms -verify (gost engine) and
// kep's verifier.

// user plays the person at the agent's window: it approves every
// signature with the demo PIN and records what the window showed.
type user struct {
	mu  sync.Mutex
	ops []agent.Operation
}

func (u *user) Access(context.Context, agent.AccessRequest) (agent.Grant, error) {
	return agent.Grant{All: true}, nil
}

func (u *user) Confirm(_ context.Context, op agent.Operation) (agent.Confirmation, error) {
	u.mu.Lock()
	u.ops = append(u.ops, op)
	u.mu.Unlock()
	return confirmation{}, nil
}

func (u *user) seen() []agent.Operation {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]agent.Operation(nil), u.ops...)
}

type confirmation struct{}

func (confirmation) PIN(_ context.Context, req keystore.PINRequest) ([]byte, error) {
	if req.Retry != nil {
		return nil, req.Retry
	}
	return []byte(demopki.PIN), nil
}
func (confirmation) Done(error) {}

type world struct {
	t       *testing.T
	demo    *demopki.Manifest
	roots   []*certs.Certificate
	agent   *agent.Agent
	user    *user
	pages   string // the test pages' origin
	portal  string // the demo portal's origin
	browser context.Context
	npm     string
	ossl    *ossltest.OpenSSL
}

func chromiumPath(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed (run `make deps`)")
	return ""
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, user: &user{}, npm: npmInstall(t), ossl: ossltest.New(t)}
	demo, err := demopki.Create(filepath.Join(t.TempDir(), "demo"), demopki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.demo = demo
	caPEM, err := os.ReadFile(demo.Path(demo.CA))
	if err != nil {
		t.Fatal(err)
	}
	if w.roots, err = certs.ParseCertificates(caPEM); err != nil {
		t.Fatal(err)
	}
	keys, err := keystore.Open(context.Background(), keystore.Config{SoftDir: demo.Path(demo.Token)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { keys.Close() })

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.pages = fmt.Sprintf("http://localhost:%d", l.Addr().(*net.TCPAddr).Port)
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w.portal = fmt.Sprintf("http://localhost:%d", pl.Addr().(*net.TCPAddr).Port)
	w.agent, err = agent.New(agent.Config{Keys: keys, UI: w.user, EphemeralPort: true, Roots: w.roots, SoftToken: true,
		AllowOrigins: []string{w.pages, w.portal},
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := w.agent.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: w.pageHandler()}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	p, err := portal.New(portal.Config{Origins: []string{w.portal}, Roots: w.roots, AgentPort: w.agent.Port()})
	if err != nil {
		t.Fatal(err)
	}
	psrv := &http.Server{Handler: p}
	go psrv.Serve(pl)
	t.Cleanup(func() { psrv.Close() })

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.Flag("headless", "new"),
		chromedp.UserDataDir(t.TempDir()))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	w.browser = browser
	return w
}

// bundle builds crypto-pro-cadesplugin (CommonJS) for the browser with
// esbuild, as a site would, exposing its default export as window.cpc.
func (w *world) bundle() []byte {
	w.t.Helper()
	dir := w.t.TempDir()
	entry := filepath.Join(dir, "entry.js")
	if err := os.WriteFile(entry, []byte(`window.cpc = require("crypto-pro-cadesplugin").default;`+"\n"), 0o600); err != nil {
		w.t.Fatal(err)
	}
	out := filepath.Join(dir, "cpc.js")
	cmd := exec.Command(filepath.Join(w.npm, "node_modules", ".bin", "esbuild"), entry, "--bundle", "--format=iife", "--outfile="+out)
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(w.npm, "node_modules"))
	cmd.Dir = w.npm
	if b, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("esbuild: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		w.t.Fatal(err)
	}
	return data
}

// pageHandler serves a page per client: the agent's cadesplugin.js first,
// then the library as its README says to load it.
func (w *world) pageHandler() http.Handler {
	libs := map[string]string{
		"/crypto-pro.js":    filepath.Join(w.npm, "node_modules/crypto-pro/dist/crypto-pro.js"),
		"/crypto-pro-js.js": filepath.Join(w.npm, "node_modules/crypto-pro-js/dist/crypto-pro-js.js"),
	}
	var cpcOnce sync.Once
	var cpc []byte
	mux := http.NewServeMux()
	mux.HandleFunc("/lib/", func(rw http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/lib")
		var data []byte
		if name == "/cpc.js" {
			cpcOnce.Do(func() { cpc = w.bundle() })
			data = cpc
		} else if p, ok := libs[name]; ok {
			var err error
			if data, err = os.ReadFile(p); err != nil {
				http.Error(rw, err.Error(), 500)
				return
			}
		} else {
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		rw.Write(data)
	})
	mux.HandleFunc("/page", func(rw http.ResponseWriter, r *http.Request) {
		lib := r.URL.Query().Get("lib")
		shim := fmt.Sprintf("http://127.0.0.1:%d/cadesplugin.js", w.agent.Port())
		fmt.Fprintf(rw, `<!doctype html><meta charset="utf-8"><title>%s</title>
<script src="%s"></script>
<script src="/lib/%s"></script>
<body>%s</body>`, lib, shim, lib, lib)
	})
	return mux
}

// run opens the page of lib and evaluates the async JavaScript expression
// body, returning its JSON result decoded into out.
func (w *world) run(lib, body string, out any) {
	w.t.Helper()
	ctx, cancel := chromedp.NewContext(w.browser)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()
	if err := chromedp.Do(ctx, chromedp.Navigate(w.pages+"/page?lib="+lib)); err != nil {
		w.t.Fatalf("open page: %v", err)
	}
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		try { return JSON.stringify({ ok: await (async () => { `+body+` })() }); }
		catch (e) { return JSON.stringify({ error: String(e && e.message || e) }); }
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		w.t.Fatalf("%s: %v", lib, err)
	}
	var env struct {
		OK    json.RawMessage `json:"ok"`
		Error *string         `json:"error"`
	}
	if err := json.Unmarshal([]byte(res), &env); err != nil {
		w.t.Fatalf("%s: %v: %s", lib, err, res)
	}
	if env.Error != nil {
		w.t.Fatalf("%s threw: %s", lib, *env.Error)
	}
	if err := json.Unmarshal(env.OK, out); err != nil {
		w.t.Fatalf("%s: %v: %s", lib, err, env.OK)
	}
}

// identity returns the demo certificate of role and its entry.
func (w *world) cert(role string) *certs.Certificate {
	w.t.Helper()
	keys, err := keystore.Open(context.Background(), keystore.Config{SoftDir: w.demo.Path(w.demo.Token)})
	if err != nil {
		w.t.Fatal(err)
	}
	defer keys.Close()
	list, err := keys.Certificates(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	for _, id := range w.demo.Identities {
		if id.Role != role {
			continue
		}
		for _, e := range list {
			if e.ID == id.Thumbprint {
				return e.Certificate
			}
		}
	}
	w.t.Fatalf("no demo certificate %q", role)
	return nil
}

// checkSignature verifies a base64 CMS with openssl cms -verify (gost
// engine) and kep's verifier; content is the detached document, or what
// an attached signature must hold.
func (w *world) checkSignature(name, b64 string, content []byte, detached bool) {
	w.t.Helper()
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		w.t.Fatalf("%s: not base64: %v", name, err)
	}
	sig := w.ossl.WriteFile(w.t, name+".p7s", der)
	doc := w.ossl.WriteFile(w.t, name+".doc", content)
	args := []string{"cms", "-verify", "-inform", "DER", "-in", sig, "-CAfile", w.demo.Path(w.demo.CA), "-purpose", "any"}
	if detached {
		args = append(args, "-binary", "-content", doc)
	}
	out, err := w.ossl.Run(nil, args...)
	if err != nil {
		w.t.Fatalf("%s: openssl cms -verify: %v", name, err)
	}
	if !bytes.Equal(out, content) {
		w.t.Fatalf("%s: openssl gives content %q, want %q", name, out, content)
	}
	opts := verify.Options{Roots: w.roots, Profile: verify.ProfileCAdESBES, CRLs: w.crls()}
	if detached {
		opts.Content = bytes.NewReader(content)
	}
	rep, err := verify.Verify(context.Background(), der, opts)
	if err != nil {
		w.t.Fatal(err)
	}
	if rep.Indication != verify.TotalPassed {
		w.t.Fatalf("%s: kep verify: %s", name, rep.Summary("en"))
	}
	if rep.Detached != detached {
		w.t.Fatalf("%s: detached %v, want %v", name, rep.Detached, detached)
	}
}

func (w *world) crls() []*certs.CRL {
	w.t.Helper()
	var out []*certs.CRL
	for _, f := range []string{w.demo.CRL, w.demo.RSACRL} {
		data, err := os.ReadFile(w.demo.Path(f))
		if err != nil {
			w.t.Fatal(err)
		}
		crl, err := certs.ParseCRL(data)
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, crl)
	}
	return out
}

func ucs2(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return b
}

// TestClients runs the three npm clients in one browser and agent.
func TestClients(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		name string
		run  func(t *testing.T, w *world)
	}{
		{"crypto-pro", testCryptoPro},
		{"crypto-pro-cadesplugin", testCryptoProCadesplugin},
		{"crypto-pro-js", testCryptoProJS},
		{"portal-cades-page", testPortalPage},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.t = t
			w.user.mu.Lock()
			w.user.ops = nil
			w.user.mu.Unlock()
			c.run(t, w)
		})
	}
}

func testCryptoPro(t *testing.T, w *world) {
	person := w.cert("person")
	wantSubject, err := cades.FormatName(person.RawSubject)
	if err != nil {
		t.Fatal(err)
	}
	const doc = "Договор № 1, подписан \"в браузере\""
	var got struct {
		Certs []struct {
			Name, Thumbprint, SubjectName, IssuerName, ValidFrom, ValidTo string
			Owner                                                         []struct{ Title, Description string }
			Alg                                                           struct{ Algorithm, Oid string }
			Valid                                                         bool
			B64                                                           string
			EKU                                                           []string
		}
		Sys      struct{ CadesVersion, CspVersion string }
		Setup    bool
		Attached string
		Hash     string
		Detached string
	}
	w.run("crypto-pro.js", `
		const list = await cryptoPro.getUserCertificates();
		const certs = [];
		for (const c of list) {
			certs.push({ name: c.name, thumbprint: c.thumbprint, subjectName: c.subjectName, issuerName: c.issuerName,
				validFrom: c.validFrom, validTo: c.validTo, owner: await c.getOwnerInfo(), alg: await c.getAlgorithm(),
				valid: await c.isValid(), b64: await c.exportBase64(), eku: await c.getExtendedKeyUsage() });
		}
		const sys = await cryptoPro.getSystemInfo();
		const setup = await cryptoPro.isValidSystemSetup();
		const attached = await cryptoPro.createAttachedSignature("`+person.Thumbprint()+`", `+jsString(doc)+`);
		const hash = await cryptoPro.createHash(`+jsString(doc)+`);
		const detached = await cryptoPro.createDetachedSignature("`+person.Thumbprint()+`", hash);
		return { certs, sys, setup, attached, hash, detached };`, &got)

	if len(got.Certs) != len(w.demo.Identities) {
		t.Fatalf("crypto-pro lists %d certificates, the demo token holds %d", len(got.Certs), len(w.demo.Identities))
	}
	var found bool
	for _, c := range got.Certs {
		if c.Thumbprint != person.Thumbprint() {
			continue
		}
		found = true
		if c.SubjectName != wantSubject {
			t.Errorf("subjectName %q, want %q", c.SubjectName, wantSubject)
		}
		if c.Name != person.Subject.CommonName {
			t.Errorf("name %q, want the CN %q", c.Name, person.Subject.CommonName)
		}
		if c.ValidFrom != person.NotBefore.UTC().Format("2006-01-02T15:04:05.000Z") || c.ValidTo != person.NotAfter.UTC().Format("2006-01-02T15:04:05.000Z") {
			t.Errorf("validity %s…%s, want %v…%v", c.ValidFrom, c.ValidTo, person.NotBefore, person.NotAfter)
		}
		if c.Alg.Oid != "1.2.643.7.1.1.1.1" || c.Alg.Algorithm != "ГОСТ Р 34.10-2012 256 бит" {
			t.Errorf("algorithm %+v", c.Alg)
		}
		if !c.Valid {
			t.Error("isValid() is false for the demo person's certificate")
		}
		if der, _ := base64.StdEncoding.DecodeString(c.B64); !bytes.Equal(der, person.Raw) {
			t.Error("exportBase64 is not the certificate's DER")
		}
		owner := map[string]string{}
		for _, o := range c.Owner {
			owner[o.Title] = o.Description
		}
		if owner["СНИЛС"] != person.Qualified.SNILS || owner["ИНН"] != person.Qualified.INN || owner["Владелец"] != person.Subject.CommonName {
			t.Errorf("getOwnerInfo: %v (СНИЛС %s, ИНН %s)", owner, person.Qualified.SNILS, person.Qualified.INN)
		}
	}
	if !found {
		t.Fatalf("crypto-pro did not list the person's certificate %s", person.Thumbprint())
	}
	if !got.Setup || !strings.HasPrefix(got.Sys.CadesVersion, "2.0.") {
		t.Errorf("system info %+v, setup valid %v", got.Sys, got.Setup)
	}
	// crypto-pro base64-encodes the message as UTF-8 (Buffer.from).
	w.checkSignature("cryptopro-attached", got.Attached, []byte(doc), false)
	wantHash := strings.ToUpper(fmt.Sprintf("%x", certs.Streebog256.Sum([]byte(doc))))
	if got.Hash != wantHash {
		t.Fatalf("createHash %s, want Streebog-256 %s", got.Hash, wantHash)
	}
	w.checkSignature("cryptopro-detached-hash", got.Detached, []byte(doc), true)
	ops := w.user.seen()
	if len(ops) != 2 {
		t.Fatalf("the user approved %d signatures, want 2", len(ops))
	}
	for _, op := range ops {
		if op.Origin != w.pages || op.Entry.ID != person.Thumbprint() || op.Kind != agent.OpSign {
			t.Errorf("the window showed %s %s %s", op.Kind, op.Origin, op.Entry.ID)
		}
	}
	if ops[1].Size != -1 || !bytes.Equal(ops[1].Digest, certs.Streebog256.Sum([]byte(doc))) {
		t.Errorf("the hash signature showed size %d digest %x", ops[1].Size, ops[1].Digest)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func testCryptoProCadesplugin(t *testing.T, w *world) {
	person := w.cert("person")
	const doc = "Заявление, от 1 декабря"
	b64 := base64.StdEncoding.EncodeToString([]byte(doc))
	var got struct {
		Certs []struct {
			Thumbprint, SubjectInfo, IssuerInfo, SerialNumber, From, To string
			Subject                                                     map[string]string
			Valid                                                       bool
		}
		Detached, Attached string
	}
	w.run("cpc.js", `
		const api = await window.cpc();
		const list = await api.getCertsList();
		const certs = [];
		for (const c of list) {
			certs.push({ thumbprint: c.thumbprint, subjectInfo: c.subjectInfo, issuerInfo: c.issuerInfo, serialNumber: c.serialNumber,
				from: c.validPeriod.from, to: c.validPeriod.to, subject: c.getSubjectInfo(), valid: await c.isValid() });
		}
		const detached = await api.signBase64("`+person.Thumbprint()+`", "`+b64+`", true);
		const attached = await api.signBase64("`+person.Thumbprint()+`", "`+b64+`", false);
		return { certs, detached, attached };`, &got)
	if len(got.Certs) != len(w.demo.Identities) {
		t.Fatalf("getCertsList gives %d certificates, the demo token holds %d", len(got.Certs), len(w.demo.Identities))
	}
	found := false
	for _, c := range got.Certs {
		if c.Thumbprint != person.Thumbprint() {
			continue
		}
		found = true
		if c.SerialNumber != strings.ToUpper(fmt.Sprintf("%x", person.SerialNumber.Bytes())) {
			t.Errorf("serialNumber %s", c.SerialNumber)
		}
		if c.Subject["СНИЛС"] != person.Qualified.SNILS || c.Subject["ИНН"] != person.Qualified.INN {
			t.Errorf("getSubjectInfo %v: СНИЛС %s ИНН %s", c.Subject, person.Qualified.SNILS, person.Qualified.INN)
		}
		if from, err := time.Parse(time.RFC3339, c.From); err != nil || !from.Equal(person.NotBefore) {
			t.Errorf("validPeriod.from %q, want %v", c.From, person.NotBefore)
		}
		if !c.Valid {
			t.Error("isValid is false")
		}
	}
	if !found {
		t.Fatal("the person's certificate is not listed")
	}
	w.checkSignature("cpc-detached", got.Detached, []byte(doc), true)
	w.checkSignature("cpc-attached", got.Attached, []byte(doc), false)
	if n := len(w.user.seen()); n != 2 {
		t.Fatalf("%d signatures approved, want 2", n)
	}
}

func testCryptoProJS(t *testing.T, w *world) {
	person := w.cert("person")
	second := person
	for _, id := range w.demo.Identities {
		if id.Role != "person" && strings.Contains(id.KeyAlgorithm, "256") && strings.Contains(id.KeyAlgorithm, "GOST") {
			second = w.cert(id.Role)
		}
	}
	const doc = "Акт сверки"
	var got struct {
		Users, Containers          []string
		Attached, CoAttached, Hash string
		Detached, CoDetached       string
	}
	w.run("crypto-pro-js.js", `
		const users = (await cryptoPro.getUserCertificates()).map((c) => c.thumbprint);
		const containers = (await cryptoPro.getContainerCertificates()).map((c) => c.thumbprint);
		const attached = await cryptoPro.createAttachedSignature("`+person.Thumbprint()+`", `+jsString(doc)+`);
		const coAttached = await cryptoPro.addAttachedSignature("`+second.Thumbprint()+`", attached);
		const hash = await cryptoPro.createHash(`+jsString(doc)+`);
		const detached = await cryptoPro.createDetachedSignature("`+person.Thumbprint()+`", hash);
		const coDetached = await cryptoPro.addDetachedSignature("`+second.Thumbprint()+`", detached, hash);
		return { users, containers, attached, coAttached, hash, detached, coDetached };`, &got)
	if len(got.Users) != len(w.demo.Identities) || len(got.Containers) != len(w.demo.Identities) {
		t.Fatalf("user store %d, container store %d certificates; the demo token holds %d", len(got.Users), len(got.Containers), len(w.demo.Identities))
	}
	w.checkSignature("cpjs-attached", got.Attached, []byte(doc), false)
	w.checkSignature("cpjs-cosigned-attached", got.CoAttached, []byte(doc), false)
	w.checkSignature("cpjs-detached", got.Detached, []byte(doc), true)
	w.checkSignature("cpjs-cosigned-detached", got.CoDetached, []byte(doc), true)
	for name, b64 := range map[string]string{"attached": got.CoAttached, "detached": got.CoDetached} {
		der, _ := base64.StdEncoding.DecodeString(b64)
		opts := verify.Options{Roots: w.roots, CRLs: w.crls()}
		if name == "detached" {
			opts.Content = strings.NewReader(doc)
		}
		rep, err := verify.Verify(context.Background(), der, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Signers) != 2 || rep.Signers[1].Certificate.Thumbprint != second.Thumbprint() {
			t.Fatalf("co-signed %s signature: %d signers", name, len(rep.Signers))
		}
	}
	if n := len(w.user.seen()); n != 4 {
		t.Fatalf("%d signatures approved, want 4", n)
	}
}

// testPortalPage drives the demo portal's page written for CryptoPro's
// plug-in (agent/portal/static/cades.js) as a person would.
func testPortalPage(t *testing.T, w *world) {
	person := w.cert("person")
	ctx, cancel := chromedp.NewContext(w.browser)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	poll := func(expr string) {
		t.Helper()
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second)))
		must(err)
	}
	value := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		must(err)
		return v
	}
	must(chromedp.Do(ctx, chromedp.Navigate(w.portal+"/cades")))
	poll(`document.getElementById("CertListBox").options.length > 0 && document.getElementById("subject").textContent !== ""`)
	must(chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#CertListBox"), person.Thumbprint())))
	must(chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("CertListBox").dispatchEvent(new Event("change"))`)))
	wantSubject, _ := cades.FormatName(person.RawSubject)
	poll(`document.getElementById("subject").textContent === ` + jsString(wantSubject))
	if alg := value(`document.getElementById("algorithm").textContent`); alg != "ГОСТ Р 34.10-2012 256 бит (1.2.643.7.1.1.1.1)" {
		t.Errorf("the page shows the algorithm %q", alg)
	}
	doc := value(`document.getElementById("DataToSign").value`)
	for _, kind := range []string{"attached", "detached", "hash"} {
		must(chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("SignatureTxtBox").value = ""`)))
		must(chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#sign-"+kind))))
		poll(`document.getElementById("SignatureTxtBox").value !== "" || document.getElementById("result").className === "error"`)
		if r := value(`document.getElementById("result").textContent`); strings.HasPrefix(r, "Ошибка") {
			t.Fatalf("%s: the page says %s", kind, r)
		}
		w.checkSignature("portal-"+kind, value(`document.getElementById("SignatureTxtBox").value`), []byte(doc), kind != "attached")
		must(chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("result").textContent = ""`)))
		must(chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#verify"))))
		poll(`document.getElementById("result").textContent !== ""`)
		if r := value(`document.getElementById("result").textContent`); !strings.HasPrefix(r, "Подпись верна. Подписали: "+person.Subject.CommonName) {
			t.Fatalf("%s: verification says %q", kind, r)
		}
	}
	// The document changed after the detached signature: VerifyCades throws
	// CRYPT_E_HASH_VALUE, shown by the page through getLastError.
	must(chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#sign-detached"))))
	poll(`document.getElementById("result").textContent.startsWith("Подпись создана")`)
	must(chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#DataToSign"), doc+" (изменён)")))
	must(chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#verify"))))
	poll(`document.getElementById("result").className === "error"`)
	if r := value(`document.getElementById("result").textContent`); !strings.HasPrefix(r, "Ошибка: Подпись не прошла проверку") || !strings.HasSuffix(r, "(0x80091007)") {
		t.Fatalf("a changed document gives %q", r)
	}
}
