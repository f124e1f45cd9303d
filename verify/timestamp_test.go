package verify_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/tsp"
	"github.com/kepkit/kep/verify"
)

func findCheck(r verify.SignerReport, code string) *verify.Check {
	for i := range r.Checks {
		if r.Checks[i].Code == code {
			return &r.Checks[i]
		}
	}
	return nil
}

// TestCAdEST: signatures time-stamped by TSAs on loopback verify as CAdES-T,
// OpenSSL still accepts them, and the time-stamp rescues a signer whose
// certificate expired after it; bad time-stamps are reported.
func TestCAdEST(t *testing.T) {
	p := testpki.New(t)
	ctx := context.Background()
	gostTSA := p.TSA(t, testpki.CryptoProA, "critical,timeStamping")
	roots := []*certs.Certificate{p.Root.Cert}
	content := []byte("Акт приёма-передачи")
	docFile := p.O.WriteFile(t, "doc.txt", content)

	for _, k := range []testpki.Key{testpki.TC26256A, testpki.TC26512A, testpki.RSA2048} {
		id := p.Leaf(t, k, "CAdES-T "+k.Name)
		sig, err := sign.Sign(ctx, bytes.NewReader(content), id.Signer, id.Cert, sign.Options{Timestamper: &tsp.Client{URL: gostTSA.URL}})
		if err != nil {
			t.Fatalf("%s: %v", k.Name, err)
		}
		rep, err := verify.Verify(ctx, sig, verify.Options{Roots: roots, Content: bytes.NewReader(content), Profile: verify.ProfileCAdEST})
		if err != nil || rep.Indication != verify.TotalPassed {
			t.Fatalf("%s: %v %+v", k.Name, err, rep)
		}
		s := rep.Signers[0]
		if c := findCheck(s, "SIGNATURE_TIMESTAMP"); c == nil || c.Status != verify.Passed || s.Timestamp == nil || s.Timestamp.TSA == "" {
			t.Errorf("%s: timestamp %+v check %+v", k.Name, s.Timestamp, c)
		}
		sigFile := p.O.WriteFile(t, k.Name+".sig", sig)
		if out, err := p.O.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", docFile,
			"-CAfile", p.Root.CertFile, "-purpose", "any", "-out", os.DevNull); err != nil {
			t.Errorf("%s: openssl cms -verify: %v %s", k.Name, err, out)
		}
	}

	// Without a time-stamp, CAdES-T fails; CAdES-BES passes.
	plain := p.Leaf(t, testpki.CryptoProA, "plain")
	sig, err := sign.Sign(ctx, bytes.NewReader(content), plain.Signer, plain.Cert, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyOne(t, sig, verify.Options{Roots: roots, Content: bytes.NewReader(content), Profile: verify.ProfileCAdEST})
	if s := rep.Signers[0]; rep.Indication != verify.TotalFailed || s.SubIndication != verify.FormatFailure || s.Timestamp != nil ||
		!hasCheck(s, "SIGNATURE_TIMESTAMP", verify.Failed, "not CAdES-T") || !hasCheck(s, "SIGNATURE", verify.Passed, "") {
		t.Errorf("no time-stamp under CAdES-T: %s/%s %+v", rep.Indication, s.SubIndication, s.Checks)
	}
	if rep := verifyOne(t, sig, verify.Options{Roots: roots, Content: bytes.NewReader(content)}); rep.Indication != verify.TotalPassed {
		t.Errorf("no time-stamp under CAdES-BES: %s", rep.Indication)
	}

	// A token signed by a certificate that is not a TSA's (OpenSSL's TSA
	// refuses such a key, so the TSTInfo is re-signed with openssl cms).
	notTSA := p.Leaf(t, testpki.CryptoProA, "not a TSA")
	rogue := &resigner{inner: &tsp.Client{URL: gostTSA.URL}, p: p, id: notTSA}
	sig, err = sign.Sign(ctx, bytes.NewReader(content), plain.Signer, plain.Cert, sign.Options{Timestamper: rogue})
	if err != nil {
		t.Fatal(err)
	}
	rep = verifyOne(t, sig, verify.Options{Roots: roots, Content: bytes.NewReader(content), Profile: verify.ProfileCAdEST})
	// (certs reports CHAIN_CONSTRAINTS_FAILURE as INDETERMINATE, as EN 319
	// 102-1 lists it; the signer takes the time-stamp's verdict under CAdES-T.)
	if s := rep.Signers[0]; rep.Indication != verify.Indeterminate || s.SubIndication != certs.SubChainConstraintsFailure ||
		s.Timestamp == nil || s.Timestamp.Indication != verify.Indeterminate || s.Timestamp.SubIndication != certs.SubChainConstraintsFailure {
		t.Errorf("a non-TSA certificate's time-stamp: %s/%s %+v, want INDETERMINATE/%s", rep.Indication, s.SubIndication, s.Timestamp, certs.SubChainConstraintsFailure)
	}
	// Under CAdES-BES the bad time-stamp is reported as a warning that says
	// why it does not decide, and the signature stands (never a failed check
	// beside TOTAL_PASSED).
	rep = verifyOne(t, sig, verify.Options{Roots: roots, Content: bytes.NewReader(content)})
	if s := rep.Signers[0]; rep.Indication != verify.TotalPassed || !hasCheck(s, "SIGNATURE_TIMESTAMP", verify.Warning, "not decisive") ||
		hasCheck(s, "SIGNATURE_TIMESTAMP", verify.Failed, "") || s.Level != verify.LevelBES {
		t.Errorf("bad time-stamp under CMS profile: %s %+v", rep.Indication, s.Checks)
	}

	// A signer certificate that expires an hour after signing: verified a
	// day later it is expired, but the time-stamp proves the signature
	// existed while it was valid.
	now := time.Now()
	key, err := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := certs.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(4242), Subject: pkix.Name{CommonName: "short-lived"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}, p.Root.Cert.Certificate, key.Public(), p.Root.Signer)
	if err != nil {
		t.Fatal(err)
	}
	short, err := certs.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	for _, stamped := range []bool{false, true} {
		opts := sign.Options{}
		if stamped {
			opts.Timestamper = &tsp.Client{URL: gostTSA.URL}
		}
		sig, err := sign.Sign(ctx, bytes.NewReader(content), key, short, opts)
		if err != nil {
			t.Fatal(err)
		}
		rep := verifyOne(t, sig, verify.Options{Roots: roots, Content: bytes.NewReader(content), At: now.Add(24 * time.Hour)})
		want, wantSub := verify.Indeterminate, certs.SubOutOfBoundsNoPOE
		if stamped {
			want, wantSub = verify.TotalPassed, ""
		}
		if s := rep.Signers[0]; rep.Indication != want || s.SubIndication != wantSub {
			t.Errorf("expired signer, time-stamped %v: %s/%s, want %s/%s", stamped, rep.Indication, s.SubIndication, want, wantSub)
		}
	}

	// A time-stamp moved from another signature: the imprint does not match.
	other, err := sign.Sign(ctx, bytes.NewReader([]byte("other")), plain.Signer, plain.Cert, sign.Options{Timestamper: &tsp.Client{URL: gostTSA.URL}})
	if err != nil {
		t.Fatal(err)
	}
	good, err := sign.Sign(ctx, bytes.NewReader(content), plain.Signer, plain.Cert, sign.Options{Timestamper: &tsp.Client{URL: gostTSA.URL}})
	if err != nil {
		t.Fatal(err)
	}
	swapped := swapTimestamp(t, good, other)
	rep = verifyOne(t, swapped, verify.Options{Roots: roots, Content: bytes.NewReader(content), Profile: verify.ProfileCAdEST})
	if s := rep.Signers[0]; rep.Indication != verify.TotalFailed || s.SubIndication != verify.HashFailure || s.Timestamp == nil ||
		s.Timestamp.SubIndication != verify.HashFailure || !hasCheck(s, "SIGNATURE", verify.Passed, "") {
		t.Errorf("moved time-stamp: %s/%s %+v", rep.Indication, s.SubIndication, s.Timestamp)
	}
}

