package serve

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/revocation"
	"github.com/kepkit/kep/verify/login"
)

// Server is a kep serve instance. It keeps no state a request depends on
// beyond its configuration, its caches and the trust it loaded: login
// nonces live in the nonce store (Redis for several instances).
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	keys    *apiKeys
	store   login.NonceStore
	shared  *shared
	seen    *seenCerts
	trust   atomic.Pointer[trustState]
	// checkers holds one revocation checker per (mode, soft-fail).
	checkers map[string]certs.RevocationChecker
	sem      chan struct{}
	closing  atomic.Bool
	origins  map[string]bool
	now      func() time.Time
	handler  http.Handler
}

// New builds a server from cfg (defaults filled in), loading the trust
// files, the API keys and the trust list, and opening the nonce store.
// Close releases the store and the shared cache.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, log: log, metrics: newMetrics(), sem: make(chan struct{}, cfg.MaxConcurrent), now: time.Now}
	var err error
	if cfg.APIKeys != "" {
		if s.keys, err = loadAPIKeys(cfg.APIKeys); err != nil {
			return nil, fmt.Errorf("serve: api keys: %w", err)
		}
	}
	if _, err := revocation.ParseMode(cfg.Revocation); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	if len(cfg.LoginOrigins) > 0 {
		s.origins = map[string]bool{}
		for _, o := range cfg.LoginOrigins {
			n, err := login.NormalizeOrigin(o)
			if err != nil {
				return nil, fmt.Errorf("serve: login origin: %w", err)
			}
			s.origins[n] = true
		}
	}
	if cfg.SharedCache != "" {
		if s.shared, err = openShared(cfg.SharedCache); err != nil {
			return nil, err
		}
	}
	s.seen = &seenCerts{mem: newMemCache[seenEntry](maxSeen), shared: s.shared, now: s.now}
	if s.store, err = login.OpenStore(cfg.NonceStore); err != nil {
		s.Close()
		return nil, fmt.Errorf("serve: nonce store: %w", err)
	}
	s.checkers = map[string]certs.RevocationChecker{}
	client := &http.Client{Transport: &countingTransport{next: http.DefaultTransport, m: s.metrics}}
	revMem := newMemCache[*certs.RevocationStatus](100000)
	for _, mode := range []revocation.Mode{revocation.ModeAuto, revocation.ModeOCSP, revocation.ModeCRL} {
		for _, soft := range []bool{false, true} {
			key := policyKey(string(mode), soft)
			c := &revocation.Checker{HTTP: client, CacheDir: cfg.CRLCacheDir, Policy: revocation.Policy{Mode: mode, SoftFail: soft}}
			s.checkers[key] = &cachingChecker{next: c, key: key, ttl: time.Duration(cfg.RevocationCacheTTL), mem: revMem, shared: s.shared, m: s.metrics, now: s.now}
		}
	}
	if err := s.ReloadTrust(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("serve: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

func policyKey(mode string, soft bool) string {
	if soft {
		return mode + "+soft"
	}
	return mode
}

// checker returns the revocation checker for a mode ("" the configured
// default), nil for off.
func (s *Server) checker(mode string, soft *bool) (certs.RevocationChecker, error) {
	if mode == "" {
		mode = s.cfg.Revocation
	}
	m, err := revocation.ParseMode(mode)
	if err != nil {
		return nil, err
	}
	if m == revocation.ModeOff {
		return nil, nil
	}
	sf := s.cfg.SoftFail
	if soft != nil {
		sf = *soft
	}
	return s.checkers[policyKey(string(m), sf)], nil
}

// Close releases the nonce store and the shared cache.
func (s *Server) Close() error {
	if c, ok := s.store.(io.Closer); ok {
		c.Close()
	}
	if s.shared != nil {
		s.shared.client.Close()
	}
	return nil
}

// Handler returns the HTTP handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer returns the http.Server kep serve runs: every timeout set,
// HTTP/2 with TLS.
func (s *Server) HTTPServer() (*http.Server, error) {
	hs := &http.Server{
		Addr:              s.cfg.Listen,
		Handler:           s.handler,
		ReadHeaderTimeout: time.Duration(s.cfg.ReadHeaderTimeout),
		ReadTimeout:       time.Duration(s.cfg.ReadTimeout),
		WriteTimeout:      time.Duration(s.cfg.WriteTimeout),
		IdleTimeout:       time.Duration(s.cfg.IdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if s.cfg.TLSCert != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
		if s.cfg.ClientCA != "" {
			pem, err := os.ReadFile(s.cfg.ClientCA)
			if err != nil {
				return nil, err
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("serve: %s: no PEM certificates", s.cfg.ClientCA)
			}
			tc.ClientCAs = pool
			tc.ClientAuth = tls.VerifyClientCertIfGiven
			if s.keys == nil {
				tc.ClientAuth = tls.RequireAndVerifyClientCert
			}
		}
		hs.TLSConfig = tc
	}
	hs.Protocols = new(http.Protocols)
	hs.Protocols.SetHTTP1(true)
	hs.Protocols.SetHTTP2(true)
	return hs, nil
}

// Serve answers on ln until ctx ends, then stops taking connections and
// waits (up to ShutdownTimeout) for the requests in flight to finish.
// It refreshes the trust list on schedule meanwhile.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs, err := s.HTTPServer()
	if err != nil {
		return err
	}
	rctx, stop := context.WithCancel(context.Background())
	defer stop()
	if s.cfg.TrustList != "" {
		go s.refreshTrust(rctx, time.Duration(s.cfg.TrustListRefresh))
	}
	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLSCert != "" {
			errc <- hs.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	s.log.Info("listening", "addr", ln.Addr().String(), "tls", s.cfg.TLSCert != "", "maxConcurrent", s.cfg.MaxConcurrent,
		"nonceStore", storeKind(s.cfg.NonceStore), "trust", s.trust.Load().info())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.closing.Store(true)
	s.log.Info("shutting down: finishing the requests in flight", "timeout", time.Duration(s.cfg.ShutdownTimeout).String())
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.cfg.ShutdownTimeout))
	defer cancel()
	err = hs.Shutdown(sctx)
	if err != nil {
		s.log.Warn("shutdown timed out; closing the remaining connections", "err", err.Error())
		hs.Close()
	}
	s.log.Info("stopped")
	return err
}

func storeKind(spec string) string {
	switch {
	case spec == "memory":
		return "memory"
	case len(spec) > 5 && (spec[:5] == "redis" || spec[:5] == "unix:"):
		return "redis"
	}
	return "directory"
}

// ---- middleware ----

type ctxKey int

const reqIDKey ctxKey = 0

var reqIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// statusWriter remembers what was answered, for the log and the metrics.
type statusWriter struct {
	http.ResponseWriter
	status  int
	code    string
	written int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// endpoint is one route: its name in metrics and logs, whether it needs
// authentication and a concurrency slot, and its handler, which returns
// an outcome label or an *Error.
type endpoint struct {
	name    string
	auth    bool
	limited bool
	h       func(w http.ResponseWriter, r *http.Request) (outcome string, err error)
}

func (s *Server) wrap(ep endpoint) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !reqIDPattern.MatchString(id) {
			id = newRequestID()
		}
		w := &statusWriter{ResponseWriter: rw}
		w.Header().Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), reqIDKey, id))
		s.metrics.inFlight.Inc()
		outcome, caller := "", ""
		var failure *Error
		defer func() {
			if p := recover(); p != nil {
				failure = errInternal(fmt.Errorf("panic: %v", p))
				if w.status == 0 {
					writeError(w, failure)
				}
				outcome = failure.Code
			}
			s.metrics.inFlight.Dec()
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(ep.name, outcome).Inc()
			s.metrics.latency.WithLabelValues(ep.name, outcome).Observe(d.Seconds())
			attrs := []any{"id", id, "endpoint", ep.name, "method", r.Method, "status", w.status, "outcome", outcome,
				"ms", float64(d.Microseconds()) / 1000, "in", r.ContentLength, "out", w.written, "proto", r.Proto}
			if caller != "" {
				attrs = append(attrs, "caller", caller)
			}
			level := slog.LevelInfo
			if failure != nil {
				if failure.Err != nil {
					attrs = append(attrs, "err", failure.Err.Error())
				}
				if failure.Status >= 500 {
					level = slog.LevelError
				}
			}
			s.log.Log(context.Background(), level, "request", attrs...)
		}()
		fail := func(e *Error) {
			failure, outcome = e, e.Code
			writeError(w, e)
		}
		if ep.auth {
			name, ok := s.caller(r)
			if !ok {
				fail(errUnauthorized)
				return
			}
			caller = name
		}
		if ep.limited {
			if s.closing.Load() {
				fail(errShuttingDown)
				return
			}
			t := time.NewTimer(time.Duration(s.cfg.QueueWait))
			select {
			case s.sem <- struct{}{}:
				t.Stop()
				defer func() { <-s.sem }()
			case <-t.C:
				fail(errBusy)
				return
			case <-r.Context().Done():
				t.Stop()
				fail(asError(r.Context().Err(), 0))
				return
			}
		}
		o, err := ep.h(w, r)
		if err != nil {
			e := asError(err, s.cfg.MaxBodyBytes)
			if w.status != 0 {
				// The answer had started: nothing more can be said.
				failure, outcome = e, e.Code
				return
			}
			fail(e)
			return
		}
		outcome = o
		if outcome == "" {
			outcome = "ok"
		}
	})
}

