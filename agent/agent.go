package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/user"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/peercred"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/sign"
)

// DefaultPort is where browsers find the agent.
const DefaultPort = 24321

// DenialCooldown is how long a site the user refused may not ask again; it
// holds for the whole registrable domain (every sub-origin of the site).
const DenialCooldown = time.Minute

// ProtocolVersion is the version of the JSON-RPC method set; agent.info
// reports it.
const ProtocolVersion = 1

// Config configures an Agent. The zero value of each field is the strict
// choice: no pre-approved origins, no page PINs, the default limits.
type Config struct {
	// Port to listen on (DefaultPort when zero); 0 with EphemeralPort picks a free one.
	Port          int
	EphemeralPort bool
	// TLS, when set, also serves wss:// on TLSPort (Port+1 when zero; a free
	// one with EphemeralPort) with this certificate (see EnsureLocalTLS).
	TLS     *tls.Certificate
	TLSPort int
	// Keys are the tokens (required).
	Keys *keystore.Store
	// Roots and Intermediates are used by verify and certs.check.
	Roots, Intermediates []*certs.Certificate
	// AllowOrigins are approved without asking.
	AllowOrigins []string
	// PagePINOrigins may pass the PIN in the request ("pin" param) instead
	// of the agent's window: for kiosks and automated clients. They are
	// approved without asking, and a request that carries the PIN is signed
	// with no window at all (it is still written to the audit log): the
	// operator who lists an origin here hands it the key.
	PagePINOrigins []string
	// Sites keeps the origins the user approved (in memory when nil).
	Sites *Sites
	// UI asks the user (required).
	UI UI
	// Timestamper, when set, makes every signature CAdES-T (tsp.Client
	// for the configured TSA).
	Timestamper sign.Timestamper
	// PINCache, when positive, keeps the PIN the user typed for a token that
	// long, for the site it was typed for: later signatures of that site are
	// still approved in the agent's window, but without typing the PIN. Off
	// (zero) by default.
	PINCache time.Duration
	// Identity proves to pages that they speak to this user's agent
	// (agent.prove); NewIdentity's, kept in memory only, when nil.
	Identity *Identity
	// Audit logs every operation (none when nil).
	Audit *AuditLog
	// Limits bound what clients may do.
	Limits Limits
	// Version is reported by agent.info.
	Version string
	Logger  *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// SoftToken says that Keys includes a software token (for diagnostics:
	// no PKCS#11 module is needed then).
	SoftToken bool
}

// Limits bound the load a client can put on the agent. Zero fields take the
// defaults given. A site the user has not approved gets a small share: it
// can only ask for access, and must not be able to crowd out or exhaust the
// agent for the sites the user works with.
type Limits struct {
	MaxMessage     int64         // bytes of one WebSocket message (8 MiB)
	MaxConnections int           // at once (128)
	MaxInFlight    int           // requests under way per connection (4)
	MaxRequests    int           // per connection, then it is closed (100000)
	MaxUploads     int           // open uploads per connection (4)
	WriteTimeout   time.Duration // for a slow reader (10s)
	IdleTimeout    time.Duration // without any message or pong (2 minutes)

	// MaxChunksInFlight is how many upload.chunk messages of a connection
	// the agent holds at once (2: one hashed, the next read); it reads no
	// further message until one is done. At most MaxInFlight.
	MaxChunksInFlight int

	// Sites not approved: bytes of one message (64 KiB), connections in
	// all (32), per registrable domain (8) and per origin (4), and how long
	// such a connection may stay without a request under way (1 minute;
	// pongs do not keep it).
	MaxUnapprovedMessage     int64
	MaxUnapprovedConnections int
	MaxUnapprovedPerDomain   int
	MaxUnapprovedPerOrigin   int
	UnapprovedIdle           time.Duration

	// HTTPReadTimeout bounds reading one HTTP request, headers and body
	// (30 s); HTTPIdleTimeout closes a keep-alive connection that sends no
	// next request (1 minute).
	HTTPReadTimeout time.Duration
	HTTPIdleTimeout time.Duration

	// MessageBudget is the memory all messages being read or served may
	// take together (128 MiB); a client waiting for it longer than
	// WriteTimeout is disconnected.
	MessageBudget int64
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxConnections, 128)
	def(&l.MaxInFlight, 4)
	def(&l.MaxRequests, 100000)
	def(&l.MaxUploads, 4)
	def(&l.MaxChunksInFlight, 2)
	l.MaxChunksInFlight = min(l.MaxChunksInFlight, l.MaxInFlight)
	def(&l.MaxUnapprovedConnections, 32)
	def(&l.MaxUnapprovedPerDomain, 8)
	def(&l.MaxUnapprovedPerOrigin, 4)
	if l.MaxMessage <= 0 {
		l.MaxMessage = 8 << 20
	}
	if l.MaxUnapprovedMessage <= 0 {
		l.MaxUnapprovedMessage = 64 << 10
	}
	if l.MaxUnapprovedMessage > l.MaxMessage {
		l.MaxUnapprovedMessage = l.MaxMessage
	}
	if l.MessageBudget <= 0 {
		l.MessageBudget = 128 << 20
	}
	if l.MessageBudget < 2*l.MaxMessage {
		l.MessageBudget = 2 * l.MaxMessage // one message and its params' copy
	}
	if l.UnapprovedIdle <= 0 {
		l.UnapprovedIdle = time.Minute
	}
	if l.HTTPReadTimeout <= 0 {
		l.HTTPReadTimeout = 30 * time.Second
	}
	if l.HTTPIdleTimeout <= 0 {
		l.HTTPIdleTimeout = time.Minute
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = 10 * time.Second
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 2 * time.Minute
	}
	return l
}

