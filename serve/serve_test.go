package serve_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/kepkit/kep/serve"
)

// multipartBody builds a multipart/form-data body: signature, options (when
// not empty), content (when not nil), in that order.
func multipartBody(sig []byte, options string, content []byte) ([]byte, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("signature", "contract.txt.sig")
	w.Write(sig)
	if options != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="options"`)
		h.Set("Content-Type", "application/json")
		w, _ = mw.CreatePart(h)
		io.WriteString(w, options)
	}
	if content != nil {
		w, _ = mw.CreateFormFile("content", "contract.txt")
		w.Write(content)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// api sends requests to instances and validates each request and response
// against the OpenAPI document with libopenapi-validator.
type api struct {
	t *testing.T
	v validator.Validator
	c *http.Client
}

var (
	oaOnce sync.Once
	oaV    validator.Validator
	oaErr  error
)

func newAPI(t *testing.T) *api {
	t.Helper()
	oaOnce.Do(func() {
		doc, err := libopenapi.NewDocument(serve.OpenAPI)
		if err != nil {
			oaErr = err
			return
		}
		var errs []error
		oaV, errs = validator.NewValidator(doc)
		if len(errs) > 0 {
			oaErr = fmt.Errorf("%v", errs)
			return
		}
		if ok, verrs := oaV.ValidateDocument(); !ok {
			oaErr = fmt.Errorf("the OpenAPI document is not valid: %v", verrs[0].Message)
		}
	})
	if oaErr != nil {
		t.Fatal(oaErr)
	}
	return &api{t: t, v: oaV, c: &http.Client{Timeout: 60 * time.Second}}
}

type result struct {
	status int
	body   []byte
	header http.Header
}

// do sends method url with body; specOK says whether the request itself
// must conform to the document (bad-input tests send ones that do not).
// The response must always conform.
func (a *api) do(method, url, ctype string, body []byte, hdr map[string]string, specOK bool) result {
	a.t.Helper()
	mk := func() *http.Request {
		r, err := http.NewRequest(method, url, bytes.NewReader(body))
		if err != nil {
			a.t.Fatal(err)
		}
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		r.Header.Set("Authorization", "Bearer "+apiKey)
		for k, v := range hdr {
			if v == "" {
				r.Header.Del(k)
			} else {
				r.Header.Set(k, v)
			}
		}
		return r
	}
	if specOK {
		if ok, errs := a.v.ValidateHttpRequestSync(mk()); !ok {
			a.t.Fatalf("%s %s: the request does not conform to the OpenAPI document: %s", method, url, describe(errs))
		}
	}
	req := mk()
	resp, err := a.c.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, url, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if ok, errs := a.v.ValidateHttpResponse(mk(), resp); !ok {
		a.t.Fatalf("%s %s → %d: the response does not conform to the OpenAPI document: %s\n%s", method, url, resp.StatusCode, describe(errs), b)
	}
	return result{resp.StatusCode, b, resp.Header}
}

func describe(errs any) string {
	b, _ := json.MarshalIndent(errs, "", " ")
	if len(b) > 3000 {
		b = b[:3000]
	}
	return string(b)
}

func jsonBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func errorCode(t *testing.T, body []byte) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message, MessageRu string }
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" || e.Error.MessageRu == "" {
		t.Fatalf("not an error answer with code and both messages: %s", body)
	}
	return e.Error.Code
}

// TestTwoInstancesOneRedis: a challenge from one instance is accepted once by
// the other and refused on replay by both; the answers are what the CLI
// prints for the same inputs.
func TestTwoInstancesOneRedis(t *testing.T) {
	f := getFixture(t)
	a, b := f.start(t, f.baseConfig(), nil), f.start(t, f.baseConfig(), nil)
	c := newAPI(t)
	const origin = "https://portal.example.ru"
	r := c.do("POST", a.url+"/v1/login/challenges", "application/json", jsonBody(map[string]string{"origin": origin}), nil, true)
	if r.status != 200 {
		t.Fatalf("challenge: %d %s", r.status, r.body)
	}
	// The challenge has the CLI's form: same members, order and layout.
	cli, err := f.kep(nil, "login", "challenge", "--origin", origin, "--nonce-store", f.redisURL)
	if err != nil {
		t.Fatalf("kep login challenge: %v %s", err, cli)
	}
	norm := regexp.MustCompile(`"(nonce|serverTime|expires)": "[^"]*"`)
	if g, w := norm.ReplaceAllString(string(r.body), `"$1": "…"`), norm.ReplaceAllString(string(cli), `"$1": "…"`); g != w {
		t.Fatalf("challenge differs from kep login challenge's:\n%s\n%s", g, w)
	}
	chFile := t.TempDir() + "/challenge.json"
	os.WriteFile(chFile, r.body, 0o600)
	resp, err := f.kep(nil, "login", "sign", "--soft", f.demo.Path(f.demo.Token), "--cert", f.person, chFile)
	if err != nil {
		t.Fatalf("kep login sign: %v %s", err, resp)
	}
	// The nonce is copied into database 1, where the CLI verifies the same
	// response, so that its output can be compared with the service's.
	var ch struct{ Nonce string }
	json.Unmarshal(r.body, &ch)
	opts, _ := redis.ParseURL(f.redisURL)
	rc := redis.NewClient(opts)
	defer rc.Close()
	if err := rc.Copy(context.Background(), "kep:login:nonce:"+ch.Nonce, "kep:login:nonce:"+ch.Nonce, 1, true).Err(); err != nil {
		t.Fatal(err)
	}
	lv := jsonBody(map[string]any{"origin": origin, "response": json.RawMessage(resp)})
	got := c.do("POST", b.url+"/v1/login/verify", "application/json", lv, nil, true)
	if got.status != 200 {
		t.Fatalf("login at the other instance: %d %s", got.status, got.body)
	}
	respFile := t.TempDir() + "/response.json"
	os.WriteFile(respFile, resp, 0o600)
	want, err := f.kep(nil, "login", "verify", "--origin", origin, "--trust", f.demo.Path(f.demo.CA), "--nonce-store", f.redisDB(1), respFile)
	if err != nil {
		t.Fatalf("kep login verify: %v %s", err, want)
	}
	if !bytes.Equal(got.body, want) {
		t.Fatalf("identity differs from kep login verify's:\nserve: %s\nkep:   %s", got.body, want)
	}
	var id struct{ Surname, SNILS string }
	json.Unmarshal(got.body, &id)
	if id.Surname != "Иванов" || id.SNILS == "" {
		t.Fatalf("identity: %s", got.body)
	}
	// The certificate is now known by its thumbprint, at that instance
	// and, through the shared cache, at the other.
	// (At the other it may have been seen first in an earlier test's
	// signature: the shared cache keeps the first source.)
	for i, in := range []*instance{b, a} {
		r := c.do("GET", in.url+"/v1/certificates/"+f.person, "", nil, nil, true)
		if r.status != 200 || !bytes.Contains(r.body, []byte(f.person)) || i == 0 && !bytes.Contains(r.body, []byte(`"source": "login"`)) {
			t.Fatalf("certificate after login at %s: %d %s", in.url, r.status, r.body)
		}
	}
	// Replays: refused by both, with the CLI's refusal (the response as a
	// string this time, which the API also takes).
	lvs := jsonBody(map[string]any{"origin": origin, "response": string(resp)})
	for _, in := range []*instance{b, a} {
		r := c.do("POST", in.url+"/v1/login/verify", "application/json", lvs, nil, true)
		var ref struct {
			Refused bool
			Reason  string
			Detail  string
		}
		json.Unmarshal(r.body, &ref)
		if r.status != 403 || !ref.Refused || ref.Reason != "NONCE_UNKNOWN" || !strings.HasPrefix(ref.Detail, "replayed") {
			t.Fatalf("replay at %s: %d %s", in.url, r.status, r.body)
		}
	}
	cliReplay, _ := f.kepStdout(nil, "login", "verify", "--origin", origin, "--trust", f.demo.Path(f.demo.CA), "--nonce-store", f.redisURL, respFile)
	r = c.do("POST", a.url+"/v1/login/verify", "application/json", lv, nil, true)
	if !bytes.Equal(cliReplay, r.body) {
		t.Fatalf("refusal differs from kep login verify's:\nserve: %s\nkep:   %s", r.body, cliReplay)
	}
	// Another origin, a malformed origin, a garbage response.
	r = c.do("POST", a.url+"/v1/login/challenges", "application/json", jsonBody(map[string]string{"origin": "ftp://x"}), nil, true)
	if r.status != 400 || errorCode(t, r.body) != serve.CodeBadOrigin {
		t.Fatalf("bad origin: %d %s", r.status, r.body)
	}
	r = c.do("POST", a.url+"/v1/login/verify", "application/json", jsonBody(map[string]any{"origin": origin, "response": map[string]string{"format": "bound", "cms": "AAAA"}}), nil, true)
	if r.status != 403 || !bytes.Contains(r.body, []byte(`"FORMAT"`)) {
		t.Fatalf("garbage response: %d %s", r.status, r.body)
	}
	// Both instances logged the requests with IDs and without the person's
	// data (LogPersonalData is off).
	for _, in := range []*instance{a, b} {
		logs := in.logs.String()
		if strings.Contains(logs, "Иванов") || strings.Contains(logs, "11223344595") || strings.Contains(logs, f.person) {
			t.Fatalf("personal data in the log:\n%s", logs)
		}
		n := 0
		for _, l := range in.logLines(t) {
			if l["msg"] == "request" {
				if id, _ := l["id"].(string); id == "" {
					t.Fatalf("request logged without an ID: %v", l)
				}
				n++
			}
		}
		if n < 2 {
			t.Fatalf("%d requests logged:\n%s", n, logs)
		}
	}
}

