package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/verify"
)

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		env     map[string]string
		check   func(Config) bool
		wantErr bool
	}{
		{map[string]string{"KEP_SERVE_LISTEN": "0.0.0.0:1"}, func(c Config) bool { return c.Listen == "0.0.0.0:1" }, false},
		{map[string]string{"KEP_SERVE_TRUST": "a.pem, b.pem,"}, func(c Config) bool { return reflect.DeepEqual(c.Trust, []string{"a.pem", "b.pem"}) }, false},
		{map[string]string{"KEP_SERVE_NO_AUTH": "true"}, func(c Config) bool { return c.NoAuth }, false},
		{map[string]string{"KEP_SERVE_NO_AUTH": "maybe"}, nil, true},
		{map[string]string{"KEP_SERVE_MAX_CONCURRENT": "7"}, func(c Config) bool { return c.MaxConcurrent == 7 }, false},
		{map[string]string{"KEP_SERVE_MAX_BODY_BYTES": "lots"}, nil, true},
		{map[string]string{"KEP_SERVE_TRUST_LIST_REFRESH": "1h"}, func(c Config) bool { return time.Duration(c.TrustListRefresh) == time.Hour }, false},
		{map[string]string{"KEP_SERVE_NONCE_STORE": "redis://r/0"}, func(c Config) bool { return c.NonceStore == "redis://r/0" }, false},
		{map[string]string{"OTHER": "x"}, func(c Config) bool { return reflect.DeepEqual(c, Config{Listen: "file"}) }, false},
	}
	for _, tc := range tests {
		c := Config{Listen: "file"}
		err := c.ApplyEnv(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: err %v", tc.env, err)
			continue
		}
		if err == nil && !tc.check(c) {
			t.Errorf("%v: %+v", tc.env, c)
		}
	}
	if len(EnvNames()) != len(envVars) || EnvNames()[0] != "KEP_SERVE_LISTEN" {
		t.Fatal(EnvNames())
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		c    Config
		want error
		ok   bool
	}{
		{Config{}, ErrNoAuth, false},
		{Config{NoAuth: true}, nil, true},
		{Config{APIKeys: "k"}, nil, true},
		{Config{APIKeys: "k", TLSCert: "c"}, nil, false},
		{Config{ClientCA: "ca"}, nil, false},
		{Config{ClientCA: "ca", TLSCert: "c", TLSKey: "k"}, nil, true},
		{Config{NoAuth: true, MaxBodyBytes: -1}, nil, false},
	}
	for i, tc := range tests {
		err := tc.c.validate()
		if (err == nil) != tc.ok || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%d: %v", i, err)
		}
	}
	d := Config{}.withDefaults()
	if d.Listen != "127.0.0.1:8780" || d.MaxBodyBytes != 1<<30 || d.ReadHeaderTimeout == 0 || d.ReadTimeout == 0 || d.WriteTimeout == 0 || d.IdleTimeout == 0 || d.MaxConcurrent == 0 {
		t.Fatalf("defaults: %+v", d)
	}
}

