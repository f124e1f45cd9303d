package revocation

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
)

// revocationChecks returns the REVOCATION entries of a chain result.
func revocationChecks(r *certs.ChainResult) []certs.Check {
	var out []certs.Check
	for _, c := range r.Checks {
		if c.Code == certs.CheckRevocation {
			out = append(out, c)
		}
	}
	return out
}

// TestVerifyWithChecker: certs.VerifyContext asks the Checker about every
// certificate below the anchor and maps its answers to DSS indications.
func TestVerifyWithChecker(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	roots := []*certs.Certificate{f.root}

	// A leaf under the (revoked) intermediate CA.
	f.o.MustRun(t, nil, "genpkey", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", f.o.Path("under.key"))
	f.o.MustRun(t, nil, "req", "-new", "-key", f.o.Path("under.key"), "-subj", "/CN=under inter", "-out", f.o.Path("under.csr"))
	f.o.MustRun(t, nil, "x509", "-req", "-in", f.o.Path("under.csr"), "-CA", f.o.Path("inter.pem"), "-CAkey", f.o.Path("inter.key"),
		"-md_gost12_256", "-days", "30", "-set_serial", "7777", "-extfile",
		f.o.WriteFile(t, "under.ext", []byte("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n")), "-out", f.o.Path("under.pem"))
	under, err := certs.ParseCertificates(readFile(t, f.o.Path("under.pem")))
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name        string
		leaf        *certs.Certificate
		checker     *Checker
		inter       []*certs.Certificate
		indication  string
		sub         string
		wantInCheck string
	}{
		{"good by OCSP", f.good, &Checker{}, nil, certs.TotalPassed, "", "not revoked (ocsp"},
		{"good by CRL", f.crlGood, &Checker{}, nil, certs.TotalPassed, "", "not revoked (crl"},
		{"revoked by OCSP", f.revoked, &Checker{}, nil, certs.Indeterminate, certs.SubRevokedNoPOE, "keyCompromise"},
		{"revoked by CRL", f.crlRevoked, &Checker{}, nil, certs.Indeterminate, certs.SubRevokedNoPOE, "revoked at"},
		{"unknown to the responder", f.unknown, &Checker{}, nil, certs.Indeterminate, certs.SubRevokedNoPOE, "treated as revoked"},
		{"responder down, hard-fail", f.down, &Checker{}, nil, certs.Indeterminate, certs.SubTryLater, "revocation status unknown"},
		{"responder down, soft-fail", f.down, &Checker{Policy: Policy{SoftFail: true}}, nil, certs.TotalPassed, "", "soft-fail"},
		{"revoked intermediate", under[0], &Checker{}, []*certs.Certificate{f.inter}, certs.Indeterminate, certs.SubRevokedCANoPOE, "revoked at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := certs.VerifyContext(ctx, tc.leaf, certs.VerifyOptions{Roots: roots, Intermediates: tc.inter, Revocation: tc.checker, Purpose: certs.PurposeAny})
			if r.Indication != tc.indication || r.SubIndication != tc.sub {
				t.Fatalf("%s/%s, want %s/%s: %s", r.Indication, r.SubIndication, tc.indication, tc.sub, r.Summary("en"))
			}
			found := false
			for _, c := range revocationChecks(r) {
				found = found || strings.Contains(c.Detail, tc.wantInCheck)
			}
			if !found {
				t.Errorf("no REVOCATION check mentions %q: %+v", tc.wantInCheck, revocationChecks(r))
			}
		})
	}

	// Without a checker nothing is fetched and the status is not_checked.
	r := certs.Verify(f.good, certs.VerifyOptions{Roots: roots, Purpose: certs.PurposeAny})
	if r.Indication != certs.TotalPassed || revocationChecks(r)[0].Status != certs.StatusNotChecked {
		t.Errorf("no checker: %s %+v", r.Indication, revocationChecks(r))
	}

	// Evidence: recorded once, replayed offline with the same verdicts.
	dir := t.TempDir()
	at := time.Now()
	now := func() time.Time { return at }
	for _, leaf := range []*certs.Certificate{f.good, f.revoked} {
		rec := certs.VerifyContext(ctx, leaf, certs.VerifyOptions{Roots: roots, At: at, Purpose: certs.PurposeAny,
			Revocation: &Checker{Evidence: &Evidence{Dir: dir}, Now: now}})
		off := &offline{}
		rep := certs.VerifyContext(ctx, leaf, certs.VerifyOptions{Roots: roots, At: at, Purpose: certs.PurposeAny,
			Revocation: &Checker{Evidence: &Evidence{Dir: dir, Replay: true}, HTTP: &http.Client{Transport: off}}})
		if rec.Indication != rep.Indication || rec.SubIndication != rep.SubIndication || off.n.Load() != 0 {
			t.Errorf("%s: recorded %s/%s, replayed %s/%s, %d requests", leaf.Subject.CommonName, rec.Indication, rec.SubIndication, rep.Indication, rep.SubIndication, off.n.Load())
		}
	}
}
