package agent

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11/keystore"
)

//go:embed ui
var uiFiles embed.FS

// PageUI asks the user in a page the agent serves on its own origin and
// opens in the user's browser. The page shows the requesting origin, the
// certificate and what is signed, and takes the PIN: the requesting site's
// page never sees it, cannot frame the page (frame-ancestors 'none') and
// cannot answer it.
//
// No secret travels on a command line (any local user can read those) or
// through a file another user can read: the agent writes a small launcher
// page into a directory only the user can read (Dir) and opens that file
// with the browser. The launcher sends the browser to the prompt's
// one-time address; the first visit spends the code and sets a cookie for
// the prompt, and only requests with that cookie, from the agent's origin,
// see the prompt's details and answer it.
type PageUI struct {
	// Open, when set, is given the prompt's one-time address instead of
	// the launcher: for a caller that shows it itself (a test's simulated
	// user, --no-browser printing it to the user's terminal). It must not
	// put the address on a command line.
	Open func(url string) error
	// Browser is the command that opens the launcher file, given its
	// file:// URL as the last argument (xdg-open, open, or rundll32
	// url.dll,FileProtocolHandler when empty).
	Browser []string
	// Dir is where launcher files are written: a directory only the user
	// can read (DefaultPromptDir when empty).
	Dir string
	// Unopened, when set, is given the prompt's one-time address when no
	// browser could be opened (no desktop: SSH, a container; the opener
	// failed), to show it to the user — in the agent's own terminal, never
	// on a command line.
	Unopened func(url string)
	// User names the local account the agent serves, shown in the window.
	User string
	// Timeout is how long a prompt waits for the user (2 minutes when zero).
	Timeout time.Duration
	Logger  *slog.Logger

	mu      sync.Mutex
	base    string // http://127.0.0.1:PORT, set by the agent when it listens
	origins map[string]bool
	prompts map[string]*pagePrompt
}

type promptCert struct {
	ID         string `json:"id"`
	Subject    string `json:"subject"`
	Issuer     string `json:"issuer"`
	NotAfter   string `json:"notAfter"`
	Thumbprint string `json:"thumbprint"`
	Token      string `json:"token"`
}

// promptInfo is what the page shows.
type promptInfo struct {
	Kind        string      `json:"kind"` // "access", OpSign, OpLogin
	Origin      string      `json:"origin"`
	User        string      `json:"user,omitempty"`
	Certificate *promptCert `json:"certificate,omitempty"`
	// Certificates to choose from (access).
	Certificates []promptCert `json:"certificates,omitempty"`
	Description  string       `json:"description,omitempty"`
	Challenge    string       `json:"challenge,omitempty"`
	Size         int64        `json:"size"`
	DigestAlg    string       `json:"digestAlg,omitempty"`
	Digest       string       `json:"digest,omitempty"`
	NeedPIN      bool         `json:"needPin"`
	PINCache     string       `json:"pinCache,omitempty"`
	Warning      string       `json:"warning,omitempty"`

	// PINLabel and PINHint name what is typed when it is not a token's PIN
	// (a CryptoPro container's password).
	PINLabel string `json:"pinLabel,omitempty"`
	PINHint  string `json:"pinHint,omitempty"`
}

type pageAnswer struct {
	Approve bool   `json:"approve"`
	PIN     secret `json:"pin"`
	// Access: "all", or "chosen" with the chosen certificates' ids.
	Scope        string   `json:"scope,omitempty"`
	Certificates []string `json:"certificates,omitempty"`
}

type pageOutcome struct {
	Status  string `json:"status"` // "done", "retry", "error", "denied"
	Message string `json:"message"`
}

type pagePrompt struct {
	id   string
	code string // one-time, spent by the first visit
	// session is the cookie the first visit got; "" until then.
	session   string
	launcher  string // the launcher file, removed once visited
	mu        sync.Mutex
	info      promptInfo
	answers   chan pageAnswer
	outcome   chan pageOutcome
	closed    chan struct{}
	closeOnce sync.Once
}

func (p *pagePrompt) close() { p.closeOnce.Do(func() { close(p.closed) }) }