func TestParseAPIKeys(t *testing.T) {
	tests := []struct {
		in    string
		names []string
		err   string
	}{
		{"# c\n\nbackend 0123456789abcdef0\n0123456789abcdefXY\n", []string{"backend", "key-2"}, ""},
		{"short x\n", nil, "shorter"},
		{"a b c\n", nil, "want"},
		{"# only comments\n", nil, "no keys"},
	}
	for _, tc := range tests {
		k, err := parseAPIKeys([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v", tc.in, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(k.names, tc.names) {
			t.Errorf("%q: %v %v", tc.in, k, err)
			continue
		}
		if n, ok := k.lookup("0123456789abcdefXY"); !ok || n != "key-2" {
			t.Errorf("lookup: %q %v", n, ok)
		}
		if _, ok := k.lookup("0123456789abcdef"); ok {
			t.Error("a prefix of a key was accepted")
		}
	}
}

func TestMemCache(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newMemCache[int](4)
	for i, k := range []string{"a", "b", "c", "d"} {
		c.put(k, i, now.Add(time.Minute), now)
	}
	if v, ok := c.get("c", now); !ok || v != 2 {
		t.Fatal(v, ok)
	}
	if _, ok := c.get("c", now.Add(2*time.Minute)); ok {
		t.Fatal("an expired entry was returned")
	}
	c.put("e", 5, now.Add(time.Minute), now)
	if len(c.m) > 4 || len(c.m) < 1 {
		t.Fatalf("%d entries after overflow", len(c.m))
	}
	if v, ok := c.get("e", now); !ok || v != 5 {
		t.Fatal("the new entry is missing")
	}
}

// fakeChecker answers with a given state and counts the calls.
type fakeChecker struct {
	state string
	soft  bool
	calls int
}

func (f *fakeChecker) CheckRevocation(ctx context.Context, c, issuer *certs.Certificate, at time.Time) (*certs.RevocationStatus, error) {
	f.calls++
	return &certs.RevocationStatus{State: f.state, SoftFail: f.soft}, nil
}

func TestCachingChecker(t *testing.T) {
	leaf, ca := testCerts(t)
	now := time.Now()
	tests := []struct {
		state     string
		soft      bool
		at        time.Time
		wantCalls int
	}{
		{certs.RevocationGood, false, now, 1},
		{certs.RevocationRevoked, false, now, 1},
		{certs.RevocationUnknown, false, now, 1},
		{certs.RevocationIndeterminate, false, now, 3},        // never cached
		{certs.RevocationGood, true, now, 3},                  // soft-fail: never cached
		{certs.RevocationGood, false, now.Add(-time.Hour), 3}, // a past validation time: not cached
	}
	for _, tc := range tests {
		f := &fakeChecker{state: tc.state, soft: tc.soft}
		c := &cachingChecker{next: f, key: "auto", ttl: time.Minute, mem: newMemCache[*certs.RevocationStatus](10), m: newMetrics(), now: time.Now}
		for i := 0; i < 3; i++ {
			st, err := c.CheckRevocation(context.Background(), leaf, ca, tc.at)
			if err != nil || st.State != tc.state {
				t.Fatalf("%+v: %v %v", tc, st, err)
			}
		}
		if f.calls != tc.wantCalls {
			t.Errorf("%s soft=%v at=%v: %d calls, want %d", tc.state, tc.soft, tc.at, f.calls, tc.wantCalls)
		}
	}
}

func TestBuildOptions(t *testing.T) {
	s := newTestServer(t)
	ts := s.trust.Load()
	tests := []struct {
		o    string
		sigs bool
		ok   bool
	}{
		{`{}`, true, true},
		{`{"profile":"cades-t","purpose":"login","at":"2026-01-02T03:04:05Z","revocation":"off"}`, true, true},
		{`{"profile":"pades"}`, true, false},
		{`{"purpose":"timestamping"}`, true, false},
		{`{"at":"2026-01-02"}`, true, false},
		{`{"qualified":true}`, true, false}, // no list
		{`{"trustList":"other"}`, true, false},
		{`{"trust":["not a cert"]}`, true, false},
		{`{"crls":["AAAA"]}`, true, false},
		{`{"profile":"cms"}`, false, false}, // not for certificates
		{`{"purpose":"any"}`, false, true},
	}
	for _, tc := range tests {
		o, err := ParseVerifyOptions([]byte(tc.o))
		if err != nil {
			t.Fatalf("%s: %v", tc.o, err)
		}
		_, e := s.build(o, ts, tc.sigs)
		if (e == nil) != tc.ok {
			t.Errorf("%s: %v", tc.o, e)
		}
		if e != nil && (e.Status != http.StatusBadRequest || e.Code != CodeBadOptions || e.MessageRu == "") {
			t.Errorf("%s: %+v", tc.o, e)
		}
	}
	if _, err := ParseVerifyOptions([]byte(`{"profil":"cms"}`)); err == nil {
		t.Fatal("an unknown option was accepted")
	}
	for name, want := range map[string]verify.Profile{"cades-bes": verify.ProfileCAdESBES, "cades-t": verify.ProfileCAdEST, "xl": verify.ProfileXL, "xlt1": verify.ProfileXL} {
		o, err := ParseVerifyOptions([]byte(`{"profile":"` + name + `"}`))
		if err != nil {
			t.Fatal(err)
		}
		if opts, e := s.build(o, ts, true); e != nil || opts.Profile != want {
			t.Errorf("profile %s: %v %v", name, opts.Profile, e)
		}
	}
}

// newTestServer is an in-process server without authentication, for the
// unit tests and the fuzz targets (the real-process tests are in
// serve_test.go).
func newTestServer(t testing.TB) *Server {
	s, err := New(context.Background(), Config{NoAuth: true, NonceStore: "memory", Revocation: "off", MaxBodyBytes: 1 << 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testCerts(t *testing.T) (leaf, ca *certs.Certificate) {
	t.Helper()
	// Any two parsed certificates do for the cache key.
	cs, err := certs.ParseCertificates(testPEM)
	if err != nil || len(cs) < 1 {
		t.Fatalf("test certificate: %v", err)
	}
	return cs[0], cs[0]
}

// FuzzParseVerifyOptions: what parses re-encodes to an equal value.
func FuzzParseVerifyOptions(f *testing.F) {
	for _, s := range []string{`{}`, `{"profile":"cades-bes","at":"2026-01-02T03:04:05Z","softFail":true}`, `{"trust":["x"],"crls":[]}`, ``, `[]`, `{"a":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseVerifyOptions(data)
		if err != nil {
			return
		}
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		o2, err := ParseVerifyOptions(b)
		// Empty lists are left out when encoded.
		for _, l := range []*[]string{&o.Trust, &o.Intermediates, &o.CRLs} {
			if len(*l) == 0 {
				*l = nil
			}
		}
		if err != nil || !reflect.DeepEqual(o, o2) {
			t.Fatalf("round trip: %+v → %s → %+v %v", o, b, o2, err)
		}
	})
}

// FuzzParseSignatureRequest: an accepted request has a signature, and the
// request rebuilt from what was decoded decodes to the same bytes.
func FuzzParseSignatureRequest(f *testing.F) {
	for _, s := range []string{`{"signature":"MIIB"}`, `{"signature":"-----BEGIN CMS-----\nMA==\n-----END CMS-----","content":"aGk=","options":{"profile":"cms"}}`, `{"signature":"MA","content":""}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sig, content, o, err := ParseSignatureRequest(data)
		if err != nil {
			return
		}
		if len(sig) == 0 && !bytes.Contains(data, []byte(`"signature"`)) {
			t.Fatal("accepted without a signature")
		}
		req := map[string]any{"signature": b64(sig), "options": o}
		if content != nil {
			req["content"] = b64(content)
		}
		b, _ := json.Marshal(req)
		sig2, content2, o2, err := ParseSignatureRequest(b)
		if err != nil || !bytes.Equal(sig, sig2) && !(len(sig) > 0 && bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN"))) || !bytes.Equal(content, content2) || (content == nil) != (content2 == nil) || !reflect.DeepEqual(o, o2) {
			t.Fatalf("round trip of %q: %v", data, err)
		}
	})
}

// FuzzParseLoginVerify: an accepted request has an origin and a response;
// re-encoded, it decodes to the same.
func FuzzParseLoginVerify(f *testing.F) {
	for _, s := range []string{`{"origin":"https://a.ru","response":{"format":"bound","cms":"AA=="}}`, `{"origin":"https://a.ru","response":"{\"format\":\"bound\"}"}`, `{"origin":"x","response":null}`, `{"origin":"x","response":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		origin, resp, err := ParseLoginVerify(data)
		if err != nil {
			return
		}
		if origin == "" || len(resp) == 0 {
			t.Fatalf("accepted %q with origin %q response %q", data, origin, resp)
		}
		b, _ := json.Marshal(map[string]string{"origin": origin, "response": string(resp)})
		o2, r2, err := ParseLoginVerify(b)
		if err != nil || o2 != origin || !bytes.Equal(r2, resp) {
			t.Fatalf("round trip of %q: %q %q %v", data, o2, r2, err)
		}
	})
}

// FuzzVerifyMultipart sends fuzzed multipart bodies to the handler: every
// answer is a report (200) or a typed 4xx error, never a 5xx, and always
// JSON.
func FuzzVerifyMultipart(f *testing.F) {
	s := newTestServer(f)
	const boundary = "kepfuzzboundary"
	seed := func(parts ...string) []byte {
		var b strings.Builder
		for i := 0; i+1 < len(parts); i += 2 {
			b.WriteString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + parts[i] + "\"\r\n\r\n" + parts[i+1] + "\r\n")
		}
		b.WriteString("--" + boundary + "--\r\n")
		return []byte(b.String())
	}
	f.Add(seed("signature", "0\x82\x01\x00\x06\x09*\x86H\x86\xf7\r\x01\x07\x02", "content", "hello"))
	f.Add(seed("options", `{"profile":"cades-bes"}`, "signature", string(testCMS), "content", "x"))
	f.Add(seed("content", "x", "signature", "y"))
	f.Add(seed("signature", "-----BEGIN CMS-----\nMAA=\n-----END CMS-----"))
	f.Add([]byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"signature\"\r\n\r\n0\x80"))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/v1/signatures/verify", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%d for %q: %s", w.Code, body, w.Body.Bytes())
		}
		var m map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			t.Fatalf("not JSON (%d): %q", w.Code, w.Body.Bytes())
		}
		if w.Code == 200 {
			if _, ok := m["indication"]; !ok {
				t.Fatalf("200 without a report: %s", w.Body.Bytes())
			}
		} else if e, ok := m["error"].(map[string]any); !ok || e["code"] == "" || e["messageRu"] == "" {
			t.Fatalf("%d without a typed error: %s", w.Code, w.Body.Bytes())
		}
	})
}

var (
	testPEM = mustRead("testdata/ca.pem")
	testCMS = mustRead("testdata/hello.sig")
)

func mustRead(p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		panic(err)
	}
	return b
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// TestBusy: with every slot taken for longer than queueWait, a request gets
// 503 BUSY; health endpoints are not limited.
func TestBusy(t *testing.T) {
	s, err := New(context.Background(), Config{NoAuth: true, NonceStore: "memory", Revocation: "off", MaxConcurrent: 1, QueueWait: Duration(50 * time.Millisecond)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pr, pw := io.Pipe()
	held := httptest.NewRequest("POST", "/v1/login/challenges", pr)
	held.Header.Set("Content-Type", "application/json")
	done := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, held)
		done <- w.Code
	}()
	// Wait until the held request has its slot.
	for i := 0; len(s.sem) == 0; i++ {
		if i > 1000 {
			t.Fatal("the first request never took its slot")
		}
		time.Sleep(time.Millisecond)
	}
	w := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/login/challenges", strings.NewReader(`{"origin":"https://a.ru"}`))
	req.Header.Set("Content-Type", "application/json")
	s.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `"BUSY"`) {
		t.Fatalf("%d %s", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/healthz", nil))
	if w.Code != 200 {
		t.Fatalf("healthz while busy: %d", w.Code)
	}
	io.WriteString(pw, `{"origin":"https://a.ru"}`)
	pw.Close()
	if code := <-done; code != 200 {
		t.Fatalf("the held request: %d", code)
	}
}
