package diagnose

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/revocation"
	"github.com/kepkit/kep/certs/trustlist"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/pkcs11/soft"
)

const pin = "1234"

// ca is a CA made in Go for the test.
type ca struct {
	tmpl *x509.Certificate
	key  crypto.Signer
	cert *certs.Certificate
}

func newCA(t *testing.T, cn string, parent *ca) *ca {
	t.Helper()
	key, err := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	ptmpl, pkey := tmpl, crypto.Signer(key)
	if parent != nil {
		ptmpl, pkey = parent.tmpl, parent.key
	}
	der, err := certs.CreateCertificate(rand.Reader, tmpl, ptmpl, key.Public(), pkey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SubjectKeyId = c.SubjectKeyId
	return &ca{tmpl: tmpl, key: key, cert: c}
}

// leaf issues a certificate valid from..until for a new key, with the CRL
// distribution points given.
func (c *ca) leaf(t *testing.T, cn string, serial int64, from, until time.Time, cdp ...string) (*certs.Certificate, crypto.Signer) {
	t.Helper()
	key, err := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, NotBefore: from, NotAfter: until,
		KeyUsage: x509.KeyUsageDigitalSignature, CRLDistributionPoints: cdp}
	der, err := certs.CreateCertificate(rand.Reader, tmpl, c.tmpl, key.Public(), c.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := certs.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// softToken makes a software token holding the given keys and certificates.
func softToken(t *testing.T, items ...any) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "token")
	if err := soft.Init(dir, []byte(pin), "diag"); err != nil {
		t.Fatal(err)
	}
	tok, err := soft.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	if err := tok.Login([]byte(pin)); err != nil {
		t.Fatal(err)
	}
	// items: certificate, key, CA certificate stored with it (or nil).
	for i := 0; i+2 < len(items); i += 3 {
		chain := []*certs.Certificate{items[i].(*certs.Certificate)}
		if ca, _ := items[i+2].(*certs.Certificate); ca != nil {
			chain = append(chain, ca)
		}
		if _, err := tok.ImportKey(items[i+1].(crypto.Signer), "", chain...); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// gather lists what a keystore over cfg sees, as kep doctor does.
func gather(t *testing.T, cfg keystore.Config) Input {
	t.Helper()
	ctx := context.Background()
	ks, err := keystore.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	in := Input{Modules: ks.Modules(), SoftToken: cfg.SoftDir != ""}
	in.Tokens, _ = ks.Tokens(ctx)
	in.Entries, in.ListErr = ks.Certificates(ctx)
	return in
}

func codesFor(r *Report, thumbprint string) []string {
	var out []string
	for _, f := range r.Findings {
		if thumbprint == "" || f.Evidence["thumbprint"] == thumbprint {
			out = append(out, f.Code)
		}
	}
	return out
}

func TestCertificateFindings(t *testing.T) {
	now := time.Now()
	root := newCA(t, "Root", nil)
	inter := newCA(t, "Intermediate CA", root)
	stranger := newCA(t, "Unknown root", nil)
	day := 24 * time.Hour
	type lf struct {
		name string
		cert *certs.Certificate
		key  crypto.Signer
		want []string
	}
	// The CRL is served on loopback; the revoked leaf names it.
	var crlDER []byte
	crlSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(crlDER) }))
	defer crlSrv.Close()
	var leaves []lf
	mk := func(name string, c *ca, serial int64, from, until time.Time, want ...string) {
		var cdp []string
		if name == "revoked" {
			cdp = []string{crlSrv.URL + "/root.crl"}
		}
		cert, key := c.leaf(t, name, serial, from, until, cdp...)
		leaves = append(leaves, lf{name, cert, key, want})
	}
	chainOf := map[string]*certs.Certificate{"under an untrusted root": stranger.cert}
	mk("valid", root, 1, now.Add(-day), now.Add(365*day), CertOK)
	mk("expired", root, 2, now.Add(-400*day), now.Add(-day), CertExpired)
	mk("expiring", root, 3, now.Add(-day), now.Add(10*day), CertExpiring)
	mk("not yet valid", root, 4, now.Add(day), now.Add(365*day), CertNotYetValid)
	mk("revoked", root, 5, now.Add(-day), now.Add(365*day), CertRevoked)
	mk("under a missing intermediate", inter, 6, now.Add(-day), now.Add(365*day), ChainIncomplete)
	mk("under an untrusted root", stranger, 7, now.Add(-day), now.Add(365*day), RootNotTrusted)
	var items []any
	for _, l := range leaves {
		items = append(items, l.cert, l.key, chainOf[l.name])
	}
	dir := softToken(t, items...)
	var err error
	crlDER, err = certs.CreateCRL(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(day),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(5), RevocationTime: now.Add(-time.Hour)}}}, root.tmpl, root.key)
	if err != nil {
		t.Fatal(err)
	}
	in := gather(t, keystore.Config{SoftDir: dir})
	// Soft-fail: the certificates that name no CRL are not the point here.
	in.Roots, in.Revocation = []*certs.Certificate{root.cert}, &revocation.Checker{Policy: revocation.Policy{SoftFail: true}}
	r := Run(context.Background(), in)
	for _, l := range leaves {
		got := codesFor(r, l.cert.Thumbprint())
		if strings.Join(got, ",") != strings.Join(l.want, ",") {
			t.Errorf("%s: %v, want %v", l.name, got, l.want)
		}
	}
	if !r.HasErrors() {
		t.Error("no errors reported")
	}
	// The Russian texts carry the dates.
	for _, f := range r.Findings {
		if f.Code == CertExpired && !strings.Contains(f.MessageRU, "истёк") {
			t.Errorf("CERT_EXPIRED in Russian: %q", f.MessageRU)
		}
		if f.MessageRU == "" || f.Message == "" || f.Severity == "" {
			t.Errorf("%s: empty texts", f.Code)
		}
	}
	// --cert limits the checks to one certificate.
	in.CertID = strings.ToLower(leaves[1].cert.Thumbprint())
	if got := codesFor(Run(context.Background(), in), ""); strings.Join(got, ",") != CertExpired {
		t.Errorf("one certificate: %v", got)
	}
}

