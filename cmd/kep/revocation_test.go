package main

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/testpki"
)

// TestRevocationCLI: kep certs verify fetches the CRL named in the
// certificate from a loopback server: 0 when not revoked, 3 with
// REVOKED_NO_POE when revoked and TRY_LATER when the server is down (0 with
// --soft-fail), each with the source of the answer in the leaf's REVOCATION
// checks; --evidence/--offline reproduces the answer with the server
// stopped, from the evidence alone (an empty evidence directory gives none).
func TestRevocationCLI(t *testing.T) {
	p := testpki.New(t)
	dir := t.TempDir()
	var crl atomic.Pointer[[]byte]
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write(*crl.Load())
	}))
	defer srv.Close()
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache")) // a CRL cache of the test's own

	now := time.Now()
	issue := func(name string, serial int64, cdp string) string {
		key, err := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			CRLDistributionPoints: []string{cdp}}
		der, err := certs.CreateCertificate(rand.Reader, tmpl, p.Root.Cert.Certificate, key.Public(), p.Root.Signer)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, name+".pem")
		os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
		return file
	}
	good := issue("good", 101, srv.URL+"/root.crl")
	revoked := issue("revoked", 102, srv.URL+"/root.crl")
	downURL := "http://" + closedAddr(t) + "/root.crl"
	down := issue("down", 103, downURL)
	der, err := certs.CreateCRL(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(102), RevocationTime: now.Add(-time.Minute)}}},
		p.Root.Cert.Certificate, p.Root.Signer)
	if err != nil {
		t.Fatal(err)
	}
	crl.Store(&der)

	// revocationOutcome is what `kep certs verify --json` says about the
	// leaf: the verdict and the leaf's REVOCATION checks.
	type revocationOutcome struct {
		code            int
		indication, sub string
		statuses        []string // of the leaf's REVOCATION checks
		details         string   // their details, joined
	}
	verify := func(file string, args ...string) revocationOutcome {
		t.Helper()
		args = append([]string{"certs", "verify", "--json", "--trust", p.Root.CertFile, "--purpose", "any"}, args...)
		stdout, stderr, code := execute(t, nil, append(args, file)...)
		o := revocationOutcome{code: code}
		if code == exitUsage {
			return o
		}
		var r struct {
			Indication    string `json:"indication"`
			SubIndication string `json:"subIndication"`
			Checks        []struct{ Code, Status, Subject, Detail string }
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%v: exit %d, no JSON result (%v): %s %s", args, code, err, stdout, stderr)
		}
		o.indication, o.sub = r.Indication, r.SubIndication
		leaf := strings.TrimSuffix(filepath.Base(file), ".pem") // the certificates are named after their CN
		for _, c := range r.Checks {
			if c.Code == certs.CheckRevocation && c.Subject == leaf {
				o.statuses = append(o.statuses, c.Status)
				o.details += c.Detail + "\n"
			}
		}
		return o
	}
	crlURL := srv.URL + "/root.crl"
	type want struct {
		code            int
		indication, sub string
		statuses        string // the leaf's REVOCATION statuses, comma-separated
		detail          string // in the details: the source and what it said
	}
	check := func(name string, got revocationOutcome, w want) {
		t.Helper()
		if got.code != w.code || got.indication != w.indication || got.sub != w.sub ||
			strings.Join(got.statuses, ",") != w.statuses || !strings.Contains(got.details, w.detail) {
			t.Errorf("%s: got exit %d %s/%s, leaf revocation %v %q\nwant exit %d %s/%s, leaf revocation [%s] with %q",
				name, got.code, got.indication, got.sub, got.statuses, got.details, w.code, w.indication, w.sub, w.statuses, w.detail)
		}
	}
	// In auto mode OCSP is tried first: the certificates name no responder,
	// which is a warning before the CRL's answer.
	notRevoked := want{exitOK, certs.TotalPassed, "", "warning,passed", "not revoked (crl " + crlURL + "): not on the CRL of "}
	isRevoked := want{exitIndeterminate, certs.Indeterminate, certs.SubRevokedNoPOE, "warning,failed", "(reason unspecified) (crl " + crlURL + ")"}
	downDetail := "crl " + downURL + `: Get "` + downURL + `"`
	for _, tc := range []struct {
		name string
		file string
		args []string
		want want
	}{
		{"not revoked", good, nil, notRevoked},
		{"revoked", revoked, nil, isRevoked},
		{"CRL server down", down, nil, want{exitIndeterminate, certs.Indeterminate, certs.SubTryLater, "warning,warning,failed", "revocation status unknown (ocsp): ocsp: the certificate names no HTTP OCSP responder; " + downDetail}},
		{"CRL server down, soft-fail", down, []string{"--soft-fail"}, want{exitOK, certs.TotalPassed, "", "warning,warning,warning", "accepted by the soft-fail policy: soft-fail: no revocation data could be fetched (ocsp: the certificate names no HTTP OCSP responder; " + downDetail}},
		{"revocation off", revoked, []string{"--revocation", "off"}, want{exitOK, certs.TotalPassed, "", certs.StatusNotChecked, ""}},
		{"OCSP only, no responder named", good, []string{"--revocation", "ocsp"}, want{exitIndeterminate, certs.Indeterminate, certs.SubTryLater, "warning,failed", "revocation status unknown (ocsp): ocsp: the certificate names no HTTP OCSP responder\n"}},
		{"bad mode", good, []string{"--revocation", "sometimes"}, want{code: exitUsage}},
		{"offline without evidence", good, []string{"--offline"}, want{code: exitUsage}},
	} {
		check(tc.name, verify(tc.file, tc.args...), tc.want)
	}

	// Evidence: recorded, then replayed with the server gone.
	ev := filepath.Join(dir, "evidence")
	check("recording good", verify(good, "--evidence", ev), notRevoked)
	check("recording revoked", verify(revoked, "--evidence", ev), isRevoked)
	if recorded, _ := filepath.Glob(filepath.Join(ev, "crl-*.der")); len(recorded) != 1 {
		t.Fatalf("evidence directory holds %d CRLs, want the one used: %v", len(recorded), recorded)
	}
	srv.Close()
	os.RemoveAll(filepath.Join(dir, "cache"))
	before := requests.Load()
	check("replaying good", verify(good, "--evidence", ev, "--offline"), notRevoked)
	check("replaying revoked", verify(revoked, "--evidence", ev, "--offline"), isRevoked)
	// The answers above came from the evidence: an empty evidence directory
	// has none to give.
	empty := filepath.Join(dir, "empty-evidence")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	noEvidence := want{exitIndeterminate, certs.Indeterminate, certs.SubTryLater, "warning,warning,failed", "crl " + crlURL + ": not in the evidence directory\n"}
	check("replaying good from an empty directory", verify(good, "--evidence", empty, "--offline"), noEvidence)
	check("replaying revoked from an empty directory", verify(revoked, "--evidence", empty, "--offline"), noEvidence)
	if requests.Load() != before {
		t.Errorf("the offline replay made requests")
	}
}

func closedAddr(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.Listener.Addr().String()
	srv.Close()
	return addr
}
