package revocation

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/internal/testpki"
)

// responder answers OCSP requests on loopback by running `openssl ocsp` as
// a responder (-index, -rsigner, -CA) on each request read from a file:
// OpenSSL's responder code, without `openssl ocsp -port`, which listens on
// every interface.
type responder struct {
	o    *ossltest.OpenSSL
	args []string
	mu   sync.Mutex
	hits int
}

func (r *responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil || req.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hits++
	in := r.o.Path(fmt.Sprintf("ocsp-req-%p-%d.der", r, r.hits))
	out := in + ".resp"
	if err := os.WriteFile(in, body, 0o600); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if _, err := r.o.Run(nil, append([]string{"ocsp", "-reqin", in, "-respout", out}, r.args...)...); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := os.ReadFile(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}

// crlServer serves CRLs by path with an ETag and answers conditional GETs.
type crlServer struct {
	mu           sync.Mutex
	crls         map[string][]byte
	full, not304 int
}

func (s *crlServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, ok := s.crls[req.URL.Path]
	if !ok {
		http.NotFound(w, req)
		return
	}
	sum := sha256.Sum256(body)
	etag := fmt.Sprintf(`"%x"`, sum[:8])
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
	if req.Header.Get("If-None-Match") == etag {
		s.not304++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.full++
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Write(body)
}

func (s *crlServer) counts() (full, notModified int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.full, s.not304
}

// fixture is a GOST root with a delegated OCSP responder, certificates
// pointing at loopback servers, and those servers.
type fixture struct {
	p       *testpki.PKI
	o       *ossltest.OpenSSL
	root    *certs.Certificate
	crls    *crlServer
	ocsp    *responder
	static  atomic.Pointer[[]byte] // what the static OCSP server answers
	ocspURL string
	serial  int64

	good, revoked, unknown, rogueLeaf, staticLeaf, down, crlGood, crlRevoked, inter, wrongCRL *certs.Certificate
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	p := testpki.New(t)
	f := &fixture{p: p, o: p.O, root: p.Root.Cert, crls: &crlServer{crls: map[string][]byte{}}, serial: 0x100}
	crlSrv := httptest.NewServer(f.crls)
	t.Cleanup(crlSrv.Close)
	f.ocsp = &responder{o: f.o}
	ocspSrv := httptest.NewServer(f.ocsp)
	t.Cleanup(ocspSrv.Close)
	rogue := &responder{o: f.o}
	rogueSrv := httptest.NewServer(rogue)
	t.Cleanup(rogueSrv.Close)
	staticSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write(*f.static.Load())
	}))
	t.Cleanup(staticSrv.Close)
	f.ocspURL = ocspSrv.URL

	aia := func(u string) string { return "authorityInfoAccess=OCSP;URI:" + u + "/\n" }
	cdp := "crlDistributionPoints=URI:" + crlSrv.URL + "/root.crl\n"
	signer := f.issue(t, "ocsp-signer", "keyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\n")
	f.good = f.issue(t, "good", aia(ocspSrv.URL)+cdp)
	f.revoked = f.issue(t, "revoked", aia(ocspSrv.URL)+cdp)
	f.unknown = f.issue(t, "unknown", aia(ocspSrv.URL))
	f.rogueLeaf = f.issue(t, "rogue-leaf", aia(rogueSrv.URL))
	f.staticLeaf = f.issue(t, "static-leaf", aia(staticSrv.URL))
	f.down = f.issue(t, "down", aia("http://"+closedPort(t)))
	f.crlGood = f.issue(t, "crl-good", cdp)
	f.crlRevoked = f.issue(t, "crl-revoked", cdp)
	f.inter = f.issue(t, "inter", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"+cdp)
	f.wrongCRL = f.issue(t, "wrong-crl", "crlDistributionPoints=URI:"+crlSrv.URL+"/wrong.crl\n")

	// The responder's database: unknown is missing on purpose.
	var index strings.Builder
	revokedAt := time.Now().Add(-time.Hour).UTC().Format("060102150405Z")
	for _, c := range []*certs.Certificate{signer, f.good, f.rogueLeaf, f.staticLeaf} {
		fmt.Fprintf(&index, "V\t%s\t\t%X\tunknown\t/CN=%[2]X\n", c.NotAfter.UTC().Format("060102150405Z"), c.SerialNumber)
	}
	fmt.Fprintf(&index, "R\t%s\t%s,keyCompromise\t%X\tunknown\t/CN=%[3]X\n", f.revoked.NotAfter.UTC().Format("060102150405Z"), revokedAt, f.revoked.SerialNumber)
	indexFile := f.o.WriteFile(t, "ocsp-index.txt", []byte(index.String()))
	f.ocsp.args = []string{"-index", indexFile, "-CA", p.Root.CertFile, "-rsigner", f.o.Path("ocsp-signer.pem"),
		"-rkey", f.o.Path("ocsp-signer.key"), "-rmd", "md_gost12_256", "-ndays", "1"}

	// A responder whose key has no authority over the root's certificates.
	f.o.MustRun(t, nil, append(append([]string{"genpkey"}, testpki.CryptoProA.Args...), "-out", f.o.Path("rogue.key"))...)
	f.o.MustRun(t, nil, "req", "-new", "-x509", "-key", f.o.Path("rogue.key"), "-md_gost12_256", "-days", "30",
		"-subj", "/CN=rogue responder", "-out", f.o.Path("rogue.pem"))
	rogue.args = []string{"-index", indexFile, "-CA", p.Root.CertFile, "-rsigner", f.o.Path("rogue.pem"),
		"-rkey", f.o.Path("rogue.key"), "-rmd", "md_gost12_256", "-ndays", "1"}

	crlFile, _ := p.CRL(t, &testpki.Identity{Cert: f.revoked}, &testpki.Identity{Cert: f.crlRevoked}, &testpki.Identity{Cert: f.inter})
	f.crls.crls["/root.crl"] = readFile(t, crlFile)
	// A CRL with the root's name signed by another key.
	f.o.MustRun(t, nil, "req", "-new", "-x509", "-key", f.o.Path("rogue.key"), "-md_gost12_256", "-days", "30",
		"-subj", "/CN=kep test root/O=kep/C=RU", "-utf8", "-out", f.o.Path("fake-root.pem"))
	f.crls.crls["/wrong.crl"] = f.gencrl(t, f.o.Path("fake-root.pem"), f.o.Path("rogue.key"))
	return f
}

