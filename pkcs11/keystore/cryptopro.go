package keystore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/keptsecret"
	"github.com/kepkit/kep/keyfile/cryptopro"
	"github.com/kepkit/kep/pkcs11"
)

// ErrNoCertificate: a CryptoPro container holds no certificate, and none
// is in a file beside it, so it cannot be listed as a certificate.
var ErrNoCertificate = errors.New("keystore: the container holds no certificate and none is beside it (put the certificate's .cer file in the container's folder)")

// containerModel is the Model of a container's Token.
const containerModel = "key container"

// containerSource is the CryptoPro CSP key containers of Config.CryptoPro
// and, with Config.CryptoProSearch, those found in the usual places. Each
// container is one Token (Module: its path) with one Entry, its primary key.
// A container is only read, never written, copied or locked.
type containerSource struct {
	cfg   *Config
	state *containerState
}

// containerState remembers, per container and content, whether the empty
// password opens it, so that a listing does not decrypt the key each time.
type containerState struct {
	mu    sync.Mutex
	empty map[string]emptyCheck
	// found and foundAt are the search's last result: listings in quick
	// succession (certs.list, then the sign that follows) walk the drives
	// once.
	found   []string
	foundAt time.Time
}

// searchReuse is how long a search's result is reused.
const searchReuse = 2 * time.Second

type emptyCheck struct {
	digest [32]byte
	opens  bool
}

// paths lists the containers: the configured ones, then those found.
func (cs containerSource) paths() []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range cs.cfg.CryptoPro {
		add(p)
	}
	if cs.cfg.CryptoProSearch {
		for _, p := range cs.search() {
			add(p)
		}
	}
	return out
}

// search runs cryptopro.Find over the roots (CryptoPro's usual places,
// looked up again each time, when none are set), or reuses a result younger
// than searchReuse.
func (cs containerSource) search() []string {
	cs.state.mu.Lock()
	defer cs.state.mu.Unlock()
	if cs.state.foundAt.IsZero() || time.Since(cs.state.foundAt) >= searchReuse {
		cs.state.found = cryptopro.Find(cs.cfg.CryptoProRoots...)
		cs.state.foundAt = time.Now()
	}
	return append([]string(nil), cs.state.found...)
}

func (cs containerSource) owns(tok Token) bool { return tok.Source == SourceCryptoPro }

func (cs containerSource) tokens(context.Context) ([]Token, error) {
	var out []Token
	var errs []error
	for _, p := range cs.paths() {
		c, err := cryptopro.Open(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("CryptoPro container %w", err))
			continue
		}
		out = append(out, cs.token(p, c))
	}
	return out, errors.Join(errs...)
}

// token describes container c at path. A container has no PIN counter and
// is never locked; LoginRequired is false when the empty password opens it.
func (cs containerSource) token(path string, c *cryptopro.Container) Token {
	label := c.Name
	if label == "" {
		label = filepath.Base(path)
	}
	serial := hex.EncodeToString(c.Header.PrimaryFP)
	if serial == "" {
		sum := sha256.Sum256([]byte(path))
		serial = hex.EncodeToString(sum[:8])
	}
	return Token{Source: SourceCryptoPro, Module: path, Info: pkcs11.TokenInfo{
		Label:              label,
		Manufacturer:       "CryptoPro CSP",
		Model:              containerModel,
		Serial:             serial,
		MaxPINLen:          256,
		LoginRequired:      !cs.emptyOpens(path, c),
		UserPINInitialized: true,
		Initialized:        true,
		WriteProtected:     true, // kep never writes a container
	}}
}