// Agent serves browsers on the loopback interface.
type Agent struct {
	cfg     Config
	limits  Limits
	log     *slog.Logger
	sites   *Sites
	allowed map[string]bool
	pagePIN map[string]bool
	redact  redactor // local paths in the errors sites see

	port      int
	tlsPort   int
	hosts     map[string]bool // Host headers accepted
	ownOrigin []string        // the agent's own page origins
	servers   []*http.Server
	upgrader  websocket.Upgrader
	quota     *connQuota
	budget    *budget
	turns     *turns
	identity  *Identity

	mu     sync.Mutex
	conns  map[*conn]bool
	access map[string]*accessWait // pending consent per origin
	denied map[string]time.Time   // until when a refused registrable domain may not ask again
	pins   *pinCache              // nil unless Config.PINCache
	relays []net.Listener         // the native host's relay sockets (relay.go)

	servedWS, servedRelay atomic.Int64
	memory                memoryRelease // memory.go
}

// accessWait is one access window, shared by the requests of one origin;
// it closes when the last of them goes away (the page was closed).
type accessWait struct {
	done    chan struct{}
	err     error
	waiters int
	cancel  context.CancelFunc
}

// New checks cfg and returns an Agent; Listen starts it.
func New(cfg Config) (*Agent, error) {
	if cfg.Keys == nil || cfg.UI == nil {
		return nil, errors.New("agent: Config.Keys and Config.UI are required")
	}
	a := &Agent{cfg: cfg, limits: cfg.Limits.withDefaults(), log: cfg.Logger, sites: cfg.Sites, redact: newRedactor(),
		allowed: map[string]bool{}, pagePIN: map[string]bool{}, conns: map[*conn]bool{},
		access: map[string]*accessWait{}, denied: map[string]time.Time{}, turns: newTurns(), identity: cfg.Identity}
	if a.identity == nil {
		a.identity = NewIdentity()
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.sites == nil {
		a.sites = OpenSites("")
	}
	if cfg.PINCache > 0 {
		a.pins = newPINCache(cfg.PINCache, a.now)
	}
	for _, list := range []struct {
		in  []string
		out map[string]bool
	}{{cfg.AllowOrigins, a.allowed}, {cfg.PagePINOrigins, a.pagePIN}} {
		for _, o := range list.in {
			n, err := CheckOrigin(o)
			if err != nil {
				return nil, err
			}
			list.out[n] = true
		}
	}
	a.quota = newConnQuota(a.limits)
	a.budget = newBudget(a.limits.MessageBudget)
	a.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// The Origin was checked before the upgrade (see serveWS).
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return a, nil
}

func (a *Agent) now() time.Time {
	if a.cfg.Now != nil {
		return a.cfg.Now()
	}
	return time.Now()
}

// Listen binds 127.0.0.1 and [::1] (when the system has IPv6) on the port
// and serves until ctx ends or Close. It returns once listening.
func (a *Agent) Listen(ctx context.Context) error {
	port := a.cfg.Port
	if port == 0 && !a.cfg.EphemeralPort {
		port = DefaultPort
	}
	l4, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return portTakenError(port, err)
	}
	a.port = l4.Addr().(*net.TCPAddr).Port
	listeners := []net.Listener{l4}
	if l6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(a.port))); err == nil {
		listeners = append(listeners, l6)
	} else {
		a.log.Info("not listening on [::1]", "err", err)
	}
	var tlsListeners []net.Listener
	if a.cfg.TLS != nil {
		tp := a.cfg.TLSPort
		if tp == 0 && !a.cfg.EphemeralPort {
			tp = a.port + 1
		}
		conf := &tls.Config{Certificates: []tls.Certificate{*a.cfg.TLS}, MinVersion: tls.VersionTLS12}
		t4, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(tp)))
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return fmt.Errorf("agent: TLS: %w", portTakenError(tp, err))
		}
		a.tlsPort = t4.Addr().(*net.TCPAddr).Port
		tlsListeners = append(tlsListeners, tls.NewListener(a.onlyUser(t4), conf))
		if t6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(a.tlsPort))); err == nil {
			tlsListeners = append(tlsListeners, tls.NewListener(a.onlyUser(t6), conf))
		}
	}
	a.hosts = map[string]bool{}
	for scheme, port := range map[string]int{"http": a.port, "https": a.tlsPort} {
		if port == 0 {
			continue
		}
		p := strconv.Itoa(port)
		for _, h := range []string{"127.0.0.1", "[::1]", "localhost"} {
			a.hosts[h+":"+p] = true
			a.ownOrigin = append(a.ownOrigin, scheme+"://"+h+":"+p)
		}
	}
	if pu, ok := a.cfg.UI.(*PageUI); ok {
		pu.setBase("http://127.0.0.1:"+strconv.Itoa(a.port), a.ownOrigin)
	}
	for i, l := range listeners {
		listeners[i] = a.onlyUser(l)
	}
	h := a.Handler()
	for _, l := range append(listeners, tlsListeners...) {
		// Every timeout set: a connection that sends nothing, or a body
		// that never ends, is closed. WebSockets set their own deadlines
		// once upgraded; a prompt's answer waits up to the prompt's time.
		srv := &http.Server{Handler: h, ReadHeaderTimeout: min(10*time.Second, a.limits.HTTPReadTimeout), ReadTimeout: a.limits.HTTPReadTimeout,
			IdleTimeout: a.limits.HTTPIdleTimeout, MaxHeaderBytes: 16 << 10, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelDebug)}
		a.servers = append(a.servers, srv)
		go srv.Serve(l)
	}
	go a.watchTokens(ctx)
	go func() {
		<-ctx.Done()
		a.Close()
	}()
	return nil
}