// issue makes a certificate for a new CryptoPro-A key signed by the root,
// with extension lines ext (a leaf's basicConstraints unless ext says otherwise).
func (f *fixture) issue(t *testing.T, name, ext string) *certs.Certificate {
	t.Helper()
	f.serial++
	key, csr, pem := f.o.Path(name+".key"), f.o.Path(name+".csr"), f.o.Path(name+".pem")
	f.o.MustRun(t, nil, append(append([]string{"genpkey"}, testpki.CryptoProA.Args...), "-out", key)...)
	f.o.MustRun(t, nil, "req", "-new", "-key", key, "-subj", "/CN="+name+"/O=kep tests/C=RU", "-out", csr)
	if !strings.Contains(ext, "basicConstraints") {
		ext = "basicConstraints=CA:FALSE\n" + ext
	}
	extFile := f.o.WriteFile(t, name+".ext", []byte(ext+"subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"))
	f.o.MustRun(t, nil, "x509", "-req", "-in", csr, "-CA", f.p.Root.CertFile, "-CAkey", f.p.Root.KeyFile,
		"-md_gost12_256", "-days", "3650", "-set_serial", fmt.Sprint(f.serial), "-extfile", extFile, "-out", pem)
	c, err := certs.ParseCertificates(readFile(t, pem))
	if err != nil || len(c) != 1 {
		t.Fatalf("%s: %v", pem, err)
	}
	return c[0]
}