func (ui *PageUI) timeout() time.Duration {
	if ui.Timeout > 0 {
		return ui.Timeout
	}
	return 2 * time.Minute
}

// setBase tells the UI the agent's address and the origins its pages have.
func (ui *PageUI) setBase(base string, origins []string) {
	ui.mu.Lock()
	defer ui.mu.Unlock()
	ui.base = base
	ui.origins = map[string]bool{}
	for _, o := range origins {
		ui.origins[o] = true
	}
	if ui.prompts == nil {
		ui.prompts = map[string]*pagePrompt{}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b)
}

// start registers a prompt and opens its page.
func (ui *PageUI) start(info promptInfo) (*pagePrompt, error) {
	info.User = ui.User
	p := &pagePrompt{
		id: randomHex(8), code: randomHex(16), info: info,
		answers: make(chan pageAnswer), outcome: make(chan pageOutcome, 1), closed: make(chan struct{}),
	}
	ui.mu.Lock()
	if ui.base == "" {
		ui.mu.Unlock()
		return nil, fmt.Errorf("agent: the prompt page is not served")
	}
	ui.prompts[p.id] = p
	url := ui.base + "/ui/" + p.id + "/" + p.code
	ui.mu.Unlock()
	if ui.Open != nil {
		if err := ui.Open(url); err != nil {
			ui.finish(p)
			return nil, fmt.Errorf("agent: cannot show the prompt: %w", err)
		}
		return p, nil
	}
	path, err := ui.writeLauncher(p.id, url)
	if err != nil {
		ui.finish(p)
		return nil, err
	}
	p.mu.Lock()
	p.launcher = path
	p.mu.Unlock()
	ui.openFile(path, func(err error) {
		// The file is the user's own: they can open it by hand.
		ui.logger().Warn("cannot open the browser; open this file in it to answer", "file", path, "err", err)
		if ui.Unopened != nil {
			ui.Unopened(url)
		}
	})
	return p, nil
}

// errNoDesktop: nothing to open a browser on.
var errNoDesktop = errors.New("no desktop session (DISPLAY and WAYLAND_DISPLAY are not set)")

// launcherPage sends the browser on to the prompt's one-time address.
const launcherPage = `<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url=%[1]s"><title>kep</title></head>
<body><p><a href="%[1]s">Открыть окно подтверждения kep</a></p></body></html>
`

// writeLauncher writes the launcher file for a prompt into the user's
// private directory.
func (ui *PageUI) writeLauncher(id, url string) (string, error) {
	dir := ui.Dir
	if dir == "" {
		var err error
		if dir, err = DefaultPromptDir(); err != nil {
			return "", err
		}
	}
	if err := privateDir(dir); err != nil {
		return "", err
	}
	path := filepath.Join(dir, "prompt-"+id+".html")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	_, err = fmt.Fprintf(f, launcherPage, html.EscapeString(url))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", err
	}
	return path, nil
}