func (a *Agent) onlyUser(l net.Listener) net.Listener {
	return &userListener{Listener: l, uid: peercred.CurrentUID(), log: a.log}
}

// portTakenError says who holds the port, where the system tells.
func portTakenError(port int, err error) error {
	if o, lerr := peercred.Listener(port); lerr == nil {
		who := "user " + strconv.Itoa(o.UID)
		if u, uerr := user.LookupId(strconv.Itoa(o.UID)); uerr == nil {
			who = "user " + u.Username
		}
		if o.PID > 0 {
			who += ", process " + strconv.Itoa(o.PID) + " " + o.Command
		}
		if o.UID != peercred.CurrentUID() {
			return fmt.Errorf("agent: port %d is taken by another local user's program (%s): pages would talk to it, not to kep; stop it or pick another port: %w", port, who, err)
		}
		return fmt.Errorf("agent: port %d is taken (%s; is another kep agent running?): %w", port, who, err)
	}
	return fmt.Errorf("agent: %w (is another kep agent running?)", err)
}

// Port is the port the agent listens on.
func (a *Agent) Port() int { return a.port }

// TLSPort is the port of wss://, 0 without TLS.
func (a *Agent) TLSPort() int { return a.tlsPort }

// Close stops the agent and closes every connection.
func (a *Agent) Close() error {
	a.pins.clearAll()
	a.memory.stop()
	var errs []error
	for _, s := range a.servers {
		errs = append(errs, s.Close())
	}
	a.mu.Lock()
	for c := range a.conns {
		c.t.Close()
	}
	for _, l := range a.relays {
		errs = append(errs, l.Close())
	}
	a.mu.Unlock()
	return errors.Join(errs...)
}