// gencrl has the CA certificate caFile with key keyFile issue an empty CRL.
func (f *fixture) gencrl(t *testing.T, caFile, keyFile string) []byte {
	t.Helper()
	index := f.o.WriteFile(t, "empty.index", nil)
	f.o.WriteFile(t, "empty.crlnumber", []byte("01\n"))
	conf := f.o.WriteFile(t, "empty.cnf", []byte(fmt.Sprintf("[ca]\ndefault_ca=x\n[x]\ndatabase=%s\ncrlnumber=%s\ndefault_md=md_gost12_256\ndefault_crl_days=30\n",
		index, f.o.Path("empty.crlnumber"))))
	return f.o.MustRun(t, nil, "ca", "-gencrl", "-config", conf, "-keyfile", keyFile, "-cert", caFile)
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// closedPort returns a loopback host:port that nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// offline is an HTTP client that fails every request and counts them.
type offline struct{ n atomic.Int32 }

func (o *offline) RoundTrip(*http.Request) (*http.Response, error) {
	o.n.Add(1)
	return nil, errors.New("offline")
}

func expect(t *testing.T, st *Status, err error, state, source, sub string) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if st.State != state || st.Source != source || st.SubIndication != sub {
		t.Fatalf("got %s/%s/%s, want %s/%s/%s: %s (warnings %q)", st.State, st.Source, st.SubIndication, state, source, sub, st.Detail, st.Warnings)
	}
	t.Logf("%s: %s", st.State, st.Detail)
}

