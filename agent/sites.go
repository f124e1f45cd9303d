package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kepkit/kep/internal/atomicfile"
	"github.com/kepkit/kep/internal/filelock"
)

// Site is an origin the user allowed to use the agent, and which of the
// user's certificates it may see and use.
type Site struct {
	Origin   string    `json:"origin"`
	Approved time.Time `json:"approved"`
	// Scope is ScopeAll or ScopeChosen (only Certificates). Lists written
	// before kep asked have none: their sites were given every certificate.
	Scope        string   `json:"scope,omitempty"`
	Certificates []string `json:"certificates,omitempty"` // SHA-1 thumbprints, upper-case hex
}

// Scopes of an approval.
const (
	ScopeAll    = "all"
	ScopeChosen = "chosen"
)

// Allows reports whether the site may see and use the certificate.
func (s Site) Allows(certID string) bool {
	if s.Scope != ScopeChosen {
		return true
	}
	for _, id := range s.Certificates {
		if id == certID {
			return true
		}
	}
	return false
}

// Grant is what the user lets a site use: every certificate, or the ones
// chosen in the access window.
type Grant struct {
	All          bool
	Certificates []string
}

// Sites is the list of approved origins, kept in a JSON file so that
// `kep agent sites revoke` in another process takes effect at once: the file
// is read on every check, and changed under a file lock (sites.json.lock)
// so that two processes cannot lose each other's change. The zero path
// keeps the list in memory only.
type Sites struct {
	path string
	mu   sync.Mutex
	mem  map[string]Site
	// The file as last read, reused while it is the same file (inode,
	// size, modification time): every message of every connection asks,
	// and a change — atomic replacement included — is a new file.
	cached     map[string]Site
	cachedInfo os.FileInfo
}

// OpenSites uses the file at path (created on the first approval).
func OpenSites(path string) *Sites { return &Sites{path: path, mem: map[string]Site{}} }

// DefaultSitesFile is kep/agent/sites.json in the user's config directory.
func DefaultSitesFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kep", "agent", "sites.json"), nil
}

type sitesFile struct {
	Sites []Site `json:"sites"`
}

// load returns a copy of the list, for changing it.
func (s *Sites) load() (map[string]Site, error) {
	m, err := s.current()
	if err != nil {
		return nil, err
	}
	out := make(map[string]Site, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out, nil
}

// current returns the list as it is now, not to be changed: the file read
// again only when it is not the one read last (s.mu held).
func (s *Sites) current() (map[string]Site, error) {
	if s.path == "" {
		return s.mem, nil
	}
	fi, err := os.Stat(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		s.cached, s.cachedInfo = nil, nil
		return map[string]Site{}, nil
	}
	if err != nil {
		return nil, err
	}
	if c := s.cachedInfo; c != nil && os.SameFile(c, fi) && c.Size() == fi.Size() && c.ModTime().Equal(fi.ModTime()) {
		return s.cached, nil
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, err
	}
	var f sitesFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	out := map[string]Site{}
	for _, site := range f.Sites {
		out[site.Origin] = site
	}
	// Kept with the information from before the read: a file replaced
	// meanwhile differs from it and is read again next time.
	s.cached, s.cachedInfo = out, fi
	return out, nil
}

func (s *Sites) store(m map[string]Site) error {
	if s.path == "" {
		s.mem = m
		return nil
	}
	f := sitesFile{Sites: []Site{}}
	for _, site := range m {
		f.Sites = append(f.Sites, site)
	}
	sort.Slice(f.Sites, func(i, j int) bool { return f.Sites[i].Origin < f.Sites[j].Origin })
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(s.path, append(data, '\n'), 0o600)
}

// Approved reports whether origin is on the list. A list that cannot be
// read approves nothing.
func (s *Sites) Approved(origin string) bool {
	_, ok := s.Lookup(origin)
	return ok
}

// Lookup returns origin's entry, if it is approved.
func (s *Sites) Lookup(origin string) (Site, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.current()
	if err != nil {
		return Site{}, false
	}
	site, ok := m[origin]
	return site, ok
}

// update changes the list under the file lock: read, fn, write.
func (s *Sites) update(fn func(m map[string]Site) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.path != "" {
		if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
			return err
		}
		unlock, err := filelock.Lock(s.path)
		if err != nil {
			return err
		}
		defer unlock()
	}
	m, err := s.load()
	if err != nil {
		return err
	}
	if !fn(m) {
		return nil
	}
	return s.store(m)
}

// Approve adds origin with what the user granted.
func (s *Sites) Approve(origin string, now time.Time, g Grant) error {
	site := Site{Origin: origin, Approved: now.UTC().Truncate(time.Second), Scope: ScopeAll}
	if !g.All {
		site.Scope = ScopeChosen
		site.Certificates = append([]string{}, g.Certificates...)
		sort.Strings(site.Certificates)
	}
	return s.update(func(m map[string]Site) bool {
		m[origin] = site
		return true
	})
}

// Revoke removes origin; it reports whether it was there.
func (s *Sites) Revoke(origin string) (bool, error) {
	found := false
	err := s.update(func(m map[string]Site) bool {
		_, found = m[origin]
		delete(m, origin)
		return found
	})
	return found, err
}

// List returns the approved sites sorted by origin.
func (s *Sites) List() ([]Site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.load()
	if err != nil {
		return nil, err
	}
	out := make([]Site, 0, len(m))
	for _, site := range m {
		out = append(out, site)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Origin < out[j].Origin })
	return out, nil
}

// CheckOrigin validates a browser Origin and returns it normalised
// (scheme://host[:port], lower case, default port dropped). Allowed: https
// origins, and http only for loopback pages (localhost, 127.0.0.1, [::1]).
// Missing and "null" origins (sandboxed frames, file: pages) are refused.
func CheckOrigin(origin string) (string, error) {
	if origin == "" || origin == "null" {
		return "", errors.New("agent: the request has no Origin (or a null one)")
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("agent: malformed Origin %q", origin)
	}
	host := u.Hostname()
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopbackHost(host) {
			return "", fmt.Errorf("agent: origin %s is not https (only loopback pages may use http)", origin)
		}
	default:
		return "", fmt.Errorf("agent: origin %s: scheme %q not allowed", origin, u.Scheme)
	}
	port := u.Port()
	if (u.Scheme == "https" && port == "443") || (u.Scheme == "http" && port == "80") {
		port = ""
	}
	host = strings.ToLower(host)
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	out := u.Scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out, nil
}

func isLoopbackHost(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }
