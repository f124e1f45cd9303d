// Package keystore gathers the signing identities of every PKCS#11 token,
// of the software token and of CryptoPro CSP key containers used in place
// into one list, and lends out a certificate's
// key as a crypto.Signer for the length of one operation: log in (asking the
// caller's UI for the PIN), sign, log out. The agent, `kep certs list` and
// `kep doctor` see tokens through it.
//
// Certificates are named by their SHA-1 thumbprint in upper-case hex, the
// identifier CryptoPro shows and users already know; a certificate present
// on two tokens is listed once, from the first source (explicit modules, then
// the software token, then CryptoPro containers, then discovered modules).
//
// A CryptoPro container (Config.CryptoPro, Config.CryptoProSearch) is a
// Token of its own, Source SourceCryptoPro, holding one Entry: the
// certificate in its header.key or in a file beside it. Its password is
// asked through UI.RequestPIN like a PIN (PINRequest.Token.Source tells
// which); the empty password, which many containers have, is tried first
// without asking. A container counts no tries and never locks. Its key is
// decrypted for each operation and destroyed after it (or kept by
// UI.ContainerKeys); the container is only read.
//
// # Warnings
//
//   - Nothing is cached between calls: Certificates reads the tokens again,
//     so a removed token disappears from the next list. Reading a hardware
//     token takes tens to hundreds of milliseconds.
//   - Use logs out after every operation: the PIN is asked again next time.
//     PIN caching is the caller's decision and is not done here.
//   - A PIN the token refused is reported to the UI on the next request
//     (PINRequest.Attempt > 1, PINRequest.Retry). A UI that cannot ask a
//     person — a PIN supplied by a script or a page — must refuse such a
//     retry by returning an error, or it burns the token's tries.
//   - p11-kit-proxy found at its well-known path is skipped: it loads the
//     same modules again and the two would share login state. Name it in
//     Config.Modules to use it anyway.
package keystore

import (
	"context"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/soft"
)

// Config says where the keys are. The zero value has none.
type Config struct {
	// Modules are PKCS#11 libraries to use, in this order.
	Modules []string
	// Discover adds the modules of the user's modules.json and the vendors'
	// usual install paths (pkcs11.Discovery).
	Discover bool
	// SoftDir is the software token's directory; empty for none.
	SoftDir string
	// CryptoPro are CryptoPro CSP key containers used in place, without
	// importing: folders (abcdefgh.000) or zips of one.
	CryptoPro []string
	// CryptoProSearch adds, at each listing, the containers found in
	// CryptoProRoots, or in CryptoPro's usual places when that is empty
	// (cryptopro.Locations, looked up each time: the user's key store and
	// removable drives). A search's result is reused for 2 seconds.
	CryptoProSearch bool
	CryptoProRoots  []string
	// OnWork, when set, is told how long each listing of the tokens
	// (Certificates, Find) and each Use or UseEntry kept the tokens at work
	// (for benchmarks and diagnostics).
	OnWork func(Work)
}

// Work is what one listing or one use of a token took.
type Work struct {
	Op    string // "list" (Certificates, Find) or "use" (Use, UseEntry)
	Entry *Entry // the entry used (Op "use")
	// Time is the time spent less PINWait: for a use, opening the token,
	// logging in, finding the key and the caller's fn.
	Time time.Duration
	// PINWait is the time spent in UI.RequestPIN.
	PINWait time.Duration
	Err     error
}

// Source kinds.
const (
	SourcePKCS11    = "pkcs11"
	SourceSoft      = "soft"
	SourceCryptoPro = "cryptopro" // a CryptoPro CSP key container; Module is its path
)

// Token is a token kep can see.
type Token struct {
	Source string // SourcePKCS11 or SourceSoft
	// Module is the PKCS#11 library, or the software token's directory.
	Module string
	Info   pkcs11.TokenInfo
}

// Key states of an Entry.
const (
	KeyPresent       = "present"        // the private key is there and matches
	KeyLoginRequired = "login-required" // the token hides private keys until login
	KeyMissing       = "missing"        // no private key with the certificate's CKA_ID
	KeyMismatch      = "mismatch"       // the key is not the certificate's key
	KeyUnsupported   = "unsupported"    // a key kep cannot sign with
)