// verifyOne verifies sig and fails the test unless there is a report with
// exactly one signer.
func verifyOne(t *testing.T, sig []byte, opts verify.Options) *verify.Report {
	t.Helper()
	rep, err := verify.Verify(context.Background(), sig, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Signers) != 1 {
		t.Fatalf("%s/%s with %d signers, want 1: %+v", rep.Indication, rep.SubIndication, len(rep.Signers), rep.Checks)
	}
	return rep
}

// hasCheck reports whether r has a check code with status whose detail
// contains detail.
func hasCheck(r verify.SignerReport, code, status, detail string) bool {
	for _, c := range r.Checks {
		if c.Code == code && c.Status == status && strings.Contains(c.Detail, detail) {
			return true
		}
	}
	return false
}

// swapTimestamp returns sig with the signature time-stamp of from.
func swapTimestamp(t *testing.T, sig, from []byte) []byte {
	t.Helper()
	a, err := cms.Parse(sig)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cms.Parse(from)
	if err != nil {
		t.Fatal(err)
	}
	a.SignerInfos[0].UnsignedAttrs = b.SignerInfos[0].UnsignedAttrs
	out, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// resigner gets a genuine token and signs its TSTInfo again with id's key.
type resigner struct {
	inner *tsp.Client
	p     *testpki.PKI
	id    *testpki.Identity
}

func (r *resigner) Timestamp(ctx context.Context, d *certs.Digest, digest []byte) ([]byte, error) {
	token, err := r.inner.Timestamp(ctx, d, digest)
	if err != nil {
		return nil, err
	}
	info, err := tsp.Parse(token)
	if err != nil {
		return nil, err
	}
	in := r.p.O.Path("tstinfo.der")
	if err := os.WriteFile(in, info.SignedData.EContent, 0o600); err != nil {
		return nil, err
	}
	return r.p.O.Run(nil, "cms", "-sign", "-binary", "-nodetach", "-econtent_type", "1.2.840.113549.1.9.16.1.4", "-md", "md_gost12_256",
		"-in", in, "-signer", r.id.CertFile, "-inkey", r.id.KeyFile, "-outform", "DER")
}