func TestGOST2001Key(t *testing.T) {
	p := testpki.New(t)
	old := p.Leaf(t, testpki.Key{Name: "gost2001", Args: []string{"-algorithm", "gost2001", "-pkeyopt", "paramset:A"}, MD: "md_gost94"}, "Old key")
	e := &keystore.Entry{ID: old.Cert.Thumbprint(), Certificate: old.Cert, Key: keystore.KeyUnsupported}
	r := Run(context.Background(), Input{Entries: []*keystore.Entry{e}})
	if !r.Has(AlgorithmUnsupported) {
		t.Fatalf("2001 key (%s): %v", old.Cert.KeyAlgorithm, codesFor(r, ""))
	}
}

func TestTokenFindings(t *testing.T) {
	root := newCA(t, "Root", nil)
	cert, key := root.leaf(t, "user", 1, time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
	dir := softToken(t, cert, key, nil)
	empty := softToken(t)
	wrong := func(n int) {
		tok, err := soft.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer tok.Close()
		for i := 0; i < n; i++ {
			tok.Login([]byte("0000"))
		}
	}
	wrong(1)
	if r := Run(context.Background(), gather(t, keystore.Config{SoftDir: dir})); !r.Has(PINIncorrect) || r.Has(PINFinalTry) {
		t.Errorf("one wrong PIN: %v", codesFor(r, ""))
	}
	wrong(soft.MaxPINTries - 2)
	if r := Run(context.Background(), gather(t, keystore.Config{SoftDir: dir})); !r.Has(PINFinalTry) {
		t.Errorf("final try: %v", codesFor(r, ""))
	}
	wrong(1)
	if r := Run(context.Background(), gather(t, keystore.Config{SoftDir: dir})); !r.Has(PINLocked) || !r.HasErrors() {
		t.Errorf("locked: %v", codesFor(r, ""))
	}
	if r := Run(context.Background(), gather(t, keystore.Config{SoftDir: empty})); !r.Has(NoCertificates) {
		t.Errorf("empty token: %v", codesFor(r, ""))
	}

	// A module that does not load, and nothing usable at all.
	missing := filepath.Join(t.TempDir(), "librtpkcs11ecp.so")
	r := Run(context.Background(), gather(t, keystore.Config{Modules: []string{missing}}))
	if !r.Has(ModuleLoadFailed) || !r.Has(ModuleNotFound) {
		t.Errorf("missing module: %v", codesFor(r, ""))
	}

	// Errors of operations.
	for _, c := range []struct {
		err  error
		code string
	}{
		{fmt.Errorf("login: %w", pkcs11.ErrPINIncorrect), PINIncorrect},
		{pkcs11.ErrPINLocked, PINLocked},
		{pkcs11.ErrTokenRemoved, TokenNotPresent},
		{pkcs11.ErrKeyMismatch, KeyCertMismatch},
	} {
		if f, ok := FromError(c.err, "T"); !ok || f.Code != c.code {
			t.Errorf("FromError(%v) = %s %v", c.err, f.Code, ok)
		}
	}
	if _, ok := FromError(errors.New("disk full"), "T"); ok {
		t.Error("an unrelated error was named")
	}
}

const softhsmModule = "/usr/lib/softhsm/libsofthsm2.so"

// TestSoftHSMFindings: a certificate written with another key's CKA_ID is
// KEY_CERT_MISMATCH; the token removed is TOKEN_NOT_PRESENT; OpenSC's module
// without pcscd is PCSC_NOT_RUNNING.
func TestSoftHSMFindings(t *testing.T) {
	if _, err := os.Stat(softhsmModule); err != nil {
		t.Fatalf("SoftHSM2: %v (run `make deps`)", err)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	os.Mkdir(tokens, 0o700)
	conf := filepath.Join(dir, "softhsm2.conf")
	os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600)
	t.Setenv("SOFTHSM2_CONF", conf)
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("softhsm2-util", "--init-token", "--free", "--label", "hsm", "--so-pin", "87654321", "--pin", pin)
	tool := []string{"--module", softhsmModule, "--token-label", "hsm", "--login", "--pin", pin}
	run("pkcs11-tool", append(tool, "--keypairgen", "--key-type", "EC:prime256v1", "--id", "01")...)
	// A certificate for some other key, stored under the token key's ID.
	root := newCA(t, "Root", nil)
	other, _ := root.leaf(t, "not this key", 9, time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
	certFile := filepath.Join(dir, "cert.der")
	os.WriteFile(certFile, other.Raw, 0o600)
	run("pkcs11-tool", append(tool, "--write-object", certFile, "--type", "cert", "--id", "01")...)
	in := gather(t, keystore.Config{Modules: []string{softhsmModule}})
	if r := Run(context.Background(), in); !r.Has(KeyCertMismatch) {
		for _, e := range in.Entries {
			t.Logf("entry %s key %s %v", e.ID, e.Key, e.KeyErr)
		}
		t.Errorf("mismatched pair: %v (list error %v)", codesFor(r, ""), in.ListErr)
	}

	dirs, _ := filepath.Glob(filepath.Join(tokens, "*"))
	if len(dirs) != 1 {
		t.Fatalf("token directories %v", dirs)
	}
	os.Rename(dirs[0], filepath.Join(dir, "pulled-out"))
	if r := Run(context.Background(), gather(t, keystore.Config{Modules: []string{softhsmModule}})); !r.Has(TokenNotPresent) {
		t.Errorf("token removed: %v", codesFor(r, ""))
	}

	opensc := pkcs11.Discovery{NoConfig: true}.Discover(context.Background())
	var sc []pkcs11.ModuleStatus
	for _, m := range opensc {
		if m.Loaded && m.Vendor == "OpenSC" {
			sc = append(sc, m)
		}
	}
	if len(sc) == 0 {
		t.Fatal("OpenSC's module did not load (run `make deps`)")
	}
	r := Run(context.Background(), Input{Modules: sc, PCSCSocket: filepath.Join(dir, "no-pcscd.comm")})
	if !r.Has(PCSCNotRunning) {
		t.Errorf("no pcscd: %v", codesFor(r, ""))
	}
	sock := filepath.Join(dir, "pcscd.comm")
	os.WriteFile(sock, nil, 0o600)
	if r := Run(context.Background(), Input{Modules: sc, PCSCSocket: sock}); r.Has(PCSCNotRunning) {
		t.Errorf("pcscd present but reported missing")
	}
}

func TestClockAgentOrigin(t *testing.T) {
	ctx := context.Background()
	off := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(-10*time.Minute).UTC().Format(http.TimeFormat))
	}))
	defer off.Close()
	right := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer right.Close()
	for _, c := range []struct {
		url  string
		skew bool
	}{{off.URL, true}, {right.URL, false}} {
		ref, err := ServerTime(ctx, nil, c.url)
		if err != nil {
			t.Fatal(err)
		}
		r := Run(ctx, Input{References: []Reference{ref}})
		if r.Has(ClockSkew) != c.skew {
			t.Errorf("%s: CLOCK_SKEW %v, want %v", c.url, r.Has(ClockSkew), c.skew)
		}
	}
	// A login challenge's server time 10 minutes off.
	r := Run(ctx, Input{References: []Reference{{Time: time.Now().Add(10 * time.Minute), Source: "the login challenge"}}})
	if !r.Has(ClockSkew) || r.Findings[0].Evidence["skewSeconds"].(int64) > -590 {
		t.Errorf("challenge skew: %+v", r.Findings)
	}

	kep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"name":"kep"}`) }))
	defer kep.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, c := range []struct {
		url  string
		down bool
	}{{kep.URL, false}, {closed.URL, true}, {right.URL, true}} {
		if r := Run(ctx, Input{AgentURL: c.url}); r.Has(AgentUnreachable) != c.down {
			t.Errorf("agent at %s: unreachable %v, want %v", c.url, r.Has(AgentUnreachable), c.down)
		}
	}
	if r := Run(ctx, Input{Origin: "https://foreign.example", Approved: false}); !r.Has(OriginNotApproved) {
		t.Error("foreign origin not reported")
	}
	if r := Run(ctx, Input{Origin: "https://portal.example", Approved: true}); r.Has(OriginNotApproved) {
		t.Error("approved origin reported")
	}
}

// TestCatalogue: every code has both languages and a fix (CERT_OK aside).
func TestCatalogue(t *testing.T) {
	for code, e := range catalogue {
		// An Info finding asks nothing of the user; every other one says
		// what to do, in both languages.
		if e.en == "" || e.ru == "" || e.severity == "" || (e.severity != Info && (e.fixEN == "" || e.fixRU == "")) {
			t.Errorf("%s: incomplete", code)
		}
		if e.severity == Info && (e.fixEN != "" || e.fixRU != "") {
			t.Errorf("%s: an Info finding with a fix", code)
		}
		if strings.Count(e.en, "%s") != strings.Count(e.ru, "%s") {
			t.Errorf("%s: the languages take different arguments", code)
		}
	}
}

// TestIssuerNotAccredited: a certificate under the sample list's terminated
// CA (testdata/trustlist) is ISSUER_NOT_ACCREDITED; under the active one it
// is fine.
func TestIssuerNotAccredited(t *testing.T) {
	const dir = "../../testdata/trustlist/"
	list, err := trustlist.Load(dir + "tsl.xml")
	if err != nil {
		t.Fatal(err)
	}
	roots, inter := list.Certificates()
	var entries []*keystore.Entry
	for _, name := range []string{"active", "terminated"} {
		caPEM, _ := os.ReadFile(dir + name + ".pem")
		keyPEM, _ := os.ReadFile(dir + name + ".key")
		cas, err := certs.ParseCertificates(caPEM)
		if err != nil {
			t.Fatal(err)
		}
		caKey, err := certs.ParsePrivateKey(keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		c := &ca{tmpl: cas[0].Certificate, key: caKey, cert: cas[0]}
		leaf, _ := c.leaf(t, "under "+name, 77, time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
		entries = append(entries, &keystore.Entry{ID: leaf.Thumbprint(), Certificate: leaf, Key: keystore.KeyPresent})
	}
	r := Run(context.Background(), Input{Entries: entries, Roots: roots, Intermediates: inter,
		Accredited: func(ca *certs.Certificate, at time.Time) (bool, error) {
			return list.Accredited(ca, at).Accredited, nil
		}})
	if got := codesFor(r, entries[0].ID); strings.Join(got, ",") != CertOK {
		t.Errorf("under the active CA: %v", got)
	}
	if got := codesFor(r, entries[1].ID); strings.Join(got, ",") != IssuerNotAccredited {
		t.Errorf("under the terminated CA: %v", got)
	}
}

// ocspAnswer stands in for an OCSP responder's verdict with a chosen
// producedAt (a real responder signs with its own clock, which a test
// cannot move); the real checker is tested in certs/revocation.
type ocspAnswer struct{ producedAt time.Time }

func (o ocspAnswer) CheckRevocation(context.Context, *certs.Certificate, *certs.Certificate, time.Time) (*certs.RevocationStatus, error) {
	return &certs.RevocationStatus{State: certs.RevocationGood, Source: "ocsp", URL: "http://ocsp.example", ProducedAt: o.producedAt, Detail: "good"}, nil
}

// TestOCSPProducedAtClock: an OCSP answer produced 10 minutes after this
// computer's "now" shows its clock is behind; an old one says nothing.
func TestOCSPProducedAtClock(t *testing.T) {
	root := newCA(t, "Root", nil)
	now := time.Now()
	cert, _ := root.leaf(t, "user", 1, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	e := &keystore.Entry{ID: cert.Thumbprint(), Certificate: cert, Key: keystore.KeyPresent}
	for _, c := range []struct {
		produced time.Time
		skew     bool
	}{{now.Add(10 * time.Minute), true}, {now.Add(-3 * time.Hour), false}} {
		r := Run(context.Background(), Input{Entries: []*keystore.Entry{e}, Roots: []*certs.Certificate{root.cert},
			Revocation: ocspAnswer{c.produced}, Now: now})
		if r.Has(ClockSkew) != c.skew {
			t.Errorf("producedAt %v: CLOCK_SKEW %v, want %v (%v)", c.produced.Sub(now), r.Has(ClockSkew), c.skew, codesFor(r, ""))
		}
	}
}
