package revocation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/kepkit/kep/internal/atomicfile"
)

// maxOCSPResponseSize bounds an OCSP response download.
const maxOCSPResponseSize = 1 << 20

// httpOnly keeps the http:// URLs of urls (ldap:// and others are not fetched).
func httpOnly(urls []string) []string {
	var out []string
	for _, u := range urls {
		if p, err := url.Parse(u); err == nil && p.Scheme == "http" && p.Host != "" {
			out = append(out, u)
		}
	}
	return out
}

// errTooLarge is returned for bodies over the limit.
var errTooLarge = errors.New("response too large")

// do sends req with the policy's timeout and returns the response with its
// body read (at most limit bytes). A 304 comes back with an empty body.
func (c *Checker) do(ctx context.Context, req *http.Request, limit int64) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Policy.timeout())
	defer cancel()
	resp, err := c.client().Do(req.WithContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return resp, nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, nil, fmt.Errorf("%w: %d bytes, limit %d", errTooLarge, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("%w: over %d bytes", errTooLarge, limit)
	}
	return resp, body, nil
}

// cacheMeta is what the cache keeps beside a CRL body.
type cacheMeta struct {
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"lastModified,omitempty"`
	Fetched      time.Time `json:"fetched"`
	SHA256       string    `json:"sha256"` // of the body, so a torn pair is never used
}

// cached is a CRL from the cache.
type cached struct {
	meta cacheMeta
	body []byte
}

func urlKey(u string) string {
	sum := sha256.Sum256([]byte(u))
	return hex.EncodeToString(sum[:])
}

// readCache returns the cached body of u, or nil when there is none (or it
// is damaged: the cache is only an optimisation).
func (c *Checker) readCache(u string) *cached {
	if c.CacheDir == "" {
		return nil
	}
	base := filepath.Join(c.CacheDir, urlKey(u))
	mb, err := os.ReadFile(base + ".json")
	if err != nil {
		return nil
	}
	var m cacheMeta
	if json.Unmarshal(mb, &m) != nil || m.URL != u {
		return nil
	}
	body, err := os.ReadFile(base + ".crl")
	if err != nil {
		return nil
	}
	if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != m.SHA256 {
		return nil
	}
	return &cached{meta: m, body: body}
}

// writeCache stores body and its metadata atomically (the body first; the
// metadata names the body's hash).
func (c *Checker) writeCache(e *cached) error {
	if c.CacheDir == "" {
		return nil
	}
	if err := os.MkdirAll(c.CacheDir, 0o755); err != nil {
		return err
	}
	base := filepath.Join(c.CacheDir, urlKey(e.meta.URL))
	sum := sha256.Sum256(e.body)
	e.meta.SHA256 = hex.EncodeToString(sum[:])
	mb, err := json.MarshalIndent(e.meta, "", "  ")
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(base + ".crl"); err != nil || !bytes.Equal(old, e.body) {
		if err := atomicfile.WriteFile(base+".crl", e.body, 0o644); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(base+".json", mb, 0o644)
}