// Handler is the agent's HTTP handler: the discovery endpoint at /, the
// WebSocket at /ws, the JS client at /kep.js and the agent's own pages at /ui/.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", a.serveWS)
	mux.HandleFunc("/ui/", a.serveUI)
	mux.HandleFunc("/kep.js", serveClient)
	mux.HandleFunc("/kep.d.ts", serveClient)
	mux.HandleFunc("/cadesplugin.js", serveClient) // the CryptoPro plug-in API (cadesapi.go)
	mux.HandleFunc("/", a.serveDiscovery)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends
		// Host: evil.example.
		if !a.hosts[r.Host] {
			http.Error(w, "kep agent: wrong Host", http.StatusMisdirectedRequest)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (a *Agent) serveUI(w http.ResponseWriter, r *http.Request) {
	pu, ok := a.cfg.UI.(*PageUI)
	if !ok {
		http.NotFound(w, r)
		return
	}
	pu.serveUI(w, r)
}

// Discovery is what GET / answers: cheap, for pages checking whether the
// agent runs (and for Chrome's Local Network Access permission prompt). It
// proves nothing by itself: any program on the port can answer the same;
// kep.js checks agent.prove once the site is approved.
type Discovery struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Protocol int    `json:"protocol"`
	WS       string `json:"ws"`
	WSS      string `json:"wss,omitempty"`
}

func (a *Agent) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	if origin, err := CheckOrigin(r.Header.Get("Origin")); err == nil {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Vary", "Origin")
		// Chrome's Private/Local Network Access preflight.
		if r.Header.Get("Access-Control-Request-Private-Network") == "true" || r.Header.Get("Access-Control-Request-Local-Network") == "true" {
			h.Set("Access-Control-Allow-Private-Network", "true")
			h.Set("Access-Control-Allow-Local-Network", "true")
		}
	}
	switch r.Method {
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "GET")
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet, http.MethodHead:
		d := Discovery{Name: "kep", Version: a.cfg.Version, Protocol: ProtocolVersion,
			WS: "ws://127.0.0.1:" + strconv.Itoa(a.port) + "/ws"}
		if a.tlsPort != 0 {
			d.WSS = "wss://127.0.0.1:" + strconv.Itoa(a.tlsPort) + "/ws"
		}
		writeJSON(w, http.StatusOK, d)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// approved reports whether origin may call more than agent.info.
func (a *Agent) approved(origin string) bool {
	return a.allowed[origin] || a.pagePIN[origin] || a.sites.Approved(origin)
}

// allows reports whether origin may see and use the certificate: every
// certificate for origins the operator listed, the user's choice for the
// others.
func (a *Agent) allows(origin, certID string) bool {
	if a.allowed[origin] || a.pagePIN[origin] {
		return true
	}
	site, ok := a.sites.Lookup(origin)
	return ok && site.Allows(certID)
}

// coolingDown returns until when origin's registrable domain may not ask
// the user again, or the zero time.
func (a *Agent) coolingDown(origin string) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	until, ok := a.denied[registrableDomain(origin)]
	if ok && a.now().Before(until) {
		return until
	}
	return time.Time{}
}

