package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as in Go ("30s", "5m") in the config
// file.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Config is what `kep serve` runs with: the config file (JSON, the field
// names below), then KEP_SERVE_* environment variables, then flags. Every
// zero value is the strict or the safe choice: no authentication configured
// means the server refuses to start (unless NoAuth), no trust anchors means
// nothing verifies, revocation is checked online hard-fail.
type Config struct {
	// Listen is the TCP address (default 127.0.0.1:8780).
	Listen string `json:"listen,omitempty"`
	// TLSCert and TLSKey (PEM files) turn on HTTPS, with HTTP/2.
	TLSCert string `json:"tlsCert,omitempty"`
	TLSKey  string `json:"tlsKey,omitempty"`
	// ClientCA (PEM) requires a client certificate issued by one of its CAs
	// (mutual TLS); with APIKeys too, either one authenticates a caller.
	ClientCA string `json:"clientCA,omitempty"`
	// APIKeys is a file of bearer keys, one "NAME KEY" (or just "KEY") per
	// line, # comments; keys of at least 16 characters.
	APIKeys string `json:"apiKeys,omitempty"`
	// NoAuth serves without authentication (a test bench, or behind a
	// gateway that authenticates).
	NoAuth bool `json:"noAuth,omitempty"`

	// Trust, Intermediates and CRLs are files as kep verify's --trust,
	// --intermediate and --crl take them.
	Trust         []string `json:"trust,omitempty"`
	Intermediates []string `json:"intermediates,omitempty"`
	CRLs          []string `json:"crls,omitempty"`
	// TrustList is the list of accredited CAs: a file or an http(s) URL;
	// "" none. Its CAs are trusted and the signer's accreditation checked.
	TrustList string `json:"trustList,omitempty"`
	// TrustListRefresh is how often the list is read again and swapped in
	// (default 6h; the list changes every few days).
	TrustListRefresh Duration `json:"trustListRefresh,omitempty"`

	// Revocation is the default online check: auto, ocsp, crl or off
	// (default auto); SoftFail accepts unreachable revocation data.
	Revocation string `json:"revocation,omitempty"`
	SoftFail   bool   `json:"softFail,omitempty"`
	// RevocationCacheTTL bounds how long a revocation answer is reused
	// (default 5m; never past the data's nextUpdate); negative: no cache.
	RevocationCacheTTL Duration `json:"revocationCacheTTL,omitempty"`
	// CRLCacheDir keeps fetched CRLs on disk (default: none, memory only).
	CRLCacheDir string `json:"crlCacheDir,omitempty"`
	// SharedCache is a redis:// URL where instances share revocation
	// answers and the certificates they saw.
	SharedCache string `json:"sharedCache,omitempty"`

	// NonceStore is where login nonces live: a redis:// URL (every
	// instance), a directory, or "memory" (one instance). Default: the
	// kep login default (a directory in the user's cache).
	NonceStore string `json:"nonceStore,omitempty"`
	// LoginOrigins, when set, are the only origins challenges are issued
	// and logins verified for.
	LoginOrigins []string `json:"loginOrigins,omitempty"`
	// LoginTTL (default 5m), MaxSkew (default 5m) as kep login has them.
	LoginTTL Duration `json:"loginTTL,omitempty"`
	MaxSkew  Duration `json:"maxSkew,omitempty"`
	// BoundOnly refuses esia-compatible responses; RequireRevocation
	// refuses logins whose revocation could not be checked.
	BoundOnly         bool `json:"boundOnly,omitempty"`
	RequireRevocation bool `json:"requireRevocation,omitempty"`

	// MaxBodyBytes bounds a request (default 1 GiB: the content of a
	// signature is streamed, never held); MaxSignatureBytes the signature
	// part or field (default 64 MiB); MaxJSONBytes a JSON body (default
	// 96 MiB: base64 of a signature and content).
	MaxBodyBytes      int64 `json:"maxBodyBytes,omitempty"`
	MaxSignatureBytes int64 `json:"maxSignatureBytes,omitempty"`
	MaxJSONBytes      int64 `json:"maxJSONBytes,omitempty"`
	// MaxConcurrent requests run at once (default 4 × CPUs); others wait
	// up to QueueWait (default 2s) and then get 503 BUSY.
	MaxConcurrent int      `json:"maxConcurrent,omitempty"`
	QueueWait     Duration `json:"queueWait,omitempty"`
	// ReadHeaderTimeout (default 5s), ReadTimeout (default 10m: a body of
	// MaxBodyBytes on a slow link), WriteTimeout (default 10m),
	// IdleTimeout (default 2m), ShutdownTimeout (default 30s).
	ReadHeaderTimeout Duration `json:"readHeaderTimeout,omitempty"`
	ReadTimeout       Duration `json:"readTimeout,omitempty"`
	WriteTimeout      Duration `json:"writeTimeout,omitempty"`
	IdleTimeout       Duration `json:"idleTimeout,omitempty"`
	ShutdownTimeout   Duration `json:"shutdownTimeout,omitempty"`
	// MinBodyRate is the slowest a body may arrive, bytes/s, measured
	// after its first 10 s (default 16384); a slower client gets 408.
	MinBodyRate int64 `json:"minBodyRate,omitempty"`
	// SlowBodyGrace is that first period, and the longest a body may
	// stall between two reads (default 10s).
	SlowBodyGrace Duration `json:"slowBodyGrace,omitempty"`

	// LogPersonalData puts ФИО, СНИЛС, ИНН and thumbprints in the logs
	// (default off: the logs hold request IDs, endpoints and outcomes).
	LogPersonalData bool `json:"logPersonalData,omitempty"`
	// LogLevel: debug, info (default), warn, error.
	LogLevel string `json:"logLevel,omitempty"`
}