// slowBody fails a body that arrives slower than minRate bytes/s once grace
// has passed, and one that stalls for grace; the per-read deadline
// interrupts a read that waits.
type slowBody struct {
	r       io.ReadCloser
	rc      *http.ResponseController
	start   time.Time
	n       int64
	minRate int64
	grace   time.Duration
	// closeConn marks an HTTP/1 connection to close after the answer.
	closeConn func()
}

var errSlowBody = &timeoutError{}

type timeoutError struct{}

func (*timeoutError) Error() string   { return "the body arrives too slowly" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }

func (b *slowBody) Read(p []byte) (int, error) {
	b.rc.SetReadDeadline(time.Now().Add(b.grace))
	n, err := b.r.Read(p)
	b.n += int64(n)
	if el := time.Since(b.start); el > b.grace && float64(b.n)/el.Seconds() < float64(b.minRate) {
		// Without Connection: close net/http would wait for up to
		// 256 KiB more of the body before answering.
		if b.closeConn != nil {
			b.closeConn()
		}
		return n, errSlowBody
	}
	return n, err
}

func (b *slowBody) Close() error { return b.r.Close() }

// limitBody bounds and paces r.Body.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request, limit int64) io.Reader {
	grace := 10 * time.Second
	if s.cfg.SlowBodyGrace > 0 {
		grace = time.Duration(s.cfg.SlowBodyGrace)
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	sb := &slowBody{r: body, rc: http.NewResponseController(w), start: time.Now(), minRate: s.cfg.MinBodyRate, grace: grace}
	if r.ProtoMajor == 1 {
		sb.closeConn = func() { w.Header().Set("Connection", "close") }
	}
	return sb
}

// errAs is errors.As for the handlers' use.
func errAs[T error](err error) (T, bool) {
	var t T
	ok := errors.As(err, &t)
	return t, ok
}
