package login

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultTTL is how long a challenge stays valid when Issuer.TTL is zero.
const DefaultTTL = 5 * time.Minute

// NonceBytes is the number of random bytes in a nonce (43 base64url characters).
const NonceBytes = 32

// Nonce length bounds, in base64url characters: 32 bytes at least (as Issuer
// makes them), 128 characters at most (Web eID's bound).
const (
	minNonceLen = 43
	maxNonceLen = 128
)

// Challenge is what a relying party gives the browser (or the agent) to sign.
// Its JSON form is the one `kep login challenge` prints:
//
//	{"nonce":"…43+ base64url characters…","origin":"https://example.ru",
//	 "serverTime":"2026-01-02T15:04:05Z","expires":"2026-01-02T15:09:05Z"}
//
// Times are UTC with whole seconds.
type Challenge struct {
	Nonce      string    `json:"nonce"`
	Origin     string    `json:"origin"`
	ServerTime time.Time `json:"serverTime"`
	Expires    time.Time `json:"expires"`
}

// ParseChallenge reads a challenge in its JSON form and checks its fields.
func ParseChallenge(data []byte) (*Challenge, error) {
	var c Challenge
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("login: challenge: %w", err)
	}
	if err := checkNonce(c.Nonce); err != nil {
		return nil, err
	}
	o, err := NormalizeOrigin(c.Origin)
	if err != nil {
		return nil, err
	}
	if o != c.Origin {
		return nil, fmt.Errorf("login: challenge: origin %q is not normalised (want %q)", c.Origin, o)
	}
	if c.ServerTime.IsZero() || c.Expires.IsZero() {
		return nil, errors.New("login: challenge: serverTime and expires are required")
	}
	return &c, nil
}

// Issuer makes challenges for a relying party and records their nonces in
// Store, where a Verifier sharing the store finds them.
type Issuer struct {
	Store NonceStore
	// TTL is how long a challenge is valid (DefaultTTL when zero).
	TTL time.Duration
	// Now is the relying party's clock (time.Now when nil).
	Now func() time.Time
	// Rand is the source of nonces (crypto/rand when nil).
	Rand io.Reader
}

// Challenge makes a challenge bound to origin (scheme://host[:port], see
// NormalizeOrigin) and stores its nonce.
func (is *Issuer) Challenge(ctx context.Context, origin string) (*Challenge, error) {
	if is.Store == nil {
		return nil, errors.New("login: Issuer.Store is nil")
	}
	o, err := NormalizeOrigin(origin)
	if err != nil {
		return nil, err
	}
	ttl := is.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if ttl < 0 {
		return nil, fmt.Errorf("login: negative TTL %v", ttl)
	}
	r := is.Rand
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, NonceBytes)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("login: nonce: %w", err)
	}
	now := nowFunc(is.Now)().UTC().Truncate(time.Second)
	c := &Challenge{Nonce: base64.RawURLEncoding.EncodeToString(b), Origin: o, ServerTime: now, Expires: now.Add(ttl)}
	if err := is.Store.Put(ctx, c.Nonce, c.Origin, c.Expires); err != nil {
		return nil, fmt.Errorf("login: storing the nonce: %w", err)
	}
	return c, nil
}

func nowFunc(f func() time.Time) func() time.Time {
	if f == nil {
		return time.Now
	}
	return f
}

// checkNonce accepts 43 to 128 base64url characters (no padding).
func checkNonce(n string) error {
	if len(n) < minNonceLen || len(n) > maxNonceLen {
		return fmt.Errorf("login: nonce: %d characters, want %d to %d", len(n), minNonceLen, maxNonceLen)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("login: nonce: character %q at %d is not base64url", c, i)
		}
	}
	return nil
}

// NormalizeOrigin returns origin in its normal form, scheme://host[:port]
// with the scheme and host in lower case and the default port left out. Only
// https is accepted, and http for the loopback hosts localhost, 127.0.0.1
// and [::1] (development). Paths, queries, fragments, user information, the
// "null" origin, IPv4-mapped IPv6 addresses ([::ffff:192.0.2.1]) and
// non-ASCII host names (use their xn-- form) are refused.
func NormalizeOrigin(origin string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("login: origin %q: %s", origin, why)
	}
	if origin == "" || origin == "null" {
		return bad("not an origin")
	}
	if len(origin) > 512 {
		return bad("too long")
	}
	u, err := url.Parse(origin)
	if err != nil {
		return bad(err.Error())
	}
	scheme := strings.ToLower(u.Scheme)
	if u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(origin, "#") {
		return bad("want scheme://host[:port] only")
	}
	if u.Path != "" && u.Path != "/" {
		return bad("want scheme://host[:port] without a path")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return bad("no host")
	}
	port := u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return bad("empty port")
	}
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 || port[0] == '0' {
			return bad("bad port")
		}
	}
	ip := net.ParseIP(host)
	if ip == nil {
		if err := checkHostname(host); err != nil {
			return bad(err.Error())
		}
	} else if strings.Contains(host, ":") && !strings.HasPrefix(u.Host, "[") {
		return bad("IPv6 hosts go in brackets")
	} else if ip.To4() != nil && strings.Contains(host, ":") {
		// [::ffff:192.0.2.1] has no normal form of its own: written as
		// [192.0.2.1] it is not an origin, as 192.0.2.1 another host name.
		return bad("an IPv4-mapped IPv6 address: give the IPv4 address")
	}
	loopback := host == "localhost" || host == "127.0.0.1" || (ip != nil && ip.Equal(net.IPv6loopback) && strings.Contains(host, ":"))
	switch scheme {
	case "https":
		if port == "443" {
			port = ""
		}
	case "http":
		if !loopback {
			return bad("http is allowed only for localhost, 127.0.0.1 and [::1]; use https")
		}
		if port == "80" {
			port = ""
		}
	default:
		return bad("the scheme must be https")
	}
	if ip != nil {
		if ip4 := ip.To4(); ip4 != nil {
			host = ip4.String()
		} else {
			host = "[" + ip.String() + "]"
		}
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, nil
}

func checkHostname(h string) error {
	if len(h) > 253 {
		return errors.New("host name too long")
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return errors.New("bad host name")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			case c == '-' && i > 0 && i < len(label)-1:
			case c == '_':
			default:
				if c >= 0x80 {
					return errors.New("non-ASCII host name: give its xn-- (punycode) form")
				}
				return fmt.Errorf("character %q not allowed in a host name", c)
			}
		}
	}
	if strings.HasSuffix(h, ".") {
		return errors.New("trailing dot in the host name")
	}
	labels := strings.Split(h, ".")
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return errors.New("numeric top-level label: not a host name, and not an IPv4 address in dotted-quad form")
	}
	return nil
}
