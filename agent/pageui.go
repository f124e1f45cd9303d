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
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/kepkit/kep/pkcs11/keystore"
)

//go:embed ui
var uiFiles embed.FS

// PageUI asks the user in a page the agent serves on its own origin and
// opens in the user's browser. The page shows the requesting origin, the
// certificate and what is signed, and takes the PIN: the requesting site's
// page never sees it, cannot frame the page (frame-ancestors 'none') and
// cannot answer it (answers must come from the agent's own origin and carry
// the prompt's secret).
type PageUI struct {
	// Open shows a URL to the user; nil means the system's browser
	// (xdg-open, open, rundll32). When it fails the URL is logged.
	Open func(url string) error
	// Timeout is how long a prompt waits for the user (2 minutes when zero).
	Timeout time.Duration
	Logger  *slog.Logger

	mu      sync.Mutex
	base    string // http://127.0.0.1:PORT, set by the agent when it listens
	origins map[string]bool
	prompts map[string]*pagePrompt
}

type promptCert struct {
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
	Certificate *promptCert `json:"certificate,omitempty"`
	Description string      `json:"description,omitempty"`
	Size        int64       `json:"size"`
	DigestAlg   string      `json:"digestAlg,omitempty"`
	Digest      string      `json:"digest,omitempty"`
	NeedPIN     bool        `json:"needPin"`
	Warning     string      `json:"warning,omitempty"`
}

type pageAnswer struct {
	Approve bool   `json:"approve"`
	PIN     string `json:"pin"`
}

type pageOutcome struct {
	Status  string `json:"status"` // "done", "retry", "error", "denied"
	Message string `json:"message"`
}

type pagePrompt struct {
	id, secret string
	mu         sync.Mutex
	info       promptInfo
	answers    chan pageAnswer
	outcome    chan pageOutcome
	closed     chan struct{}
	closeOnce  sync.Once
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
	p := &pagePrompt{
		id: randomHex(8), secret: randomHex(16), info: info,
		answers: make(chan pageAnswer), outcome: make(chan pageOutcome, 1), closed: make(chan struct{}),
	}
	ui.mu.Lock()
	if ui.base == "" {
		ui.mu.Unlock()
		return nil, fmt.Errorf("agent: the prompt page is not served")
	}
	ui.prompts[p.id] = p
	url := ui.base + "/ui/" + p.id + "/" + p.secret
	ui.mu.Unlock()
	open := ui.Open
	if open == nil {
		open = openBrowser
	}
	if err := open(url); err != nil {
		ui.logger().Warn("cannot open the browser; open this address to answer", "url", url, "err", err)
	}
	return p, nil
}

func (ui *PageUI) finish(p *pagePrompt) {
	p.close()
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

// Access implements UI.
func (ui *PageUI) Access(ctx context.Context, req AccessRequest) error {
	p, err := ui.start(promptInfo{Kind: "access", Origin: req.Origin, Size: -1})
	if err != nil {
		return err
	}
	defer ui.finish(p)
	a, err := waitAnswer(ctx, p.answers, ui.timeout())
	if err != nil {
		return err
	}
	if !a.Approve {
		p.outcome <- pageOutcome{Status: "denied", Message: "Доступ не разрешён."}
		return ErrDenied
	}
	p.outcome <- pageOutcome{Status: "done", Message: "Доступ разрешён. Окно можно закрыть."}
	return nil
}

// Confirm implements UI.
func (ui *PageUI) Confirm(ctx context.Context, op Operation) (Confirmation, error) {
	info := promptInfo{Kind: op.Kind, Origin: op.Origin, Description: op.Description, Size: op.Size,
		DigestAlg: op.DigestAlg, Digest: strings.ToUpper(hex.EncodeToString(op.Digest)), NeedPIN: op.NeedPIN}
	if e := op.Entry; e != nil {
		info.Certificate = &promptCert{
			Subject:    e.Certificate.Subject.CommonName,
			Issuer:     e.Certificate.Issuer.CommonName,
			NotAfter:   e.Certificate.NotAfter.Format("02.01.2006"),
			Thumbprint: e.ID,
			Token:      e.Token.Info.Label,
		}
		if org := e.Certificate.Subject.Organization; len(org) > 0 {
			info.Certificate.Subject += ", " + org[0]
		}
		info.Warning = pinWarning(e.Token.Info)
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
		p.outcome <- pageOutcome{Status: "denied", Message: "Отменено."}
		ui.finish(p)
		return nil, ErrDenied
	}
	return &pageConfirmation{ui: ui, p: p, pin: []byte(a.PIN), first: true}, nil
}

type pageConfirmation struct {
	ui    *PageUI
	p     *pagePrompt
	pin   []byte
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
	if req.Retry != nil {
		msg = "Неверный PIN-код."
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
		c.p.outcome <- pageOutcome{Status: "denied", Message: "Отменено."}
		return nil, ErrDenied
	}
	return []byte(a.PIN), nil
}

func (c *pageConfirmation) Done(err error) {
	clear(c.pin)
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

// serveUI handles /ui/…: the static files, the prompt page, its details
// and its answers.
func (ui *PageUI) serveUI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")

	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/ui/"), "/")
	if len(parts) == 1 && r.Method == http.MethodGet {
		data, err := uiFiles.ReadFile("ui/" + parts[0])
		if err != nil || !strings.HasPrefix(parts[0], "prompt.") || parts[0] == "prompt.html" {
			http.NotFound(w, r)
			return
		}
		h.Set("Content-Type", mime.TypeByExtension(parts[0][strings.LastIndexByte(parts[0], '.'):]))
		w.Write(data)
		return
	}
	if len(parts) < 2 || len(parts) > 3 {
		http.NotFound(w, r)
		return
	}
	ui.mu.Lock()
	p := ui.prompts[parts[0]]
	ui.mu.Unlock()
	if p == nil || subtle.ConstantTimeCompare([]byte(parts[1]), []byte(p.secret)) != 1 {
		http.Error(w, "this request is over or unknown", http.StatusGone)
		return
	}
	switch {
	case len(parts) == 2 && r.Method == http.MethodGet:
		data, _ := uiFiles.ReadFile("ui/prompt.html")
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.Write(data)
	case len(parts) == 3 && parts[2] == "info" && r.Method == http.MethodGet:
		p.mu.Lock()
		info := p.info
		p.mu.Unlock()
		writeJSON(w, http.StatusOK, info)
	case len(parts) == 2 && r.Method == http.MethodPost:
		ui.answer(w, r, p)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
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
	var a pageAnswer
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&a); err != nil {
		http.Error(w, "bad answer", http.StatusBadRequest)
		return
	}
	select {
	case p.answers <- a:
	case <-p.closed:
		writeJSON(w, http.StatusOK, pageOutcome{Status: "error", Message: "Запрос уже завершён."})
		return
	case <-r.Context().Done():
		return
	}
	a.PIN = ""
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

// openBrowser opens url in the system's browser.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		cmd = exec.Command("open", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
