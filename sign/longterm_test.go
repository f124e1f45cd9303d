package sign_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/revocation"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/tsp"
	"github.com/kepkit/kep/verify"
)

// ocspResponder answers OCSP requests on loopback with `openssl ocsp` run
// as a responder on each request (OpenSSL's responder code, GOST-signed by a
// delegated responder); nextUpdate is ten years on.
type ocspResponder struct {
	p    *testpki.PKI
	args []string
	mu   sync.Mutex
	n    int
}

func (r *ocspResponder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<16))
	if err != nil || req.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	in := r.p.O.Path(fmt.Sprintf("xl-ocsp-%d.req", r.n))
	if err := os.WriteFile(in, body, 0o600); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if _, err := r.p.O.Run(nil, append([]string{"ocsp", "-reqin", in, "-respout", in + ".resp"}, r.args...)...); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := os.ReadFile(in + ".resp")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}

// counting is an HTTP transport that refuses and counts every request: a
// verification that passes with it used no network.
type counting struct{ n atomic.Int32 }

func (c *counting) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("offline")
}

// xlFixture is a GOST root, a CRL server and an OCSP responder on loopback,
// a signer whose certificate names only the CRL (valid one day), and a TSA
// whose certificate names only the OCSP responder.
type xlFixture struct {
	p            *testpki.PKI
	tsa          *testpki.TSA
	signer       *testpki.Identity
	crlSrv, ocsp *httptest.Server
}

func issue(t testing.TB, p *testpki.PKI, name, ext string, days, serial int) *testpki.Identity {
	t.Helper()
	o := p.O
	key, csr, pem := o.Path(name+".key"), o.Path(name+".csr"), o.Path(name+".pem")
	o.MustRun(t, nil, append(append([]string{"genpkey"}, testpki.TC26256A.Args...), "-out", key)...)
	o.MustRun(t, nil, "req", "-new", "-key", key, "-subj", "/CN="+name+"/O=kep tests/C=RU", "-out", csr)
	extFile := o.WriteFile(t, name+".ext", []byte(ext+"subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"))
	o.MustRun(t, nil, "x509", "-req", "-in", csr, "-CA", p.Root.CertFile, "-CAkey", p.Root.KeyFile,
		"-md_gost12_256", "-days", fmt.Sprint(days), "-set_serial", fmt.Sprint(serial), "-extfile", extFile, "-out", pem)
	b, err := os.ReadFile(pem)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := certs.ParseCertificates(b)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	k, err := certs.ParsePrivateKey(kb)
	if err != nil {
		t.Fatal(err)
	}
	return &testpki.Identity{Key: testpki.TC26256A, CertFile: pem, KeyFile: key, Cert: cs[0], Signer: k}
}

func newXLFixture(t testing.TB) *xlFixture {
	t.Helper()
	p := testpki.New(t)
	f := &xlFixture{p: p}
	var crl []byte
	f.crlSrv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/root.der" { // the caIssuers address
			w.Write(p.Root.Cert.Raw)
			return
		}
		w.Write(crl)
	}))
	t.Cleanup(f.crlSrv.Close)
	resp := &ocspResponder{p: p}
	f.ocsp = httptest.NewServer(resp)
	t.Cleanup(f.ocsp.Close)

	rsigner := issue(t, p, "xl-ocsp-signer", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\n", 3650, 7001)
	f.signer = issue(t, p, "xl-signer", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\ncrlDistributionPoints=URI:"+f.crlSrv.URL+"/root.crl\n"+
		"authorityInfoAccess=caIssuers;URI:"+f.crlSrv.URL+"/root.der\n", 1, 7002)
	f.tsa = p.TSA(t, testpki.CryptoProA, "critical,timeStamping\nauthorityInfoAccess=OCSP;URI:"+f.ocsp.URL+"/")
	var index strings.Builder
	for _, c := range []*certs.Certificate{rsigner.Cert, f.tsa.Identity.Cert} {
		fmt.Fprintf(&index, "V\t%s\t\t%X\tunknown\t/CN=%[2]X\n", c.NotAfter.UTC().Format("060102150405Z"), c.SerialNumber)
	}
	resp.args = []string{"-index", p.O.WriteFile(t, "xl-ocsp-index.txt", []byte(index.String())), "-CA", p.Root.CertFile,
		"-rsigner", rsigner.CertFile, "-rkey", rsigner.KeyFile, "-rmd", "md_gost12_256", "-ndays", "3650"}
	file, _ := p.CRL(t)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	crl = b
	return f
}