// openFile opens the launcher in the browser; failed is called when it
// could not (at once, or when the opener exits with an error).
func (ui *PageUI) openFile(path string, failed func(error)) {
	u := (&neturl.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
	if runtime.GOOS == "windows" && !strings.HasPrefix(u, "file:///") {
		u = "file:///" + strings.TrimPrefix(u, "file://")
	}
	args := ui.Browser
	if len(args) == 0 {
		if !hasDesktop() {
			failed(errNoDesktop)
			return
		}
		args = defaultBrowser()
	}
	cmd := exec.Command(args[0], append(args[1:len(args):len(args)], u)...)
	if err := cmd.Start(); err != nil {
		failed(err)
		return
	}
	go func() {
		if err := cmd.Wait(); err != nil {
			failed(fmt.Errorf("%s: %w", args[0], err))
		}
	}()
}

// hasDesktop reports whether a browser can be opened: always on Windows
// and macOS, with a display elsewhere.
func hasDesktop() bool {
	switch runtime.GOOS {
	case "windows", "darwin":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// defaultBrowser is the system's way to open a file in the default browser.
func defaultBrowser() []string {
	switch runtime.GOOS {
	case "windows":
		return []string{"rundll32", "url.dll,FileProtocolHandler"}
	case "darwin":
		return []string{"open"}
	}
	return []string{"xdg-open"}
}

// DefaultPromptDir is where launcher files go: $XDG_RUNTIME_DIR/kep (a
// per-user tmpfs) when set, otherwise kep/prompts in the user's cache
// directory.
func DefaultPromptDir() (string, error) {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "kep"), nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kep", "prompts"), nil
}

func (ui *PageUI) finish(p *pagePrompt) {
	p.close()
	p.mu.Lock()
	if p.launcher != "" {
		os.Remove(p.launcher)
		p.launcher = ""
	}
	p.mu.Unlock()
	// Keep the prompt a little so that the page's last request finds it.
	time.AfterFunc(time.Minute, func() {
		ui.mu.Lock()
		delete(ui.prompts, p.id)
		ui.mu.Unlock()
	})
}

func (ui *PageUI) logger() *slog.Logger {
	if ui.Logger != nil {
		return ui.Logger
	}
	return slog.Default()
}

func promptCertOf(e *keystore.Entry) promptCert {
	token := e.Token.Info.Label
	if isContainer(e.Token) {
		token += " (контейнер CryptoPro)"
		if e.NonExportable {
			token += ", ключ помечен как неэкспортируемый"
		}
	}
	return promptCert{
		ID:         e.ID,
		Subject:    holderName(e.Certificate),
		Issuer:     e.Certificate.Issuer.CommonName,
		NotAfter:   e.Certificate.NotAfter.Format("02.01.2006"),
		Thumbprint: e.ID,
		Token:      token,
	}
}

// holderName is who the certificate names: the person (surname and given
// names, else the common name) and the organisation, each once.
func holderName(c *certs.Certificate) string {
	q := c.Qualified
	person := strings.TrimSpace(q.Surname + " " + q.GivenName)
	if person == "" {
		person = c.Subject.CommonName
	}
	org := q.Organization
	if org == "" && len(c.Subject.Organization) > 0 {
		org = c.Subject.Organization[0]
	}
	switch {
	case org == "" || org == person:
		return person
	case person == "":
		return org
	}
	return person + ", " + org
}

// Access implements UI.
func (ui *PageUI) Access(ctx context.Context, req AccessRequest) (Grant, error) {
	info := promptInfo{Kind: "access", Origin: req.Origin, Size: -1}
	known := map[string]bool{}
	for _, e := range req.Certificates {
		info.Certificates = append(info.Certificates, promptCertOf(e))
		known[e.ID] = true
	}
	p, err := ui.start(info)
	if err != nil {
		return Grant{}, err
	}
	defer ui.finish(p)
	a, err := waitAnswer(ctx, p.answers, ui.timeout())
	if err != nil {
		return Grant{}, err
	}
	a.PIN.wipe()
	if !a.Approve {
		p.outcome <- pageOutcome{Status: "denied", Message: "Доступ не разрешён."}
		return Grant{}, ErrDenied
	}
	g := Grant{All: a.Scope != ScopeChosen}
	if !g.All {
		for _, id := range a.Certificates {
			if known[id] {
				g.Certificates = append(g.Certificates, id)
			}
		}
		if len(g.Certificates) == 0 {
			p.outcome <- pageOutcome{Status: "denied", Message: "Не выбран ни один сертификат: доступ не разрешён."}
			return Grant{}, ErrDenied
		}
	}
	p.outcome <- pageOutcome{Status: "done", Message: "Доступ разрешён. Окно можно закрыть."}
	return g, nil
}

// Confirm implements UI.
func (ui *PageUI) Confirm(ctx context.Context, op Operation) (Confirmation, error) {
	info := promptInfo{Kind: op.Kind, Origin: op.Origin, Description: op.Description, Size: op.Size,
		DigestAlg: op.DigestAlg, Digest: strings.ToUpper(hex.EncodeToString(op.Digest)), NeedPIN: op.NeedPIN,
		Challenge: op.Challenge, PINCache: pinCacheText(op)}
	if e := op.Entry; e != nil {
		pc := promptCertOf(e)
		info.Certificate = &pc
		info.Warning = pinWarning(e.Token.Info)
		if isContainer(e.Token) {
			info.PINLabel, info.PINHint = containerPINLabel, containerPINHint
		}
	}
	p, err := ui.start(info)
	if err != nil {
		return nil, err
	}
	a, err := waitAnswer(ctx, p.answers, ui.timeout())
	if err != nil {
		ui.finish(p)
		return nil, err
	}
	if !a.Approve {
		a.PIN.wipe()
		p.outcome <- pageOutcome{Status: "denied", Message: "Отменено."}
		ui.finish(p)
		return nil, ErrDenied
	}
	return &pageConfirmation{ui: ui, p: p, pin: a.PIN, first: true}, nil
}

// pinCacheText tells the user whether a kept PIN is used, or the one typed
// will be kept, and for which site.
func pinCacheText(op Operation) string {
	switch {
	case !op.PINCachedUntil.IsZero():
		return "PIN-код не нужен: он запомнен для сайта " + op.Origin + " до " + op.PINCachedUntil.Local().Format("15:04") + "."
	case op.PINCacheFor > 0:
		return "PIN-код будет запомнен для сайта " + op.Origin + " на " + strconv.Itoa(int(op.PINCacheFor.Round(time.Minute)/time.Minute)) + " мин.; другие сайты его не получат."
	}
	return ""
}

type pageConfirmation struct {
	ui    *PageUI
	p     *pagePrompt
	pin   secret
	first bool
}

func (c *pageConfirmation) PIN(ctx context.Context, req keystore.PINRequest) ([]byte, error) {
	if c.first && req.Retry == nil && req.Key == "" {
		c.first = false
		pin := c.pin
		c.pin = nil
		return pin, nil
	}
	c.first = false
	msg := "Введите PIN-код ключа «" + req.Key + "»."
	if isContainer(req.Token) {
		msg = "Введите пароль контейнера «" + req.Token.Info.Label + "» (пустое поле, если пароля нет)."
	}
	if req.Retry != nil {
		msg = wrongSecretText(req.Token, req.Retry)
	}
	if w := pinWarning(req.Token.Info); w != "" {
		msg += " " + w
	}
	c.p.mu.Lock()
	c.p.info.Warning = pinWarning(req.Token.Info)
	c.p.mu.Unlock()
	c.p.outcome <- pageOutcome{Status: "retry", Message: msg}
	a, err := waitAnswer(ctx, c.p.answers, c.ui.timeout())
	if err != nil {
		return nil, err
	}
	if !a.Approve {
		a.PIN.wipe()
		c.p.outcome <- pageOutcome{Status: "denied", Message: "Отменено."}
		return nil, ErrDenied
	}
	return a.PIN, nil
}

func (c *pageConfirmation) Done(err error) {
	c.pin.wipe()
	status := "done"
	if err != nil {
		status = "error"
	}
	if !errors.Is(err, ErrDenied) {
		select {
		case c.p.outcome <- pageOutcome{Status: status, Message: userMessage(err)}:
		default:
		}
	}
	c.ui.finish(c.p)
}

// serveUI handles /ui/…: the static files, the prompt's one-time address
// (/ui/ID/CODE, which sets the prompt's cookie), the prompt page
// (/ui/ID), its details (/ui/ID/info) and its answers (POST /ui/ID).
func (ui *PageUI) serveUI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")

	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/ui/"), "/")
	if len(parts) == 1 && strings.HasPrefix(parts[0], "prompt.") && r.Method == http.MethodGet {
		data, err := uiFiles.ReadFile("ui/" + parts[0])
		if err != nil || parts[0] == "prompt.html" {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", mime.TypeByExtension(parts[0][strings.LastIndexByte(parts[0], '.'):]))
		w.Write(data)
		return
	}
	if len(parts) > 2 {
		http.NotFound(w, r)
		return
	}
	ui.mu.Lock()
	p := ui.prompts[parts[0]]
	ui.mu.Unlock()
	if p == nil {
		http.Error(w, "this request is over or unknown", http.StatusGone)
		return
	}
	switch {
	case len(parts) == 2 && parts[1] != "info" && r.Method == http.MethodGet:
		ui.visit(w, r, p, parts[1])
	case len(parts) == 1 && r.Method == http.MethodGet:
		// The page itself holds nothing: it asks /info with the cookie.
		data, _ := uiFiles.ReadFile("ui/prompt.html")
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.Write(data)
	case len(parts) == 2 && r.Method == http.MethodGet:
		if !ui.ownSession(r, p) {
			http.Error(w, "this window belongs to another browser session", http.StatusForbidden)
			return
		}
		select {
		case <-p.closed:
			http.Error(w, "this request is over", http.StatusGone)
			return
		default:
		}
		p.mu.Lock()
		info := p.info
		p.mu.Unlock()
		writeJSON(w, http.StatusOK, info)
	case len(parts) == 1 && r.Method == http.MethodPost:
		if !ui.ownSession(r, p) {
			http.Error(w, "answers come only from the window kep opened", http.StatusForbidden)
			return
		}
		ui.answer(w, r, p)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func cookieName(p *pagePrompt) string { return "kep-prompt-" + p.id }

// visit spends the prompt's one-time code: the first visit gets the
// prompt's cookie and is sent to the page; any later one is refused.
func (ui *PageUI) visit(w http.ResponseWriter, r *http.Request, p *pagePrompt, code string) {
	p.mu.Lock()
	ok := p.session == "" && subtle.ConstantTimeCompare([]byte(code), []byte(p.code)) == 1
	if ok {
		p.session = randomHex(16)
		if p.launcher != "" {
			os.Remove(p.launcher)
			p.launcher = ""
		}
	}
	session := p.session
	p.mu.Unlock()
	if !ok {
		ui.logger().Warn("a prompt's address was used twice or with a wrong code", "prompt", p.id)
		http.Error(w, "Это окно kep уже открыто в другой вкладке или его адрес неверен.", http.StatusGone)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName(p), Value: session, Path: "/ui/" + p.id,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: int(ui.timeout()/time.Second) + 60})
	http.Redirect(w, r, "/ui/"+p.id, http.StatusSeeOther)
}

// ownSession reports whether r comes from the browser session that spent
// the prompt's code.
func (ui *PageUI) ownSession(r *http.Request, p *pagePrompt) bool {
	c, err := r.Cookie(cookieName(p))
	if err != nil {
		return false
	}
	p.mu.Lock()
	session := p.session
	p.mu.Unlock()
	return session != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(session)) == 1
}

// answer takes the user's decision from the agent's own page.
func (ui *PageUI) answer(w http.ResponseWriter, r *http.Request, p *pagePrompt) {
	ui.mu.Lock()
	own := ui.origins[r.Header.Get("Origin")]
	ui.mu.Unlock()
	if !own {
		http.Error(w, "answers come only from the agent's own page", http.StatusForbidden)
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		http.Error(w, "application/json expected", http.StatusUnsupportedMediaType)
		return
	}
	body := make([]byte, 0, 4096)
	n, err := io.ReadFull(io.LimitReader(r.Body, 4096), body[:4096])
	body = body[:n]
	defer clear(body[:cap(body)]) // the PIN was in it
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		http.Error(w, "bad answer", http.StatusBadRequest)
		return
	}
	var a pageAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		a.PIN.wipe()
		http.Error(w, "bad answer", http.StatusBadRequest)
		return
	}
	select {
	case p.answers <- a:
	case <-p.closed:
		a.PIN.wipe()
		writeJSON(w, http.StatusOK, pageOutcome{Status: "error", Message: "Запрос уже завершён."})
		return
	case <-r.Context().Done():
		a.PIN.wipe()
		return
	}
	t := time.NewTimer(ui.timeout())
	defer t.Stop()
	select {
	case o := <-p.outcome:
		writeJSON(w, http.StatusOK, o)
	case <-p.closed:
		select {
		case o := <-p.outcome:
			writeJSON(w, http.StatusOK, o)
		default:
			writeJSON(w, http.StatusOK, pageOutcome{Status: "error", Message: "Запрос отменён."})
		}
	case <-t.C:
		writeJSON(w, http.StatusOK, pageOutcome{Status: "error", Message: "Нет ответа от токена."})
	case <-r.Context().Done():
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