// LoadConfig reads a config file (JSON; unknown fields are an error).
func LoadConfig(path string) (Config, error) {
	var c Config
	data, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// envVars are the environment overrides, KEP_SERVE_<NAME>; lists are
// comma-separated.
var envVars = []struct {
	name string
	set  func(c *Config, v string) error
}{
	{"LISTEN", func(c *Config, v string) error { c.Listen = v; return nil }},
	{"TLS_CERT", func(c *Config, v string) error { c.TLSCert = v; return nil }},
	{"TLS_KEY", func(c *Config, v string) error { c.TLSKey = v; return nil }},
	{"CLIENT_CA", func(c *Config, v string) error { c.ClientCA = v; return nil }},
	{"API_KEYS", func(c *Config, v string) error { c.APIKeys = v; return nil }},
	{"NO_AUTH", func(c *Config, v string) error { return parseBool(v, &c.NoAuth) }},
	{"TRUST", func(c *Config, v string) error { c.Trust = splitList(v); return nil }},
	{"INTERMEDIATES", func(c *Config, v string) error { c.Intermediates = splitList(v); return nil }},
	{"CRLS", func(c *Config, v string) error { c.CRLs = splitList(v); return nil }},
	{"TRUST_LIST", func(c *Config, v string) error { c.TrustList = v; return nil }},
	{"TRUST_LIST_REFRESH", func(c *Config, v string) error { return parseDur(v, &c.TrustListRefresh) }},
	{"REVOCATION", func(c *Config, v string) error { c.Revocation = v; return nil }},
	{"SOFT_FAIL", func(c *Config, v string) error { return parseBool(v, &c.SoftFail) }},
	{"REVOCATION_CACHE_TTL", func(c *Config, v string) error { return parseDur(v, &c.RevocationCacheTTL) }},
	{"CRL_CACHE_DIR", func(c *Config, v string) error { c.CRLCacheDir = v; return nil }},
	{"SHARED_CACHE", func(c *Config, v string) error { c.SharedCache = v; return nil }},
	{"NONCE_STORE", func(c *Config, v string) error { c.NonceStore = v; return nil }},
	{"LOGIN_ORIGINS", func(c *Config, v string) error { c.LoginOrigins = splitList(v); return nil }},
	{"MAX_BODY_BYTES", func(c *Config, v string) error { return parseInt(v, &c.MaxBodyBytes) }},
	{"MAX_CONCURRENT", func(c *Config, v string) error {
		var n int64
		err := parseInt(v, &n)
		c.MaxConcurrent = int(n)
		return err
	}},
	{"LOG_PERSONAL_DATA", func(c *Config, v string) error { return parseBool(v, &c.LogPersonalData) }},
	{"LOG_LEVEL", func(c *Config, v string) error { c.LogLevel = v; return nil }},
}

// EnvNames lists the environment variables ApplyEnv reads.
func EnvNames() []string {
	var out []string
	for _, e := range envVars {
		out = append(out, "KEP_SERVE_"+e.name)
	}
	return out
}

// ApplyEnv overrides c with the KEP_SERVE_* variables lookup finds
// (os.LookupEnv in kep serve).
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	for _, e := range envVars {
		if v, ok := lookup("KEP_SERVE_" + e.name); ok {
			if err := e.set(c, v); err != nil {
				return fmt.Errorf("KEP_SERVE_%s: %w", e.name, err)
			}
		}
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseBool(v string, dst *bool) error {
	b, err := strconv.ParseBool(v)
	*dst = b
	return err
}

func parseDur(v string, dst *Duration) error {
	d, err := time.ParseDuration(v)
	*dst = Duration(d)
	return err
}

func parseInt(v string, dst *int64) error {
	n, err := strconv.ParseInt(v, 10, 64)
	*dst = n
	return err
}

// withDefaults returns c with every zero limit replaced by its default.
func (c Config) withDefaults() Config {
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8780"
	}
	if c.Revocation == "" {
		c.Revocation = "auto"
	}
	def(&c.TrustListRefresh, 6*time.Hour)
	def(&c.RevocationCacheTTL, 5*time.Minute)
	def(&c.LoginTTL, 5*time.Minute)
	def(&c.MaxSkew, 5*time.Minute)
	def(&c.QueueWait, 2*time.Second)
	def(&c.ReadHeaderTimeout, 5*time.Second)
	def(&c.ReadTimeout, 10*time.Minute)
	def(&c.WriteTimeout, 10*time.Minute)
	def(&c.IdleTimeout, 2*time.Minute)
	def(&c.ShutdownTimeout, 30*time.Second)
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 30
	}
	if c.MaxSignatureBytes == 0 {
		c.MaxSignatureBytes = 64 << 20
	}
	if c.MaxJSONBytes == 0 {
		c.MaxJSONBytes = 96 << 20
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = 4 * runtime.NumCPU()
	}
	if c.MinBodyRate == 0 {
		c.MinBodyRate = 16 << 10
	}
	return c
}

// ErrNoAuth: neither API keys nor a client CA are configured, and NoAuth is
// not set.
var ErrNoAuth = errors.New("serve: no authentication configured: give --api-keys FILE or --client-ca FILE (or --no-auth behind a gateway that authenticates)")

func (c Config) validate() error {
	if !c.NoAuth && c.APIKeys == "" && c.ClientCA == "" {
		return ErrNoAuth
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("serve: --tls-cert and --tls-key go together")
	}
	if c.ClientCA != "" && c.TLSCert == "" {
		return errors.New("serve: --client-ca needs TLS (--tls-cert, --tls-key)")
	}
	if c.MaxBodyBytes < 0 || c.MaxSignatureBytes < 0 || c.MaxJSONBytes < 0 || c.MaxConcurrent < 0 {
		return errors.New("serve: limits must be positive")
	}
	return nil
}