// TestXLT1: kep makes CAdES-X Long Type 1 against real loopback CRL, OCSP
// and TSA servers, then verifies it offline (servers stopped, the default
// hard-fail revocation policy, no request made) now and two years later,
// after the signer's certificate expired; OpenSSL accepts it at CMS level;
// changing any added attribute is detected.
func TestXLT1(t *testing.T) {
	f := newXLFixture(t)
	ctx := context.Background()
	content := []byte("Акт сверки № 7")
	root := f.p.Root.Cert
	opts := sign.Options{Profile: sign.ProfileXLT1, Timestamper: &tsp.Client{URL: f.tsa.URL},
		Revocation: &revocation.Checker{}, ValidationCerts: []*certs.Certificate{root}}
	sig, err := sign.Sign(ctx, bytes.NewReader(content), f.signer.Signer, f.signer.Cert, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.crlSrv.Close()
	f.ocsp.Close()

	offline := &counting{}
	check := func(name string, sig []byte, at time.Time) *verify.Report {
		t.Helper()
		rep, err := verify.Verify(ctx, sig, verify.Options{Roots: []*certs.Certificate{root}, Content: bytes.NewReader(content), At: at,
			Revocation: &revocation.Checker{HTTP: &http.Client{Transport: offline}}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// A verdict and its checks never disagree.
		for _, s := range rep.Signers {
			for _, c := range s.Checks {
				if s.Indication == verify.TotalPassed && c.Status == verify.Failed {
					t.Errorf("%s: failed check %s (%s) beside TOTAL_PASSED", name, c.Code, c.Detail)
				}
			}
		}
		return rep
	}
	describe := func(rep *verify.Report) string {
		var b strings.Builder
		for _, s := range rep.Signers {
			fmt.Fprintf(&b, "%s/%s level %s:", s.Indication, s.SubIndication, s.Level)
			for _, c := range s.Checks {
				if c.Status != verify.Passed {
					fmt.Fprintf(&b, "\n  %s %s %s", c.Code, c.Status, c.Detail)
				}
			}
		}
		return b.String()
	}

	rep := check("now", sig, time.Time{})
	if rep.Indication != verify.TotalPassed || rep.Signers[0].Level != verify.LevelXL1 || offline.n.Load() != 0 {
		t.Fatalf("X-L1 offline now: %s, requests %d", describe(rep), offline.n.Load())
	}
	s := rep.Signers[0]
	for _, code := range []string{"CERTIFICATE_VALUES", "REVOCATION_VALUES", "CERTIFICATE_REFS", "REVOCATION_REFS", "CADES_C_TIMESTAMP", "SIGNATURE_TIMESTAMP", "TIMESTAMP_ORDER"} {
		found := false
		for _, c := range s.Checks {
			found = found || c.Code == code && c.Status == verify.Passed
		}
		if !found {
			t.Errorf("no passed %s check: %s", code, describe(rep))
		}
	}

	later := time.Now().Add(2 * 365 * 24 * time.Hour)
	if !later.After(f.signer.Cert.NotAfter) {
		t.Fatal("the signer's certificate must have expired by then")
	}
	// Two years later the embedded CRL no longer speaks for the present, so
	// the chain's check at the validation time asks online (refused: the
	// servers are gone); the signature time-stamp proves the signature
	// existed while the certificate was valid, and the embedded evidence is
	// fresh for that time: valid.
	rep = check("two years later", sig, later)
	if rep.Indication != verify.TotalPassed || rep.Signers[0].Level != verify.LevelXL1 {
		t.Fatalf("X-L1 offline two years later: %s, requests %d", describe(rep), offline.n.Load())
	}
	if c := rep.Signers[0].Checks; !strings.Contains(fmt.Sprint(c), "valid at the time-stamp time") {
		t.Errorf("two years later the chain is not validated at the time-stamp's time: %+v", c)
	}

	// Control: the same signature without the long-term attributes (a
	// CAdES-T) cannot be verified offline two years later.
	sd, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	full := append([]cms.Attribute(nil), sd.SignerInfos[0].UnsignedAttrs...)
	var onlyT []cms.Attribute
	for _, a := range full {
		if a.Type.Equal(cms.OIDAttrSignatureTimeStamp) {
			onlyT = append(onlyT, a)
		}
	}
	sd.SignerInfos[0].UnsignedAttrs = onlyT
	plainT, err := sd.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if rep := check("CAdES-T two years later", plainT, later); rep.Indication == verify.TotalPassed {
		t.Fatalf("CAdES-T without values passed offline two years later: %s", describe(rep))
	}

	// Each attribute kep added, changed in its last byte (inside a hash, a
	// signature or a certificate), is detected.
	for i, a := range full {
		changed := append([]cms.Attribute(nil), full...)
		v := append([]byte(nil), a.Values[0]...)
		v[len(v)-1] ^= 0x01
		changed[i] = cms.Attribute{Type: a.Type, Values: [][]byte{v}}
		sd.SignerInfos[0].UnsignedAttrs = changed
		bad, err := sd.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if rep := check(a.Type.String(), bad, time.Time{}); rep.Indication == verify.TotalPassed || rep.Signers[0].Level == verify.LevelXL1 {
			t.Errorf("attribute %v changed: %s", a.Type, describe(rep))
		}
	}
	if len(full) != 6 {
		t.Errorf("%d unsigned attributes, want 6 (time-stamp, 2 references, 2 values, CAdES-C time-stamp)", len(full))
	}

	// OpenSSL verifies the CMS signature (it ignores the CAdES attributes).
	o := f.p.O
	sigFile, contentFile := o.WriteFile(t, "xl1.sig", sig), o.WriteFile(t, "xl1.txt", content)
	if out, err := o.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", contentFile,
		"-CAfile", f.p.Root.CertFile, "-purpose", "any", "-out", o.Path("xl1.out")); err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
}

// TestProfiles: what each profile needs, and refusals that write nothing.
func TestProfiles(t *testing.T) {
	f := newXLFixture(t)
	ctx := context.Background()
	id := f.signer
	doc := func() io.Reader { return strings.NewReader("doc") }
	ts := &tsp.Client{URL: f.tsa.URL}
	for _, c := range []struct {
		name string
		opts sign.Options
		err  error
	}{
		{"cades-t without a TSA", sign.Options{Profile: sign.ProfileT}, sign.ErrNeedTimestamper},
		{"xlt1 without a TSA", sign.Options{Profile: sign.ProfileXLT1, Revocation: &revocation.Checker{}}, sign.ErrNeedTimestamper},
		{"xlt1 without revocation", sign.Options{Profile: sign.ProfileXLT1, Timestamper: ts}, sign.ErrNeedRevocation},
		{"xlt1 without the root", sign.Options{Profile: sign.ProfileXLT1, Timestamper: ts, Revocation: &revocation.Checker{}}, sign.ErrIncompleteChain},
	} {
		if _, err := sign.Sign(ctx, doc(), id.Signer, id.Cert, c.opts); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
	// The root fetched from the signer's caIssuers address instead.
	sig, err := sign.Sign(ctx, doc(), id.Signer, id.Cert, sign.Options{Profile: sign.ProfileXLT1, Timestamper: ts,
		Revocation: &revocation.Checker{}, Issuers: &revocation.Checker{}})
	if err != nil {
		t.Fatalf("xlt1 with the root from caIssuers: %v", err)
	}
	rep, err := verify.Verify(ctx, sig, verify.Options{Roots: []*certs.Certificate{f.p.Root.Cert}, Content: doc()})
	if err != nil || rep.Indication != verify.TotalPassed || rep.Signers[0].Level != verify.LevelXL1 {
		t.Fatalf("xlt1 with the root from caIssuers: %v %+v", err, rep)
	}
	// A CRL server that is down: no X-L1 (hard-fail), said so.
	f.crlSrv.Close()
	_, err = sign.Sign(ctx, doc(), id.Signer, id.Cert, sign.Options{Profile: sign.ProfileXLT1, Timestamper: ts,
		Revocation: &revocation.Checker{}, ValidationCerts: []*certs.Certificate{f.p.Root.Cert}})
	if err == nil || !strings.Contains(err.Error(), "revocation data") {
		t.Errorf("CRL server down: %v", err)
	}
	// cades-t: a signature time-stamp and nothing more.
	sig, err = sign.Sign(ctx, doc(), id.Signer, id.Cert, sign.Options{Profile: sign.ProfileT, Timestamper: ts})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.Parse(sig)
	if err != nil || len(sd.SignerInfos[0].UnsignedAttrs) != 1 {
		t.Fatalf("cades-t: %v, %d unsigned attributes", err, len(sd.SignerInfos[0].UnsignedAttrs))
	}
	for in, want := range map[string]sign.Profile{"": sign.ProfileBES, "cades-bes": sign.ProfileBES, "cades-t": sign.ProfileT, "xlt1": sign.ProfileXLT1} {
		if p, err := sign.ParseProfile(in); err != nil || p != want {
			t.Errorf("ParseProfile(%q) = %q, %v", in, p, err)
		}
	}
	if _, err := sign.ParseProfile("xlt2"); err == nil {
		t.Error("xlt2 accepted")
	}
}