// TestVerifyAndCertificates: every endpoint with valid requests, validated
// against the OpenAPI document; the report equals kep verify --json's.
func TestVerifyAndCertificates(t *testing.T) {
	f := getFixture(t)
	in := f.start(t, f.baseConfig(), []string{"KEP_SERVE_MAX_CONCURRENT=16"})
	if !strings.Contains(in.logs.String(), `"maxConcurrent":16`) {
		t.Fatalf("the environment override was not applied:\n%s", in.logs.String())
	}
	c := newAPI(t)
	sig, _ := os.ReadFile(f.sig)
	doc, _ := os.ReadFile(f.doc)
	want, err := f.kep(nil, "verify", "--json", "--at", fixedAt, "--trust", f.demo.Path(f.demo.CA), "--trust-list", "none", "--content", f.doc, f.sig)
	if err != nil {
		t.Fatalf("kep verify: %v %s", err, want)
	}
	if !bytes.Contains(want, []byte(`"indication": "TOTAL_PASSED"`)) {
		t.Fatalf("the fixture does not verify: %s", want)
	}
	opts := `{"at":"` + fixedAt + `"}`
	body, ct := multipartBody(sig, opts, doc)
	r := c.do("POST", in.url+"/v1/signatures/verify", ct, body, nil, true)
	if r.status != 200 || !bytes.Equal(r.body, want) {
		t.Fatalf("multipart: %d\nserve: %s\nkep:   %s", r.status, r.body, want)
	}
	if r.header.Get("Kep-Indication") != "TOTAL_PASSED" || r.header.Get("X-Request-Id") == "" {
		t.Fatalf("headers: %v", r.header)
	}
	content := base64.StdEncoding.EncodeToString(doc)
	js := jsonBody(map[string]any{"signature": base64.StdEncoding.EncodeToString(sig), "content": content, "options": json.RawMessage(opts)})
	r = c.do("POST", in.url+"/v1/signatures/verify", "application/json", js, map[string]string{"X-Request-Id": "req-42"}, true)
	if r.status != 200 || !bytes.Equal(r.body, want) || r.header.Get("X-Request-Id") != "req-42" {
		t.Fatalf("json: %d %v\nserve: %s\nkep:   %s", r.status, r.header, r.body, want)
	}
	// A changed document: TOTAL_FAILED, as the CLI says (exit 1).
	bad := append([]byte{}, doc...)
	bad[0] ^= 1
	os.WriteFile(f.dir+"/changed.txt", bad, 0o600)
	wantBad, _ := f.kepStdout(nil, "verify", "--json", "--at", fixedAt, "--trust", f.demo.Path(f.demo.CA), "--trust-list", "none", "--content", f.dir+"/changed.txt", f.sig)
	body, ct = multipartBody(sig, opts, bad)
	r = c.do("POST", in.url+"/v1/signatures/verify", ct, body, nil, true)
	if r.status != 200 || !bytes.Equal(r.body, wantBad) || r.header.Get("Kep-Indication") != "TOTAL_FAILED" {
		t.Fatalf("changed document: %d\nserve: %s\nkep:   %s", r.status, r.body, wantBad)
	}
	// Attached, PEM-free, no content part; a detached one without content.
	att, _ := os.ReadFile(f.attached)
	body, ct = multipartBody(att, opts, nil)
	if r = c.do("POST", in.url+"/v1/signatures/verify", ct, body, nil, true); r.status != 200 || r.header.Get("Kep-Indication") != "TOTAL_PASSED" {
		t.Fatalf("attached: %d %s", r.status, r.body)
	}
	body, ct = multipartBody(sig, "", nil)
	if r = c.do("POST", in.url+"/v1/signatures/verify", ct, body, nil, true); r.status != 200 || !bytes.Contains(r.body, []byte("SIGNED_DATA_NOT_FOUND")) {
		t.Fatalf("detached without content: %d %s", r.status, r.body)
	}
	// Options kep verify refuses.
	for _, o := range []string{`{"profile":"xades"}`, `{"at":"yesterday"}`, `{"qualified":true}`, `{"revocation":"sometimes"}`, `{"purpose":"timestamping"}`} {
		body, ct = multipartBody(sig, o, doc)
		r = c.do("POST", in.url+"/v1/signatures/verify", ct, body, nil, false)
		if r.status != 400 || errorCode(t, r.body) != serve.CodeBadOptions {
			t.Fatalf("options %s: %d %s", o, r.status, r.body)
		}
	}
	// The certificate of the signer: verify it (as kep certs verify), then
	// it is known by its thumbprint.
	cert, err := f.kep(nil, "certs", "export", f.sig)
	if err != nil {
		t.Fatalf("kep certs export: %v %s", err, cert)
	}
	certFile := f.dir + "/signer.pem"
	os.WriteFile(certFile, cert, 0o600)
	wantChain, err := f.kep(nil, "certs", "verify", "--json", "--at", fixedAt, "--trust", f.demo.Path(f.demo.CA), certFile)
	if err != nil {
		t.Fatalf("kep certs verify: %v %s", err, wantChain)
	}
	r = c.do("POST", in.url+"/v1/certificates/verify", "application/json", jsonBody(map[string]any{"certificate": string(cert), "options": map[string]string{"at": fixedAt}}), nil, true)
	if r.status != 200 || !bytes.Equal(r.body, wantChain) {
		t.Fatalf("certificates/verify: %d\nserve: %s\nkep:   %s", r.status, r.body, wantChain)
	}
	r = c.do("GET", in.url+"/v1/certificates/"+strings.ToLower(f.person), "", nil, nil, true)
	var ci serve.CertificateInfo
	if r.status != 200 || json.Unmarshal(r.body, &struct {
		Source *string `json:"source"`
	}{&ci.Source}) != nil || ci.Source != "signature" || !bytes.Contains(r.body, []byte(f.person)) {
		t.Fatalf("certificates/{thumbprint}: %d %s", r.status, r.body)
	}
	// Not seen; not a thumbprint; a trust anchor is known.
	r = c.do("GET", in.url+"/v1/certificates/"+strings.Repeat("AB", 20), "", nil, nil, true)
	if r.status != 404 || errorCode(t, r.body) != serve.CodeNotFound {
		t.Fatalf("unknown thumbprint: %d %s", r.status, r.body)
	}
	r = c.do("GET", in.url+"/v1/certificates/xyz", "", nil, nil, false)
	if r.status != 400 {
		t.Fatalf("bad thumbprint: %d %s", r.status, r.body)
	}
	r = c.do("POST", in.url+"/v1/certificates/verify", "application/json", jsonBody(map[string]any{"certificate": "bm90IGEgY2VydA=="}), nil, true)
	if r.status != 422 || errorCode(t, r.body) != serve.CodeCertMalformed {
		t.Fatalf("not a certificate: %d %s", r.status, r.body)
	}
	// Trust, health, readiness, the document itself.
	r = c.do("GET", in.url+"/v1/trust", "", nil, nil, true)
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"roots": 2`)) {
		t.Fatalf("trust: %d %s", r.status, r.body)
	}
	for _, p := range []string{"/healthz", "/readyz", "/v1/openapi.json"} {
		if r = c.do("GET", in.url+p, "", nil, map[string]string{"Authorization": ""}, true); r.status != 200 {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
	}
	if !bytes.Equal(r.body, serve.OpenAPI) {
		t.Fatal("/v1/openapi.json is not the embedded document")
	}
}

// TestMetrics parses /metrics with the Prometheus text parser and checks the
// counters the requests must have moved: per endpoint and outcome, latency,
// revocation fetches (the demo CRL over HTTP) and cache hits.
func TestMetrics(t *testing.T) {
	f := getFixture(t)
	cfg := f.baseConfig()
	cfg["sharedCache"] = f.redisDB(3) // empty: this instance fetches itself
	in := f.start(t, cfg, nil)
	c := newAPI(t)
	sig, _ := os.ReadFile(f.sig)
	doc, _ := os.ReadFile(f.doc)
	f.mu.Lock()
	before := f.crlCount
	f.mu.Unlock()
	const n = 5
	for i := 0; i < n; i++ {
		body, ct := multipartBody(sig, "", doc)
		if r := c.do("POST", in.url+"/v1/signatures/verify", ct, body, nil, true); r.status != 200 || r.header.Get("Kep-Indication") != "TOTAL_PASSED" {
			t.Fatalf("verify %d: %d %s", i, r.status, r.body)
		}
	}
	f.mu.Lock()
	fetched := f.crlCount - before
	f.mu.Unlock()
	if fetched != 1 {
		t.Fatalf("the CRL was fetched %d times for %d verifications; want once (then cached)", fetched, n)
	}
	c.do("POST", in.url+"/v1/signatures/verify", "text/plain", []byte("x"), nil, false)
	r := c.do("GET", in.url+"/metrics", "", nil, map[string]string{"Authorization": ""}, true)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("the Prometheus parser refuses /metrics: %v\n%s", err, r.body)
	}
	get := func(name string, labels map[string]string) float64 {
		fam := fams[name]
		if fam == nil {
			// A vector without any sample yet is not exposed.
			return 0
		}
		var sum float64
	next:
		for _, m := range fam.Metric {
			for k, v := range labels {
				if !hasLabel(m, k, v) {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			}
		}
		return sum
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"kep_serve_requests_total", map[string]string{"endpoint": "signatures_verify", "outcome": "TOTAL_PASSED"}, n},
		{"kep_serve_request_duration_seconds", map[string]string{"endpoint": "signatures_verify", "outcome": "TOTAL_PASSED"}, n},
		{"kep_serve_requests_total", map[string]string{"endpoint": "signatures_verify", "outcome": serve.CodeUnsupportedMedia}, 1},
		{"kep_serve_revocation_fetches_total", map[string]string{"kind": "crl", "result": "ok"}, 1},
		{"kep_serve_revocation_cache_total", map[string]string{"level": "memory", "result": "hit"}, n - 1},
		{"kep_serve_revocation_checks_total", map[string]string{"state": "good"}, 1},
		{"kep_serve_verdicts_total", map[string]string{"endpoint": "signatures_verify", "result": "TOTAL_PASSED"}, n},
	}
	for _, ck := range checks {
		if got := get(ck.name, ck.labels); got != ck.want {
			t.Errorf("%s%v = %v, want %v", ck.name, ck.labels, got, ck.want)
		}
	}
	// A second instance sharing that Redis takes the answer from it.
	in2 := f.start(t, cfg, nil)
	body, ct := multipartBody(sig, "", doc)
	if r := c.do("POST", in2.url+"/v1/signatures/verify", ct, body, nil, true); r.status != 200 {
		t.Fatalf("second instance: %d %s", r.status, r.body)
	}
	r = c.do("GET", in2.url+"/metrics", "", nil, nil, true)
	fams, err = p.TextToMetricFamilies(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if got := get("kep_serve_revocation_cache_total", map[string]string{"level": "shared", "result": "hit"}); got != 1 {
		t.Errorf("shared cache hits on the second instance: %v", got)
	}
	if got := get("kep_serve_revocation_fetches_total", nil); got != 0 {
		t.Errorf("the second instance fetched revocation data %v times", got)
	}
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.Label {
		if l.GetName() == k {
			return l.GetValue() == v
		}
	}
	return false
}

// TestBadInput: each kind of bad request gets its 4xx and code, and the
// error answers conform to the document.
func TestBadInput(t *testing.T) {
	f := getFixture(t)
	in := f.start(t, f.baseConfig(), nil)
	c := newAPI(t)
	sig, _ := os.ReadFile(f.sig)
	doc, _ := os.ReadFile(f.doc)
	u := in.url + "/v1/signatures/verify"
	garbage, gct := multipartBody([]byte("this is not a signature at all"), "", doc)
	trunc, tct := multipartBody(sig[:len(sig)/2], "", doc)
	late := func() ([]byte, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		w, _ := mw.CreateFormFile("content", "c")
		w.Write(doc)
		w, _ = mw.CreateFormFile("signature", "s")
		w.Write(sig)
		mw.Close()
		return buf.Bytes(), mw.FormDataContentType()
	}
	lateBody, lct := late()
	cases := []struct {
		name, method, url, ctype string
		body                     []byte
		hdr                      map[string]string
		status                   int
		code                     string
		specOK                   bool
	}{
		{"garbage", "POST", u, gct, garbage, nil, 422, serve.CodeNotCMS, true},
		{"truncated CMS", "POST", u, tct, trunc, nil, 422, serve.CodeSignatureMalformed, true},
		{"wrong content type", "POST", u, "text/plain", doc, nil, 415, serve.CodeUnsupportedMedia, false},
		{"no content type", "POST", u, "", doc, nil, 415, serve.CodeUnsupportedMedia, false},
		{"broken JSON", "POST", u, "application/json", []byte(`{"signature":`), nil, 400, serve.CodeBadRequest, false},
		{"unknown JSON member", "POST", u, "application/json", []byte(`{"signature":"AAAA","sig":"x"}`), nil, 400, serve.CodeBadRequest, false},
		{"bad base64", "POST", u, "application/json", []byte(`{"signature":"!!!"}`), nil, 400, serve.CodeBadRequest, true},
		{"multipart without boundary", "POST", u, "multipart/form-data", doc, nil, 400, serve.CodeBadRequest, false},
		{"content before signature", "POST", u, lct, lateBody, nil, 400, serve.CodeBadRequest, false},
		{"no credentials", "POST", u, gct, garbage, map[string]string{"Authorization": ""}, 401, serve.CodeUnauthorized, false},
		{"wrong key", "POST", u, gct, garbage, map[string]string{"Authorization": "Bearer not-the-key-0123456789"}, 401, serve.CodeUnauthorized, false},
		{"basic auth", "POST", u, gct, garbage, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("a:"+apiKey))}, 401, serve.CodeUnauthorized, false},
		{"no credentials for login", "POST", in.url + "/v1/login/challenges", "application/json", []byte(`{"origin":"https://a.ru"}`), map[string]string{"Authorization": ""}, 401, serve.CodeUnauthorized, false},
		{"no credentials for trust", "GET", in.url + "/v1/trust", "", nil, map[string]string{"Authorization": ""}, 401, serve.CodeUnauthorized, false},
		{"unknown login member", "POST", in.url + "/v1/login/challenges", "application/json", []byte(`{"origin":"https://a.ru","ttl":"1h"}`), nil, 400, serve.CodeBadRequest, false},
		{"login verify without response", "POST", in.url + "/v1/login/verify", "application/json", []byte(`{"origin":"https://a.ru"}`), nil, 400, serve.CodeBadRequest, false},
	}
	for _, tc := range cases {
		r := c.do(tc.method, tc.url, tc.ctype, tc.body, tc.hdr, tc.specOK)
		if r.status != tc.status || errorCode(t, r.body) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.body, tc.status, tc.code)
		}
		if tc.code == serve.CodeSignatureMalformed && !bytes.Contains(r.body, []byte(`"FORMAT_FAILURE"`)) {
			t.Errorf("%s: the report is not beside the error: %s", tc.name, r.body)
		}
		if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", tc.name)
		}
	}
	// Unknown paths and methods (not in the document: checked by hand).
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{{"GET", "/v2/anything", 404, serve.CodeNotFound}, {"GET", "/v1/signatures/verify", 405, serve.CodeMethodNotAllowed}, {"DELETE", "/v1/trust", 405, serve.CodeMethodNotAllowed}} {
		req, _ := http.NewRequest(tc.method, in.url+tc.path, nil)
		resp, b := call(t, c.c, req)
		if resp.StatusCode != tc.status || errorCode(t, b) != tc.code {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, b)
		}
	}
	if strings.Contains(in.logs.String(), "goroutine ") || strings.Contains(in.logs.String(), "panic") {
		t.Fatalf("a stack trace in the log:\n%s", in.logs.String())
	}
}

// TestHugeBodyAndSlowClient: a 2 GB body streamed from a generator is
// refused at the limit (64 MiB here) with 413, the server's peak RSS staying
// bounded; a client sending below minBodyRate gets 408; one that stops
// sending its headers is cut off at readHeaderTimeout.
func TestHugeBodyAndSlowClient(t *testing.T) {
	f := getFixture(t)
	cfg := f.baseConfig()
	cfg["readHeaderTimeout"] = "2s"
	in := f.start(t, cfg, nil)
	sig, _ := os.ReadFile(f.sig)
	base, err := vmHWM(in.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	const total = 2 << 30
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	var sent int64
	go func() {
		w, _ := mw.CreateFormFile("signature", "s")
		w.Write(sig)
		w, _ = mw.CreateFormFile("content", "c")
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<12) // 64 KiB
		for sent < total {
			n, err := w.Write(chunk)
			sent += int64(n)
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", in.url+"/v1/signatures/verify", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+apiKey)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("2 GB body: %v (after %d bytes)", err, sent)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pr.CloseWithError(io.ErrClosedPipe)
	if resp.StatusCode != 413 || errorCode(t, b) != serve.CodeTooLarge {
		t.Fatalf("2 GB body: %d %s", resp.StatusCode, b)
	}
	peak, _ := vmHWM(in.cmd.Process.Pid)
	t.Logf("2 GB body refused after %v, %d MiB sent; server VmHWM %d → %d MiB", time.Since(start).Round(time.Millisecond), sent>>20, base>>20, peak>>20)
	if peak-base > 48<<20 {
		t.Fatalf("peak RSS grew by %d MiB for a refused body", (peak-base)>>20)
	}
	if sent >= total {
		t.Fatal("the whole 2 GB were read before the refusal")
	}

	// Slow client: 4 KiB/s, far below minBodyRate (64 KiB/s), for more than
	// the 2 s grace.
	pr2, pw2 := io.Pipe()
	mw2 := multipart.NewWriter(pw2)
	go func() {
		w, _ := mw2.CreateFormFile("signature", "s")
		w.Write(sig)
		w, _ = mw2.CreateFormFile("content", "c")
		for i := 0; i < 40; i++ {
			if _, err := w.Write(make([]byte, 512)); err != nil {
				return
			}
			time.Sleep(125 * time.Millisecond)
		}
		mw2.Close()
		pw2.Close()
	}()
	req, _ = http.NewRequest("POST", in.url+"/v1/signatures/verify", pr2)
	req.Header.Set("Content-Type", mw2.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+apiKey)
	start = time.Now()
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("slow client: %v", err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	pw2.CloseWithError(io.ErrClosedPipe)
	if resp.StatusCode != 408 || errorCode(t, b) != serve.CodeTimeout {
		t.Fatalf("slow client: %d %s", resp.StatusCode, b)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("slow client answered after %v", d)
	}
	// Slow headers: the connection is closed at readHeaderTimeout.
	conn, err := (&net.Dialer{}).Dial("tcp", strings.TrimPrefix(in.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /v1/signatures/verify HTTP/1.1\r\nHost: x\r\n")
	start = time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := conn.Read(make([]byte, 1))
	if d := time.Since(start); err == nil || d > 5*time.Second {
		t.Fatalf("slow headers: read %d bytes, %v, after %v", n, err, d)
	}
}

// TestLoad: verifications at concurrency 32 over loopback, zero errors.
// KEP_SERVE_LOAD_N sets the count (make bench runs 20,000 in
// bench/cmd/servebench); make test runs 2,000 to stay fast.
func TestLoad(t *testing.T) {
	f := getFixture(t)
	cfg := f.baseConfig()
	cfg["revocation"] = "off"
	cfg["crls"] = []string{f.demo.Path(f.demo.CRL)}
	cfg["maxConcurrent"] = 32
	in := f.start(t, cfg, nil)
	n := 2000
	if s := os.Getenv("KEP_SERVE_LOAD_N"); s != "" {
		fmt.Sscan(s, &n)
	}
	sig, _ := os.ReadFile(f.sig)
	doc, _ := os.ReadFile(f.doc)
	body, ct := multipartBody(sig, "", doc)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 60 * time.Second}
	var mu sync.Mutex
	var errs []string
	var lat []time.Duration
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				t0 := time.Now()
				req, _ := http.NewRequest("POST", in.url+"/v1/signatures/verify", bytes.NewReader(body))
				req.Header.Set("Content-Type", ct)
				req.Header.Set("Authorization", "Bearer "+apiKey)
				resp, err := client.Do(req)
				var msg string
				if err != nil {
					msg = err.Error()
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 || resp.Header.Get("Kep-Indication") != "TOTAL_PASSED" {
						msg = fmt.Sprintf("%d %s", resp.StatusCode, resp.Header.Get("Kep-Indication"))
					}
				}
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				if msg != "" {
					errs = append(errs, msg)
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	el := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("%d verifications at concurrency 32 in %v: %.0f/s, p50 %v, p99 %v", n, el.Round(time.Millisecond), float64(n)/el.Seconds(),
		lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond))
	if len(errs) > 0 {
		t.Fatalf("%d errors of %d, first: %s", len(errs), n, errs[0])
	}
}

// TestTrustListReload: the list of accredited CAs is read again on schedule
// and swapped whole; /v1/trust and /readyz report the version in use; a
// broken file keeps the previous list.
func TestTrustListReload(t *testing.T) {
	f := getFixture(t)
	dir := t.TempDir()
	list := dir + "/tsl.xml"
	put := func(src string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		tmp := list + ".new"
		os.WriteFile(tmp, b, 0o600)
		if err := os.Rename(tmp, list); err != nil {
			t.Fatal(err)
		}
	}
	put("../testdata/trustlist/tsl.xml")
	cfg := f.baseConfig()
	cfg["trustList"], cfg["trustListRefresh"] = list, "300ms"
	in := f.start(t, cfg, nil)
	c := newAPI(t)
	version := func(path string) int64 {
		r := c.do("GET", in.url+path, "", nil, nil, true)
		var v struct {
			List  *struct{ Version int64 }
			Trust *struct{ List *struct{ Version int64 } }
		}
		json.Unmarshal(r.body, &v)
		switch {
		case v.List != nil:
			return v.List.Version
		case v.Trust != nil && v.Trust.List != nil:
			return v.Trust.List.Version
		}
		t.Fatalf("%s: no list version: %s", path, r.body)
		return 0
	}
	if v, w := version("/v1/trust"), version("/readyz"); v != 4242 || w != 4242 {
		t.Fatalf("versions %d %d, want 4242", v, w)
	}
	put("../testdata/trustlist/etrust-layout.xml")
	waitFor := func(want int64) {
		for deadline := time.Now().Add(10 * time.Second); version("/readyz") != want; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the list was not reloaded to version %d", want)
			}
		}
	}
	waitFor(16326)
	os.WriteFile(list, []byte("<not a list"), 0o600)
	time.Sleep(time.Second)
	if v := version("/v1/trust"); v != 16326 {
		t.Fatalf("after a broken file: version %d", v)
	}
	if !strings.Contains(in.logs.String(), "trust reload failed") {
		t.Fatal("the failed reload was not logged")
	}
}
