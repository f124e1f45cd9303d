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

	// Evidence: recorded once, replayed offline with the same, expected,
	// verdicts; replayed from an empty directory, TRY_LATER.
	dir := t.TempDir()
	at := time.Now()
	now := func() time.Time { return at }
	for _, c := range []struct {
		leaf            *certs.Certificate
		indication, sub string
		inCheck         string
	}{
		{f.good, certs.TotalPassed, "", "not revoked (ocsp " + f.ocspURL + "/)"},
		{f.revoked, certs.Indeterminate, certs.SubRevokedNoPOE, "(reason keyCompromise) (ocsp " + f.ocspURL + "/)"},
	} {
		name := c.leaf.Subject.CommonName
		opts := func(ch *Checker) certs.VerifyOptions {
			return certs.VerifyOptions{Roots: roots, At: at, Purpose: certs.PurposeAny, Revocation: ch}
		}
		off := &offline{}
		for _, run := range []struct {
			what                  string
			checker               *Checker
			indication, sub, want string
		}{
			{"recorded", &Checker{Evidence: &Evidence{Dir: dir}, Now: now}, c.indication, c.sub, c.inCheck},
			{"replayed", &Checker{Evidence: &Evidence{Dir: dir, Replay: true}, HTTP: &http.Client{Transport: off}}, c.indication, c.sub, c.inCheck},
			{"replayed from an empty directory", &Checker{Evidence: &Evidence{Dir: t.TempDir(), Replay: true}, HTTP: &http.Client{Transport: off}},
				certs.Indeterminate, certs.SubTryLater, "not in the evidence directory"},
		} {
			r := certs.VerifyContext(ctx, c.leaf, opts(run.checker))
			if r.Indication != run.indication || r.SubIndication != run.sub {
				t.Errorf("%s %s: %s/%s, want %s/%s", name, run.what, r.Indication, r.SubIndication, run.indication, run.sub)
			}
			var details []string
			for _, ch := range revocationChecks(r) {
				details = append(details, ch.Detail)
			}
			if d := strings.Join(details, "\n"); !strings.Contains(d, run.want) {
				t.Errorf("%s %s: no REVOCATION check says %q: %s", name, run.what, run.want, d)
			}
		}
		if off.n.Load() != 0 {
			t.Errorf("%s: %d requests in replay mode", name, off.n.Load())
		}
	}
}