// Entry is a certificate on a token.
type Entry struct {
	// ID is the certificate's SHA-1 thumbprint, upper-case hex.
	ID          string
	KeyID       []byte // CKA_ID
	Label       string
	Token       Token
	Certificate *certs.Certificate
	// Chain holds the further certificates stored with it (software token).
	Chain []*certs.Certificate
	// Key is one of the Key* states; KeyErr says why for the others.
	Key    string
	KeyErr error
	// NonExportable is set for a CryptoPro container whose key CryptoPro
	// marked non-exportable: kep still signs with it (the user owns the
	// key) and says so.
	NonExportable bool
}

// CanSign reports whether the entry may be used to sign, perhaps after a login.
func (e *Entry) CanSign() bool { return e.Key == KeyPresent || e.Key == KeyLoginRequired }

// AsksPIN reports whether using the entry asks the UI for a PIN or
// password: not for a token with a PIN pad, nor for a CryptoPro container
// that the empty password opens.
func (e *Entry) AsksPIN() bool {
	ti := e.Token.Info
	return !ti.ProtectedAuthPath && (e.Token.Source != SourceCryptoPro || ti.LoginRequired)
}

// ErrNotFound: no certificate with the requested ID on any token.
var ErrNotFound = errors.New("keystore: no such certificate on the tokens")

// PINRequest describes a PIN wanted by Use.
type PINRequest struct {
	Token Token  // with its PIN state just before the prompt
	Entry *Entry // the certificate being used
	// Key is empty for the token login, or names the key for the per-use PIN
	// of a key with CKA_ALWAYS_AUTHENTICATE.
	Key string
	// Attempt counts the prompts of this operation, from 1; Retry is the
	// error of the previous attempt (pkcs11.ErrPINIncorrect).
	Attempt int
	Retry   error
}

// UI asks the user for PINs. Returning an error cancels the operation and is
// returned by Use unchanged. The returned slice is zeroed after use.
type UI struct {
	RequestPIN func(ctx context.Context, req PINRequest) ([]byte, error)
	// SoftKeys, when set, keeps the software token's unlocked key for its
	// time (soft.Token.LoginCached): a later use with the same PIN skips
	// the key derivation. The PIN is still asked for and checked.
	SoftKeys *soft.KeyCache
	// ContainerKeys, when set, keeps the keys decrypted from CryptoPro
	// containers for its time: a later use with the same password skips
	// the key derivation. The password is still asked for and checked.
	ContainerKeys *ContainerKeyCache
}

// Store is a set of token sources. It is safe for concurrent use; the
// operations on one token are serialised.
type Store struct {
	cfg      Config
	modules  []*pkcs11.Module
	statuses []pkcs11.ModuleStatus

	containers *containerState

	mu    sync.Mutex
	locks map[string]chan struct{}
}

// Open loads the modules of cfg. A module that does not load is reported
// by Modules, not as an error: the other sources stay usable. Close the
// Store when done.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s := &Store{cfg: cfg, locks: map[string]chan struct{}{}, containers: &containerState{empty: map[string]emptyCheck{}}}
	var statuses []pkcs11.ModuleStatus
	if cfg.Discover {
		statuses = pkcs11.Discovery{Paths: cfg.Modules}.Discover(ctx)
	} else {
		for _, p := range cfg.Modules {
			statuses = append(statuses, pkcs11.ModuleStatus{Path: p, Source: pkcs11.SourceExplicit})
		}
	}
	seen := map[string]bool{}
	for _, st := range statuses {
		if st.Source == pkcs11.SourceWellKnown && st.Vendor == "p11-kit" {
			continue
		}
		if st.Err != nil && st.Source != pkcs11.SourceExplicit || seen[st.Path] {
			s.statuses = append(s.statuses, st)
			continue
		}
		seen[st.Path] = true
		m, err := pkcs11.Open(ctx, st.Path)
		if err != nil {
			st.Loaded, st.Err = false, err
			s.statuses = append(s.statuses, st)
			continue
		}
		st.Loaded, st.Err = true, nil
		if info, err := m.Info(ctx); err == nil {
			st.Info = info
		}
		s.statuses = append(s.statuses, st)
		s.modules = append(s.modules, m)
	}
	return s, nil
}

// Close releases the modules.
func (s *Store) Close() error {
	s.mu.Lock()
	mods := s.modules
	s.modules = nil
	s.mu.Unlock()
	var errs []error
	for _, m := range mods {
		errs = append(errs, m.Close())
	}
	return errors.Join(errs...)
}

// loaded returns the open modules.
func (s *Store) loaded() []*pkcs11.Module {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*pkcs11.Module(nil), s.modules...)
}