// requestAccess asks the user once per origin at a time; concurrent
// requests of one origin share the window, which closes when the last of
// them goes away. Windows of all sites take turns (a.turns).
func (a *Agent) requestAccess(ctx context.Context, origin string) error {
	if a.approved(origin) {
		return nil
	}
	if until := a.coolingDown(origin); !until.IsZero() {
		return coolDownError(origin, until)
	}
	a.mu.Lock()
	w, waiting := a.access[origin]
	if waiting && w.waiters == 0 {
		waiting = false // its window is closing: the last page that asked went away
	}
	if !waiting {
		pctx, cancel := context.WithCancel(context.Background())
		w = &accessWait{done: make(chan struct{}), cancel: cancel}
		a.access[origin] = w
		go a.askAccess(pctx, origin, w)
	}
	w.waiters++
	a.mu.Unlock()
	leave := func() {
		a.mu.Lock()
		if w.waiters--; w.waiters == 0 {
			w.cancel() // nobody waits for the answer any more: close the window
		}
		a.mu.Unlock()
	}
	select {
	case <-w.done:
		leave()
		if errors.Is(w.err, ErrDenied) {
			if until := a.coolingDown(origin); !until.IsZero() {
				return coolDownError(origin, until)
			}
			return rpcError(ReasonConsentDenied, "the user did not allow %s", origin)
		}
		return w.err
	case <-ctx.Done():
		leave()
		return ctx.Err()
	}
}

// coolDownError says the site was refused and when it may ask again.
func coolDownError(origin string, until time.Time) *Error {
	e := rpcError(ReasonConsentDenied, "the user did not allow %s; it may ask again after %s", registrableDomain(origin), until.Format(time.TimeOnly))
	e.Data.MessageRU += ". Сайт сможет снова спросить разрешения после " + until.Local().Format("15:04:05") + ": обновите страницу тогда"
	e.Data.Details = map[string]any{"retryAfter": until.UTC().Format(time.RFC3339)}
	return e
}

func (a *Agent) askAccess(ctx context.Context, origin string, w *accessWait) {
	err := func() error {
		release, err := a.turns.wait(ctx, origin)
		if err != nil {
			return err
		}
		defer release()
		// Refused meanwhile (another sub-origin's window), or approved.
		if until := a.coolingDown(origin); !until.IsZero() {
			return ErrDenied
		}
		if a.approved(origin) {
			return nil
		}
		req := AccessRequest{Origin: origin}
		req.Certificates, _ = a.cfg.Keys.Certificates(ctx)
		g, err := a.cfg.UI.Access(ctx, req)
		if errors.Is(err, ErrDenied) {
			// A refused site cannot reopen the window at once, nor can
			// its other sub-origins: recorded before the next window in
			// line gets the turn.
			a.mu.Lock()
			a.denied[registrableDomain(origin)] = a.now().Add(DenialCooldown)
			a.mu.Unlock()
		}
		if err != nil {
			return err
		}
		return a.sites.Approve(origin, a.now(), g)
	}()
	a.audit(AuditEntry{Origin: origin, Method: "agent.requestAccess", Result: resultOf(err)})
	a.mu.Lock()
	w.err = err
	if a.access[origin] == w {
		delete(a.access, origin)
	}
	a.mu.Unlock()
	w.cancel()
	close(w.done)
}

func (a *Agent) audit(e AuditEntry) {
	if e.Time.IsZero() {
		e.Time = a.now().UTC()
	}
	if err := a.cfg.Audit.Log(e); err != nil {
		a.log.Error("audit log", "err", err)
	}
}

func resultOf(err error) string {
	if err == nil {
		return "ok"
	}
	return toRPCError(err).Data.Reason
}

// watchTokens sends tokens.changed to approved connections.
func (a *Agent) watchTokens(ctx context.Context) {
	for ev := range a.cfg.Keys.Watch(ctx, 2*time.Second) {
		full := map[string]any{"event": ev.Kind.String(), "token": tokenJSON(keystore.Token{Source: keystore.SourcePKCS11, Info: ev.Token})}
		// A site given chosen certificates learns that tokens changed, not
		// which: it asks certs.list again.
		bare := map[string]any{"event": ev.Kind.String()}
		a.mu.Lock()
		for c := range a.conns {
			if site, ok := a.sites.Lookup(c.origin); ok && site.Scope == ScopeChosen {
				go c.notify("tokens.changed", bare)
			} else if a.approved(c.origin) {
				go c.notify("tokens.changed", full)
			}
		}
		a.mu.Unlock()
	}
}
