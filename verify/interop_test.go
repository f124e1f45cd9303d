package verify_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
)

func randomContent(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func mustVerify(t *testing.T, sig, content []byte, roots []*certs.Certificate, want string) *verify.Report {
	t.Helper()
	opts := verify.Options{Roots: roots}
	if content != nil {
		opts.Content = bytes.NewReader(content)
	}
	rep, err := verify.Verify(context.Background(), sig, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Indication != want {
		t.Fatalf("indication %s, want %s\n%s", rep.Indication, want, rep.Summary("en"))
	}
	return rep
}

// TestOpenSSLInterop exchanges signatures with `openssl cms` in both
// directions for every key type, attached and detached, with and without
// signed attributes.
func TestOpenSSLInterop(t *testing.T) {
	p := testpki.New(t)
	o := p.O
	content := randomContent(t, 10000)
	contentFile := o.WriteFile(t, "content.bin", content)
	roots := []*certs.Certificate{p.Root.Cert}
	cases := 0
	for _, k := range testpki.AllKeys {
		id := p.Leaf(t, k, "Подписант "+k.Name)
		for _, attached := range []bool{false, true} {
			for _, noAttr := range []bool{false, true} {
				name := k.Name
				if attached {
					name += "/attached"
				}
				if noAttr {
					name += "/noattr"
				}
				// OpenSSL signs, kep verifies.
				args := []string{"cms", "-sign", "-binary", "-md", k.MD, "-signer", id.CertFile, "-inkey", id.KeyFile,
					"-in", contentFile, "-outform", "DER"}
				if attached {
					args = append(args, "-nodetach")
				}
				if noAttr {
					args = append(args, "-noattr")
				}
				theirs := o.MustRun(t, nil, args...)
				var detached []byte
				if !attached {
					detached = content
				}
				rep := mustVerify(t, theirs, detached, roots, verify.TotalPassed)
				if attached && !bytes.Equal(rep.Content, content) {
					t.Fatalf("%s: extracted content differs", name)
				}
				// openssl cms writes no ESS signingCertificate attribute: always a
				// CAdES-BES conformance warning, never a failure.
				if !hasWarning(rep, "SIGNING_CERTIFICATE_REF") {
					t.Fatalf("%s: no CAdES warning for OpenSSL's plain CMS", name)
				}

				// kep signs, OpenSSL verifies.
				ours, err := sign.Sign(context.Background(), bytes.NewReader(content), id.Signer, id.Cert,
					sign.Options{Attached: attached, NoSignedAttributes: noAttr})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				sigFile := o.WriteFile(t, "ours.p7s", ours)
				vargs := []string{"cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-CAfile", p.Root.CertFile, "-purpose", "any"}
				if !attached {
					vargs = append(vargs, "-content", contentFile)
				}
				out, err := o.Run(nil, vargs...)
				if err != nil {
					t.Fatalf("%s: openssl rejects kep's signature: %v", name, err)
				}
				if !bytes.Equal(out, content) {
					t.Fatalf("%s: openssl extracted other content", name)
				}
				rep = mustVerify(t, ours, detached, roots, verify.TotalPassed)
				if noAttr != hasWarning(rep, "SIGNING_CERTIFICATE_REF") {
					t.Fatalf("%s: kep's own signature: CAdES warning present=%v", name, !noAttr)
				}
				cases += 2
			}
		}
	}
	t.Logf("%d signatures exchanged with openssl cms", cases)
}

func hasWarning(rep *verify.Report, code string) bool {
	for _, s := range rep.Signers {
		for _, c := range s.Checks {
			if c.Code == code && c.Status == verify.Warning {
				return true
			}
		}
	}
	return false
}

// TestTwoSigners: OpenSSL makes a signature with two signers; kep adds a
// second signer to its own signature and OpenSSL accepts both.
func TestTwoSigners(t *testing.T) {
	p := testpki.New(t)
	o := p.O
	content := randomContent(t, 3000)
	contentFile := o.WriteFile(t, "content.bin", content)
	roots := []*certs.Certificate{p.Root.Cert}
	a := p.Leaf(t, testpki.CryptoProA, "A")
	b := p.Leaf(t, testpki.TC26512A, "B")
	c := p.Leaf(t, testpki.RSA2048, "C")
	d := p.Leaf(t, testpki.TC26256A, "D")

	// openssl cms uses one -md for every signer, so both are GOST-256.
	theirs := o.MustRun(t, nil, "cms", "-sign", "-binary", "-md", "md_gost12_256", "-signer", a.CertFile, "-inkey", a.KeyFile,
		"-signer", d.CertFile, "-inkey", d.KeyFile, "-in", contentFile, "-outform", "DER")
	rep := mustVerify(t, theirs, content, roots, verify.TotalPassed)
	if len(rep.Signers) != 2 {
		t.Fatalf("%d signers", len(rep.Signers))
	}

	first, err := sign.Sign(context.Background(), bytes.NewReader(content), a.Signer, a.Cert, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	both, err := sign.Cosign(context.Background(), first, bytes.NewReader(content), b.Signer, b.Cert, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep = mustVerify(t, both, content, roots, verify.TotalPassed)
	if len(rep.Signers) != 2 || rep.Signers[1].DigestAlgorithm != "streebog512" {
		t.Fatalf("cosigned report: %+v", rep.Signers)
	}
	sigFile := o.WriteFile(t, "both.p7s", both)
	if _, err := o.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", contentFile,
		"-CAfile", p.Root.CertFile, "-purpose", "any", "-out", os.DevNull); err != nil {
		t.Fatalf("openssl rejects the cosigned signature: %v", err)
	}
	// Cosigning an attached signature needs no content.
	att, err := sign.Sign(context.Background(), bytes.NewReader(content), a.Signer, a.Cert, sign.Options{Attached: true})
	if err != nil {
		t.Fatal(err)
	}
	att2, err := sign.Cosign(context.Background(), att, nil, c.Signer, c.Cert, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustVerify(t, att2, nil, roots, verify.TotalPassed)
}

// TestBER verifies OpenSSL's streamed output: indefinite lengths and a
// constructed OCTET STRING.
func TestBER(t *testing.T) {
	p := testpki.New(t)
	o := p.O
	content := randomContent(t, 5000)
	contentFile := o.WriteFile(t, "content.bin", content)
	id := p.Leaf(t, testpki.CryptoProA, "BER")
	ber := o.MustRun(t, nil, "cms", "-sign", "-binary", "-stream", "-nodetach", "-md", "md_gost12_256",
		"-signer", id.CertFile, "-inkey", id.KeyFile, "-in", contentFile, "-outform", "DER")
	if !bytes.Contains(ber[:4], []byte{0x30, 0x80}) {
		t.Fatalf("openssl did not stream BER: %x", ber[:8])
	}
	rep := mustVerify(t, ber, nil, []*certs.Certificate{p.Root.Cert}, verify.TotalPassed)
	if !bytes.Equal(rep.Content, content) {
		t.Fatal("content from BER differs")
	}
}

// TestNegative maps each kind of bad signature to its sub-indication.
func TestNegative(t *testing.T) {
	p := testpki.New(t)
	content := randomContent(t, 2000)
	id := p.Leaf(t, testpki.CryptoProA, "Negative")
	other := testpki.New(t) // an unrelated root
	roots := []*certs.Certificate{p.Root.Cert}
	good, err := sign.Sign(context.Background(), bytes.NewReader(content), id.Signer, id.Cert, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-5] ^= 1 // inside the signature value, the last field
	changed := append([]byte(nil), content...)
	changed[0] ^= 1
	now := time.Now()
	cases := []struct {
		name     string
		sig      []byte
		content  []byte
		roots    []*certs.Certificate
		at       time.Time
		ind, sub string
	}{
		{"good", good, content, roots, now, verify.TotalPassed, ""},
		{"altered content", good, changed, roots, now, verify.TotalFailed, verify.HashFailure},
		{"altered signature", flipped, content, roots, now, verify.TotalFailed, verify.SigCryptoFailure},
		{"unknown CA", good, content, []*certs.Certificate{other.Root.Cert}, now, verify.Indeterminate, "NO_CERTIFICATE_CHAIN_FOUND"},
		{"no trust anchors", good, content, nil, now, verify.Indeterminate, "NO_CERTIFICATE_CHAIN_FOUND"},
		{"missing content", good, nil, roots, now, verify.Indeterminate, verify.SignedDataNotFound},
		{"expired at validation time", good, content, roots, now.AddDate(20, 0, 0), verify.Indeterminate, "OUT_OF_BOUNDS_NO_POE"},
		{"not yet valid at validation time", good, content, roots, now.AddDate(-1, 0, 0), verify.TotalFailed, "NOT_YET_VALID"},
	}
	// A CRL of the root that lists the signer: revoked (DSS: REVOKED_NO_POE,
	// no proof that the signature existed before the revocation).
	_, crl := p.CRL(t, id)
	_, emptyCRL := p.CRL(t)
	for _, tc := range []struct {
		crl      *certs.CRL
		ind, sub string
	}{{crl, verify.Indeterminate, "REVOKED_NO_POE"}, {emptyCRL, verify.TotalPassed, ""}} {
		rep, err := verify.Verify(context.Background(), good, verify.Options{Roots: roots, Content: bytes.NewReader(content), CRLs: []*certs.CRL{tc.crl}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Indication != tc.ind || rep.Signers[0].SubIndication != tc.sub {
			t.Errorf("CRL: got %s/%s, want %s/%s\n%s", rep.Indication, rep.Signers[0].SubIndication, tc.ind, tc.sub, rep.Summary("en"))
		}
	}

	for _, tc := range cases {
		opts := verify.Options{Roots: tc.roots, At: tc.at}
		if tc.content != nil {
			opts.Content = bytes.NewReader(tc.content)
		}
		rep, err := verify.Verify(context.Background(), tc.sig, opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if rep.Indication != tc.ind || rep.Signers[0].SubIndication != tc.sub {
			t.Errorf("%s: got %s/%s, want %s/%s\n%s", tc.name, rep.Indication, rep.Signers[0].SubIndication, tc.ind, tc.sub, rep.Summary("en"))
		}
	}
	for _, garbage := range [][]byte{nil, []byte("not a signature"), good[:len(good)/2], append(append([]byte(nil), good...), 0)} {
		rep, err := verify.Verify(context.Background(), garbage, verify.Options{Roots: roots})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Indication != verify.TotalFailed || rep.SubIndication != verify.FormatFailure {
			t.Errorf("garbage %q…: %s/%s", garbage[:min(len(garbage), 8)], rep.Indication, rep.SubIndication)
		}
	}
	if !strings.Contains(func() string {
		rep, _ := verify.Verify(context.Background(), good, verify.Options{Roots: roots, Content: bytes.NewReader(changed)})
		return rep.Summary("ru")
	}(), "изменён") {
		t.Error("the Russian summary does not say the document was changed")
	}
}