// emptyOpens reports whether the empty password gives c's primary key (2
// KDF rounds: cheap), remembering the answer for these file contents.
func (cs containerSource) emptyOpens(path string, c *cryptopro.Container) bool {
	if c.Is2001(cryptopro.Primary) {
		return false
	}
	d := c.Digest()
	cs.state.mu.Lock()
	ch, ok := cs.state.empty[path]
	cs.state.mu.Unlock()
	if ok && ch.digest == d {
		return ch.opens
	}
	key, err := c.PrivateKey(cryptopro.Primary, nil)
	if key != nil {
		key.Destroy()
	}
	cs.state.mu.Lock()
	cs.state.empty[path] = emptyCheck{digest: d, opens: err == nil}
	cs.state.mu.Unlock()
	return err == nil
}

func (cs containerSource) entries(_ context.Context, tok Token) ([]*Entry, error) {
	c, err := cryptopro.Open(tok.Module)
	if err != nil {
		return nil, err
	}
	e, err := containerEntry(tok, c)
	if err != nil {
		return nil, err
	}
	return []*Entry{e}, nil
}

// containerEntry is the entry of c's primary key: its certificate (from
// header.key, else a file beside the container) and its key state.
func containerEntry(tok Token, c *cryptopro.Container) (*Entry, error) {
	der := c.Certificate(cryptopro.Primary)
	if der == nil {
		der = c.CertificateBeside(cryptopro.Primary)
	}
	if der == nil {
		return nil, ErrNoCertificate
	}
	cert, err := certs.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("the container's certificate: %w", err)
	}
	e := newEntry(tok, c.Header.PrimaryFP, tok.Info.Label, cert)
	e.NonExportable = !c.Params(cryptopro.Primary).Exportable()
	pub, _ := cert.PublicKey.(*gost3410.PublicKey)
	_, psErr := c.ParamSet(cryptopro.Primary)
	switch {
	case c.Is2001(cryptopro.Primary):
		e.Key, e.KeyErr = KeyUnsupported, fmt.Errorf("%w: a GOST R 34.10-2001 key (signing with such keys ended on 31.12.2019)", cryptopro.ErrUnsupported)
	case psErr != nil:
		e.Key, e.KeyErr = KeyUnsupported, psErr
	case pub == nil:
		e.Key, e.KeyErr = KeyMismatch, fmt.Errorf("%w: the container's certificate has no GOST key", pkcs11.ErrKeyMismatch)
	case len(c.Header.PrimaryFP) > 0 && !c.MatchesPublicKey(cryptopro.Primary, pub):
		e.Key, e.KeyErr = KeyMismatch, fmt.Errorf("%w: the certificate is not the container key's (by its fingerprint)", pkcs11.ErrKeyMismatch)
	case tok.Info.LoginRequired:
		e.Key, e.KeyErr = KeyLoginRequired, fmt.Errorf("%w: the container's password is asked when it is used", pkcs11.ErrNotLoggedIn)
	default:
		e.Key = KeyPresent
	}
	return e, nil
}