// Modules reports the modules tried and whether they loaded.
func (s *Store) Modules() []pkcs11.ModuleStatus {
	return append([]pkcs11.ModuleStatus(nil), s.statuses...)
}

// Tokens lists the tokens present. Errors of single modules are returned
// joined, with the tokens of the others.
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	var out []Token
	var errs []error
	for _, src := range s.sources() {
		toks, err := src.tokens(ctx)
		out = append(out, toks...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// Certificates lists the certificates on every token. Errors of single
// tokens are returned joined, with the certificates of the others.
func (s *Store) Certificates(ctx context.Context) (_ []*Entry, err error) {
	if s.cfg.OnWork != nil {
		start := time.Now()
		defer func() { s.cfg.OnWork(Work{Op: "list", Time: time.Since(start), Err: err}) }()
	}
	var out []*Entry
	var errs []error
	seen := map[string]bool{}
	for _, src := range s.sources() {
		toks, err := src.tokens(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		for _, tok := range toks {
			entries, err := s.withToken(ctx, tok, func() ([]*Entry, error) { return src.entries(ctx, tok) })
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", tok.Info.Label, err))
			}
			for _, e := range entries {
				if !seen[e.ID] {
					seen[e.ID] = true
					out = append(out, e)
				}
			}
		}
	}
	return out, errors.Join(errs...)
}

// Find returns the entry of the certificate whose thumbprint is id (hex,
// any case, spaces and colons ignored).
func (s *Store) Find(ctx context.Context, id string) (*Entry, error) {
	want := NormalizeID(id)
	list, err := s.Certificates(ctx)
	for _, e := range list {
		if e.ID == want {
			return e, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s (%v)", ErrNotFound, want, err)
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, want)
}

// NormalizeID writes a thumbprint the way Entry.ID does.
func NormalizeID(id string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", ":", "", "\u200e", "").Replace(id))
}

// Signer is a key lent out by Use.
type Signer struct {
	crypto.Signer
	Entry *Entry
}

// Use logs in to the token holding the certificate id (asking ui for the
// PIN), calls fn with its key, and logs out. Other operations on the same
// token wait. The Signer must not be kept after fn returns.
func (s *Store) Use(ctx context.Context, id string, ui UI, fn func(Signer) error) error {
	e, err := s.Find(ctx, id)
	if err != nil {
		return err
	}
	return s.UseEntry(ctx, e, ui, fn)
}

// UseEntry is Use for an entry the caller found already (by Certificates or
// Find): the token is not listed again. The key is looked up on the token
// once more and must be the certificate's key, so a token changed in between
// gives an error, never another key.
func (s *Store) UseEntry(ctx context.Context, e *Entry, ui UI, fn func(Signer) error) error {
	if !e.CanSign() {
		return fmt.Errorf("keystore: certificate %s cannot sign: %w", e.ID, e.KeyErr)
	}
	for _, src := range s.sources() {
		if src.owns(e.Token) {
			var start time.Time
			var wait time.Duration
			if s.cfg.OnWork != nil && ui.RequestPIN != nil {
				request := ui.RequestPIN
				ui.RequestPIN = func(ctx context.Context, req PINRequest) ([]byte, error) {
					t := time.Now()
					defer func() { wait += time.Since(t) }()
					return request(ctx, req)
				}
			}
			_, err := s.withToken(ctx, e.Token, func() ([]*Entry, error) {
				start = time.Now()
				return nil, src.use(ctx, e, ui, fn)
			})
			if s.cfg.OnWork != nil && !start.IsZero() {
				s.cfg.OnWork(Work{Op: "use", Entry: e, Time: time.Since(start) - wait, PINWait: wait, Err: err})
			}
			return err
		}
	}
	return fmt.Errorf("%w: %s (its token is gone)", ErrNotFound, e.ID)
}

// Watch reports token insertions and removals on the PKCS#11 modules,
// polling every interval, until ctx ends.
func (s *Store) Watch(ctx context.Context, interval time.Duration) <-chan pkcs11.Event {
	out := make(chan pkcs11.Event)
	var wg sync.WaitGroup
	for _, m := range s.loaded() {
		wg.Add(1)
		go func(ch <-chan pkcs11.Event) {
			defer wg.Done()
			for ev := range ch {
				select {
				case out <- ev:
				case <-ctx.Done():
				}
			}
		}(m.Watch(ctx, interval))
	}
	go func() { wg.Wait(); close(out) }()
	return out
}

// withToken runs fn holding the token's lock.
func (s *Store) withToken(ctx context.Context, tok Token, fn func() ([]*Entry, error)) ([]*Entry, error) {
	key := tok.Source + "\x00" + tok.Module + "\x00" + tok.Info.Label + "\x00" + tok.Info.Serial
	s.mu.Lock()
	l, ok := s.locks[key]
	if !ok {
		l = make(chan struct{}, 1)
		s.locks[key] = l
	}
	s.mu.Unlock()
	select {
	case l <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-l }()
	return fn()
}

// source is one place tokens come from.
type source interface {
	tokens(ctx context.Context) ([]Token, error)
	entries(ctx context.Context, tok Token) ([]*Entry, error)
	owns(tok Token) bool
	use(ctx context.Context, e *Entry, ui UI, fn func(Signer) error) error
}

// sources lists the sources in precedence order: explicit modules, the
// software token, CryptoPro containers, discovered modules.
func (s *Store) sources() []source {
	var explicit, found []source
	for _, m := range s.loaded() {
		src := moduleSource{m}
		if contains(s.cfg.Modules, m.Path()) {
			explicit = append(explicit, src)
		} else {
			found = append(found, src)
		}
	}
	out := explicit
	if s.cfg.SoftDir != "" {
		out = append(out, softSource{s.cfg.SoftDir})
	}
	if len(s.cfg.CryptoPro) > 0 || s.cfg.CryptoProSearch {
		out = append(out, containerSource{cfg: &s.cfg, state: s.containers})
	}
	return append(out, found...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func newEntry(tok Token, id []byte, label string, cert *certs.Certificate) *Entry {
	return &Entry{
		ID:          cert.Thumbprint(),
		KeyID:       append([]byte(nil), id...),
		Label:       label,
		Token:       tok,
		Certificate: cert,
	}
}

// keyState maps an Identity's error to an Entry's key state.
func keyState(err error) string {
	switch {
	case err == nil:
		return KeyPresent
	case errors.Is(err, pkcs11.ErrNotLoggedIn):
		return KeyLoginRequired
	case errors.Is(err, pkcs11.ErrKeyMismatch):
		return KeyMismatch
	case errors.Is(err, pkcs11.ErrKeyNotFound):
		return KeyMissing
	default:
		return KeyUnsupported
	}
}

// pinUI adapts ui to a pkcs11.UI for one entry, counting the attempts.
type pinUI struct {
	ui      UI
	entry   *Entry
	attempt int
	retry   error
}

func (p *pinUI) request(ctx context.Context, tok Token, key string) ([]byte, error) {
	if p.ui.RequestPIN == nil {
		return nil, pkcs11.ErrNoUI
	}
	p.attempt++
	return p.ui.RequestPIN(ctx, PINRequest{Token: tok, Entry: p.entry, Key: key, Attempt: p.attempt, Retry: p.retry})
}

// moduleSource is a PKCS#11 library.
type moduleSource struct{ m *pkcs11.Module }

func (ms moduleSource) tokens(ctx context.Context) ([]Token, error) {
	infos, err := ms.m.Tokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ms.m.Path(), err)
	}
	out := make([]Token, 0, len(infos))
	for _, ti := range infos {
		if ti.Initialized {
			out = append(out, Token{Source: SourcePKCS11, Module: ms.m.Path(), Info: ti})
		}
	}
	return out, nil
}

func (ms moduleSource) owns(tok Token) bool {
	return tok.Source == SourcePKCS11 && tok.Module == ms.m.Path()
}

func (ms moduleSource) entries(ctx context.Context, tok Token) ([]*Entry, error) {
	t, err := ms.m.OpenToken(ctx, pkcs11.Selector{Label: tok.Info.Label, Serial: tok.Info.Serial}, pkcs11.UI{})
	if err != nil {
		return nil, err
	}
	defer t.Close()
	ids, err := t.Identities(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Entry
	for _, id := range ids {
		if id.Certificate == nil {
			continue
		}
		e := newEntry(tok, id.ID, id.Label, id.Certificate)
		e.Key, e.KeyErr = keyState(id.Err), id.Err
		out = append(out, e)
	}
	return out, nil
}

func (ms moduleSource) use(ctx context.Context, e *Entry, ui UI, fn func(Signer) error) error {
	p := &pinUI{ui: ui, entry: e}
	var t *pkcs11.Token
	t, err := ms.m.OpenToken(ctx, pkcs11.Selector{Label: e.Token.Info.Label, Serial: e.Token.Info.Serial}, pkcs11.UI{
		RequestPIN: func(ctx context.Context, req pkcs11.PINRequest) ([]byte, error) {
			return p.request(ctx, Token{Source: SourcePKCS11, Module: ms.m.Path(), Info: req.Token}, req.Key)
		},
	})
	if err != nil {
		return err
	}
	defer t.Close()
	defer t.Logout(context.WithoutCancel(ctx))
	info, err := t.Info(ctx)
	if err != nil {
		return err
	}
	if info.LoginRequired {
		for {
			err := t.Login(ctx)
			if err == nil {
				break
			}
			if !errors.Is(err, pkcs11.ErrPINIncorrect) {
				return err
			}
			p.retry = err
		}
	}
	ids, err := t.Identities(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id.Certificate == nil || id.Certificate.Thumbprint() != e.ID {
			continue
		}
		if id.Key == nil {
			return fmt.Errorf("keystore: certificate %s cannot sign: %w", e.ID, id.Err)
		}
		return fn(Signer{Signer: id.Key, Entry: e})
	}
	return fmt.Errorf("%w: %s (removed from its token)", ErrNotFound, e.ID)
}

// softSource is the software token.
type softSource struct{ dir string }

func softInfo(dir string, in soft.Info) Token {
	return Token{Source: SourceSoft, Module: dir, Info: pkcs11.TokenInfo{
		Label:              in.Label,
		Manufacturer:       "kep",
		Model:              "software token",
		Serial:             in.Serial,
		MinPINLen:          soft.MinPINLen,
		MaxPINLen:          soft.MaxPINLen,
		LoginRequired:      true,
		UserPINInitialized: true,
		Initialized:        true,
		PINCountLow:        in.PINCountLow,
		PINFinalTry:        in.PINFinalTry,
		PINLocked:          in.PINLocked,
	}}
}

func (ss softSource) open() (*soft.Token, Token, error) {
	t, err := soft.Open(ss.dir)
	if err != nil {
		return nil, Token{}, fmt.Errorf("software token %s: %w", ss.dir, err)
	}
	in, err := t.Info()
	if err != nil {
		t.Close()
		return nil, Token{}, fmt.Errorf("software token %s: %w", ss.dir, err)
	}
	return t, softInfo(ss.dir, in), nil
}

func (ss softSource) tokens(context.Context) ([]Token, error) {
	t, tok, err := ss.open()
	if err != nil {
		return nil, err
	}
	t.Close()
	return []Token{tok}, nil
}

func (ss softSource) owns(tok Token) bool { return tok.Source == SourceSoft && tok.Module == ss.dir }

func (ss softSource) entries(_ context.Context, tok Token) ([]*Entry, error) {
	t, _, err := ss.open()
	if err != nil {
		return nil, err
	}
	defer t.Close()
	objs, err := t.Objects()
	if err != nil {
		return nil, err
	}
	var out []*Entry
	for _, o := range objs {
		if o.Certificate == nil {
			continue
		}
		e := newEntry(tok, o.ID, o.Label, o.Certificate)
		e.Chain = o.Chain
		e.Key = KeyPresent
		out = append(out, e)
	}
	return out, nil
}

func (ss softSource) use(ctx context.Context, e *Entry, ui UI, fn func(Signer) error) error {
	t, tok, err := ss.open()
	if err != nil {
		return err
	}
	defer t.Close()
	defer t.Logout()
	p := &pinUI{ui: ui, entry: e}
	for {
		if tok.Info.PINLocked {
			return fmt.Errorf("software token %s: %w", tok.Info.Label, pkcs11.ErrPINLocked)
		}
		pin, err := p.request(ctx, tok, "")
		if err != nil {
			return err
		}
		err = t.LoginCached(pin, ui.SoftKeys)
		clear(pin)
		if err == nil {
			break
		}
		if !errors.Is(err, pkcs11.ErrPINIncorrect) {
			return err
		}
		p.retry = err
		in, ierr := t.Info()
		if ierr != nil {
			return ierr
		}
		tok = softInfo(ss.dir, in)
	}
	key, err := t.Signer(e.KeyID)
	if err != nil {
		return err
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(e.Certificate.PublicKey) {
		return fmt.Errorf("keystore: certificate %s: %w", e.ID, pkcs11.ErrKeyMismatch)
	}
	return fn(Signer{Signer: key, Entry: e})
}

// HexID is the CKA_ID of e in lower-case hex.
func (e *Entry) HexID() string { return hex.EncodeToString(e.KeyID) }