func TestChecker(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	root := f.root

	t.Run("ocsp good", func(t *testing.T) {
		st, err := (&Checker{}).Check(ctx, f.good, root)
		expect(t, st, err, Good, SourceOCSP, "")
		if st.NextUpdate.IsZero() || st.ProducedAt.IsZero() || !strings.Contains(st.Detail, "delegated responder") {
			t.Errorf("%+v", st)
		}
	})
	t.Run("ocsp revoked leaf", func(t *testing.T) {
		st, err := (&Checker{}).Check(ctx, f.revoked, root)
		expect(t, st, err, Revoked, SourceOCSP, SubRevokedNoPOE)
		if st.Reason != "keyCompromise" || st.RevokedAt.IsZero() {
			t.Errorf("reason %q, at %v", st.Reason, st.RevokedAt)
		}
	})
	t.Run("ocsp unknown", func(t *testing.T) {
		st, err := (&Checker{}).Check(ctx, f.unknown, root)
		expect(t, st, err, Unknown, SourceOCSP, SubRevokedNoPOE)
		if !strings.Contains(st.Detail, "streebog256") {
			t.Errorf("the Streebog-256 CertID was not tried: %s", st.Detail)
		}
	})
	t.Run("request as openssl ocsp makes it", func(t *testing.T) {
		for _, c := range []struct {
			d    *certs.Digest
			args []string
		}{{certs.SHA1, nil}, {certs.Streebog256, []string{"-md_gost12_256"}}} {
			out := f.o.Path("openssl-" + c.d.Name + ".req")
			args := append(append([]string{"ocsp", "-no_nonce", "-issuer", f.p.Root.CertFile}, c.args...), "-cert", f.o.Path("good.pem"), "-reqout", out)
			f.o.MustRun(t, nil, args...)
			id, err := newCertID(c.d, f.good, root)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := buildOCSPRequest(id.marshal(), nil), readFile(t, out); !bytes.Equal(got, want) {
				t.Errorf("%s: request\n%x\nopenssl ocsp\n%x", c.d.Name, got, want)
			}
		}
	})
	t.Run("ocsp streebog certID", func(t *testing.T) {
		c := &Checker{}
		st, f2 := c.queryOCSP(ctx, f.ocspURL, certs.Streebog256, f.good, root, time.Now())
		if f2 != nil {
			t.Fatal(f2)
		}
		expect(t, st, nil, Good, SourceOCSP, "")
	})
	t.Run("ocsp stale", func(t *testing.T) {
		c := &Checker{Policy: Policy{Mode: ModeOCSP}, Now: func() time.Time { return time.Now().Add(49 * time.Hour) }}
		st, err := c.Check(ctx, f.good, root)
		expect(t, st, err, Indeterminate, SourceOCSP, SubTryLater)
		if !strings.Contains(st.Detail, "stale") {
			t.Error(st.Detail)
		}
	})
	t.Run("ocsp issued after the validation time", func(t *testing.T) {
		c := &Checker{Policy: Policy{Mode: ModeOCSP}, Now: func() time.Time { return time.Now().Add(-time.Hour) }}
		st, err := c.Check(ctx, f.good, root)
		expect(t, st, err, Indeterminate, SourceOCSP, SubRevocationOutOfBounds)
	})
	t.Run("ocsp responder without authority", func(t *testing.T) {
		st, err := (&Checker{}).Check(ctx, f.rogueLeaf, root)
		expect(t, st, err, Indeterminate, SourceOCSP, SubTryLater)
		if !strings.Contains(st.Detail, "not authorised") {
			t.Error(st.Detail)
		}
	})

	// Responses fetched for one request, served for another.
	fetch := func(t *testing.T, cert *certs.Certificate, nonce []byte) []byte {
		id, err := newCertID(certs.SHA1, cert, root)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(f.ocspURL, "application/ocsp-request", strings.NewReader(string(buildOCSPRequest(id.marshal(), nonce))))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Run("ocsp response for another certificate", func(t *testing.T) {
		b := fetch(t, f.good, nil)
		f.static.Store(&b)
		st, err := (&Checker{Policy: Policy{Mode: ModeOCSP}}).Check(ctx, f.staticLeaf, root)
		expect(t, st, err, Indeterminate, SourceOCSP, SubTryLater)
		if !strings.Contains(st.Detail, "no response for the certificate's CertID") {
			t.Error(st.Detail)
		}
	})
	t.Run("ocsp nonce", func(t *testing.T) {
		b := fetch(t, f.staticLeaf, octetString([]byte("another request")))
		f.static.Store(&b)
		st, err := (&Checker{}).Check(ctx, f.staticLeaf, root)
		expect(t, st, err, Indeterminate, SourceOCSP, SubTryLater)
		if !strings.Contains(st.Detail, "nonce") {
			t.Error(st.Detail)
		}
		b = fetch(t, f.staticLeaf, nil) // a pre-produced response without a nonce
		f.static.Store(&b)
		st, err = (&Checker{}).Check(ctx, f.staticLeaf, root)
		expect(t, st, err, Good, SourceOCSP, "")
		st, err = (&Checker{Policy: Policy{RequireNonce: true}}).Check(ctx, f.staticLeaf, root)
		expect(t, st, err, Indeterminate, SourceOCSP, SubTryLater)
	})
	t.Run("ocsp responder byKey", func(t *testing.T) {
		id, err := newCertID(certs.SHA1, f.staticLeaf, root)
		if err != nil {
			t.Fatal(err)
		}
		in := f.o.WriteFile(t, "bykey.req", buildOCSPRequest(id.marshal(), nil))
		f.o.MustRun(t, nil, append([]string{"ocsp", "-reqin", in, "-respout", in + ".resp", "-resp_key_id"}, f.ocsp.args...)...)
		b := readFile(t, in+".resp")
		f.static.Store(&b)
		st, err := (&Checker{}).Check(ctx, f.staticLeaf, root)
		expect(t, st, err, Good, SourceOCSP, "")
	})
	t.Run("unreachable responder", func(t *testing.T) {
		st, err := (&Checker{Policy: Policy{Timeout: 5 * time.Second}}).Check(ctx, f.down, root)
		expect(t, st, err, Indeterminate, SourceOCSP, SubTryLater)
		st, err = (&Checker{Policy: Policy{SoftFail: true}}).Check(ctx, f.down, root)
		expect(t, st, err, Good, "", "")
		if !st.SoftFail || len(st.Warnings) != 2 {
			t.Errorf("soft-fail %v, warnings %q", st.SoftFail, st.Warnings)
		}
		// Soft-fail never hides invalid data.
		st, err = (&Checker{Policy: Policy{SoftFail: true}}).Check(ctx, f.rogueLeaf, root)
		expect(t, st, err, Indeterminate, SourceOCSP, SubTryLater)
	})
	t.Run("unreachable responder asked once", func(t *testing.T) {
		// A responder that cannot be reached is not asked again with the
		// Streebog-256 CertID.
		off := &offline{}
		st, err := (&Checker{HTTP: &http.Client{Transport: off}, Policy: Policy{Mode: ModeOCSP}}).Check(ctx, f.good, root)
		expect(t, st, err, Indeterminate, SourceOCSP, SubTryLater)
		if off.n.Load() != 1 {
			t.Errorf("%d requests to an unreachable responder, want 1", off.n.Load())
		}
	})
	t.Run("unreachable responder, then one without authority", func(t *testing.T) {
		// The invalid answer counts over the unreachable one: soft-fail,
		// which forgives only unreachable responders, does not accept it.
		down, rogue := f.down.OCSPServer[0], f.rogueLeaf.OCSPServer[0]
		leaf := f.issue(t, "two-responders", "authorityInfoAccess=OCSP;URI:"+down+",OCSP;URI:"+rogue+"\n")
		st, err := (&Checker{Policy: Policy{Mode: ModeOCSP, SoftFail: true}}).Check(ctx, leaf, root)
		expect(t, st, err, Indeterminate, SourceOCSP, SubTryLater)
		if st.URL != rogue || st.SoftFail || !strings.Contains(st.Detail, "not authorised") {
			t.Errorf("reported %s (soft-fail %v): %s", st.URL, st.SoftFail, st.Detail)
		}
	})
	t.Run("crl good and revoked", func(t *testing.T) {
		st, err := (&Checker{}).Check(ctx, f.crlGood, root)
		expect(t, st, err, Good, SourceCRL, "")
		if len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "no HTTP OCSP responder") {
			t.Errorf("warnings %q", st.Warnings)
		}
		st, err = (&Checker{}).Check(ctx, f.crlRevoked, root)
		expect(t, st, err, Revoked, SourceCRL, SubRevokedNoPOE)
		st, err = (&Checker{Policy: Policy{Mode: ModeCRL}}).Check(ctx, f.revoked, root)
		expect(t, st, err, Revoked, SourceCRL, SubRevokedNoPOE)
	})
	t.Run("crl revoked intermediate", func(t *testing.T) {
		st, err := (&Checker{}).Check(ctx, f.inter, root)
		expect(t, st, err, Revoked, SourceCRL, SubRevokedNoPOE)
	})
	t.Run("crl signed by the wrong key", func(t *testing.T) {
		st, err := (&Checker{}).Check(ctx, f.wrongCRL, root)
		expect(t, st, err, Indeterminate, SourceCRL, SubTryLater)
		if !strings.Contains(st.Detail, "signature") {
			t.Error(st.Detail)
		}
	})
	t.Run("crl stale", func(t *testing.T) {
		c := &Checker{Now: func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }}
		st, err := c.Check(ctx, f.crlGood, root)
		expect(t, st, err, Indeterminate, SourceCRL, SubTryLater)
	})
	t.Run("crl cache", func(t *testing.T) {
		dir := t.TempDir()
		full0, _ := f.crls.counts()
		st, err := (&Checker{CacheDir: dir}).Check(ctx, f.crlGood, root)
		expect(t, st, err, Good, SourceCRL, "")
		if full, _ := f.crls.counts(); full != full0+1 {
			t.Fatalf("%d downloads, want 1", full-full0)
		}
		// Fresh in the cache: no request at all.
		off := &offline{}
		st, err = (&Checker{CacheDir: dir, HTTP: &http.Client{Transport: off}}).Check(ctx, f.crlRevoked, root)
		expect(t, st, err, Revoked, SourceCRL, SubRevokedNoPOE)
		if off.n.Load() != 0 {
			t.Errorf("%d requests with a fresh cache", off.n.Load())
		}
		// Due for revalidation: a conditional GET answered 304.
		later := func() time.Time { return time.Now().Add(10 * time.Minute) }
		st, err = (&Checker{CacheDir: dir, Now: later, Policy: Policy{CRLRefresh: time.Minute}}).Check(ctx, f.crlGood, root)
		expect(t, st, err, Good, SourceCRL, "")
		if full, notModified := f.crls.counts(); full != full0+1 || notModified != 1 {
			t.Errorf("downloads %d, 304s %d; want 1, 1", full-full0, notModified)
		}
		// Revalidation impossible: the cached CRL is still used, with a warning.
		st, err = (&Checker{CacheDir: dir, HTTP: &http.Client{Transport: off}, Now: later, Policy: Policy{CRLRefresh: time.Nanosecond}}).Check(ctx, f.crlGood, root)
		expect(t, st, err, Good, SourceCRL, "")
		if off.n.Load() != 1 || !strings.Contains(strings.Join(st.Warnings, ";"), "revalidation failed") {
			t.Errorf("requests %d, warnings %q", off.n.Load(), st.Warnings)
		}
		// Size limit.
		st, err = (&Checker{Policy: Policy{MaxCRLSize: 100}}).Check(ctx, f.crlGood, root)
		expect(t, st, err, Indeterminate, SourceCRL, SubTryLater)
	})
	t.Run("evidence record and replay", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "evidence")
		cases := []struct {
			cert               *certs.Certificate
			state, source, sub string
			reason             string
		}{
			{f.good, Good, SourceOCSP, "", ""},
			{f.revoked, Revoked, SourceOCSP, SubRevokedNoPOE, "keyCompromise"},
			{f.crlRevoked, Revoked, SourceCRL, SubRevokedNoPOE, "unspecified"},
		}
		now := time.Now()
		at := func() time.Time { return now }
		recorded := map[*certs.Certificate]*Status{}
		for _, c := range cases {
			st, err := (&Checker{Evidence: &Evidence{Dir: dir}, Now: at}).Check(ctx, c.cert, root)
			expect(t, st, err, c.state, c.source, c.sub)
			if st.Reason != c.reason {
				t.Errorf("%s: reason %q, want %q", c.cert.Subject.CommonName, st.Reason, c.reason)
			}
			recorded[c.cert] = st
		}
		// Two OCSP responses and one CRL, each with its description.
		for kind, n := range map[string]int{SourceOCSP: 2, SourceCRL: 1} {
			der, _ := filepath.Glob(filepath.Join(dir, kind+"-*.der"))
			meta, _ := filepath.Glob(filepath.Join(dir, kind+"-*.json"))
			if len(der) != n || len(meta) != n {
				t.Errorf("%s evidence: %d .der and %d .json files, want %d of each", kind, len(der), len(meta), n)
			}
		}
		off := &offline{}
		replay := &Checker{Evidence: &Evidence{Dir: dir, Replay: true}, HTTP: &http.Client{Transport: off}, Now: at}
		for _, c := range cases {
			st, err := replay.Check(ctx, c.cert, root)
			expect(t, st, err, c.state, c.source, c.sub)
			rec := recorded[c.cert]
			if st.Reason != c.reason || !st.RevokedAt.Equal(rec.RevokedAt) || !st.ThisUpdate.Equal(rec.ThisUpdate) || st.URL != rec.URL {
				t.Errorf("%s: replayed %s %v %v %s, recorded %s %v %v %s", c.cert.Subject.CommonName,
					st.Reason, st.RevokedAt, st.ThisUpdate, st.URL, rec.Reason, rec.RevokedAt, rec.ThisUpdate, rec.URL)
			}
		}
		st, err := replay.Check(ctx, f.crlGood, root) // the same CRL as crlRevoked
		expect(t, st, err, Good, SourceCRL, "")
		st, err = replay.Check(ctx, f.unknown, root) // never recorded
		expect(t, st, err, Indeterminate, SourceOCSP, SubTryLater)
		if !strings.Contains(st.Detail, "not in the evidence directory") {
			t.Errorf("never recorded: %s", st.Detail)
		}
		// An empty evidence directory answers nothing, whatever was recorded
		// elsewhere. (When every source is unavailable, the first one tried,
		// OCSP, is the one reported.)
		empty := &Checker{Evidence: &Evidence{Dir: t.TempDir(), Replay: true}, HTTP: &http.Client{Transport: off}, Now: at}
		for _, c := range cases {
			st, err := empty.Check(ctx, c.cert, root)
			expect(t, st, err, Indeterminate, SourceOCSP, SubTryLater)
			if !strings.Contains(st.Detail, "not in the evidence directory") {
				t.Errorf("%s from an empty directory: %s", c.cert.Subject.CommonName, st.Detail)
			}
		}
		if off.n.Load() != 0 {
			t.Errorf("%d requests in replay mode", off.n.Load())
		}
	})
	t.Run("mode off and bad calls", func(t *testing.T) {
		st, err := (&Checker{Policy: Policy{Mode: ModeOff}}).Check(ctx, f.good, root)
		expect(t, st, err, Indeterminate, "", "")
		if _, err := (&Checker{}).Check(ctx, root, f.good); err == nil {
			t.Error("a wrong issuer was accepted")
		}
		if _, err := (&Checker{Policy: Policy{Mode: "sometimes"}}).Check(ctx, f.good, root); err == nil {
			t.Error("an unknown mode was accepted")
		}
	})
}