// use decrypts the container's key for fn and destroys it after. The empty
// password is used without asking when it opens the container (as CryptoPro
// CSP does; emptyOpens, checked once per content of the files); else the
// UI is asked for the password until it gives the right one or an error. A
// container counts no tries and never locks: a wrong password (found by the
// fingerprint check) is reported as pkcs11.ErrPINIncorrect and asked again.
func (cs containerSource) use(ctx context.Context, e *Entry, ui UI, fn func(Signer) error) error {
	path := e.Token.Module
	c, err := cryptopro.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		// The flash drive was taken out: as a token removed.
		return fmt.Errorf("%w: the CryptoPro container %s is gone: %v", pkcs11.ErrTokenNotPresent, path, err)
	}
	if err != nil {
		return err
	}
	cur, err := containerEntry(cs.token(path, c), c)
	if err != nil {
		return err
	}
	if cur.ID != e.ID {
		return fmt.Errorf("%w: %s (the container %s now holds %s)", ErrNotFound, e.ID, path, cur.ID)
	}
	if !cur.CanSign() {
		return fmt.Errorf("keystore: certificate %s cannot sign: %w", e.ID, cur.KeyErr)
	}
	digest := c.Digest()
	// The empty password, when it opens these files (emptyOpens, as
	// listed); else straight to asking.
	var key *gost3410.PrivateKey
	err = cryptopro.ErrWrongPassword
	if !cur.Token.Info.LoginRequired {
		key, err = c.PrivateKey(cryptopro.Primary, nil)
	}
	if errors.Is(err, cryptopro.ErrWrongPassword) {
		p := &pinUI{ui: ui, entry: e}
		tok := cur.Token
		for {
			var pw []byte
			if pw, err = p.request(ctx, tok, ""); err != nil {
				return err
			}
			if key = ui.ContainerKeys.get(path, digest, pw); key != nil {
				err = nil
			} else if key, err = c.PrivateKey(cryptopro.Primary, pw); err == nil {
				ui.ContainerKeys.put(path, digest, pw, key)
			}
			clear(pw)
			if !errors.Is(err, cryptopro.ErrWrongPassword) {
				break
			}
			p.retry = fmt.Errorf("%w (%w)", pkcs11.ErrPINIncorrect, err)
		}
	}
	if err != nil {
		return err
	}
	defer key.Destroy()
	if !key.PublicKey().Equal(e.Certificate.PublicKey) {
		return fmt.Errorf("keystore: certificate %s: %w", e.ID, pkcs11.ErrKeyMismatch)
	}
	return fn(Signer{Signer: key, Entry: e})
}

// ContainerKeyCache keeps the keys decrypted from CryptoPro containers for
// a while (the agent's --pin-cache), so that the signatures of a batch after
// the first cost no key derivation. It is to containers what soft.KeyCache
// is to the software token.
//
// The password is never kept: a hit needs the password again, compared with
// an HMAC of it under a random key of this cache. A kept key is dropped when
// the container's files change (a new password), zeroed when its time runs
// out (even if nobody asks again) and on Close. Each use gets its own copy,
// destroyed after the operation.
//
// Warning: a kept key lives in the process's memory for the cache's time, as
// the password it replaces would. Use a cache only where the password itself
// may be kept as long.
type ContainerKeyCache struct{ c *keptsecret.Cache }

// NewContainerKeyCache returns a cache that keeps each decrypted key for ttl.
func NewContainerKeyCache(ttl time.Duration) *ContainerKeyCache {
	return &ContainerKeyCache{c: keptsecret.New(ttl, nil)}
}

// get returns a fresh copy of the key kept for the container at path when
// its files are still digest's and pw is the password it was opened with.
// The kept secret is the parameter set's name, a zero byte, then the key.
func (c *ContainerKeyCache) get(path string, digest [32]byte, pw []byte) *gost3410.PrivateKey {
	if c == nil {
		return nil
	}
	b := c.c.Get(path, digest[:], pw)
	defer clear(b)
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return nil
	}
	ps, err := gost3410.ParamSetByName(string(b[:i]))
	if err != nil {
		return nil
	}
	key, err := gost3410.NewPrivateKey(ps, b[i+1:])
	if err != nil {
		return nil
	}
	return key
}

// put keeps a copy of key, opened by pw, for the cache's time.
func (c *ContainerKeyCache) put(path string, digest [32]byte, pw []byte, key *gost3410.PrivateKey) {
	if c == nil {
		return
	}
	d := key.Bytes()
	b := append(append([]byte(key.Params().Name), 0), d...)
	clear(d)
	c.c.Put(path, digest[:], pw, b)
	clear(b)
}

// Len is the number of keys kept.
func (c *ContainerKeyCache) Len() int {
	if c == nil {
		return 0
	}
	return c.c.Len()
}

// Clear zeroes and forgets every kept key.
func (c *ContainerKeyCache) Clear() {
	if c != nil {
		c.c.Clear()
	}
}

// Close clears the cache and keeps nothing more.
func (c *ContainerKeyCache) Close() {
	if c != nil {
		c.c.Close()
	}
}
