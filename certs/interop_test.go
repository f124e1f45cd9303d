package certs

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestInteropSignatures checks certificates OpenSSL signs with GOST 256 and
// 512 (CryptoPro and tc26 sets, twisted Edwards ones included), RSA and
// ECDSA, and that one flipped signature byte is caught.
func TestInteropSignatures(t *testing.T) {
	p := newTestPKI(t)
	at := time.Now().Add(time.Hour)
	for _, tc := range []struct{ alg, keyName string }{
		{"gost256", "GOST R 34.10-2012 256 (cryptopro-a)"},
		{"gost256b", "GOST R 34.10-2012 256 (cryptopro-b)"},
		{"gost256tc26a", "GOST R 34.10-2012 256 (tc26-256-a)"},
		{"gost512", "GOST R 34.10-2012 512 (tc26-512-a)"},
		{"gost512c", "GOST R 34.10-2012 512 (tc26-512-c)"},
		{"rsa", "RSA 2048"},
		{"ec", "ECDSA P-256"},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			root := p.root("/CN=Root "+tc.alg, tc.alg, extRoot)
			leaf := p.issue(root, "/CN=Leaf of "+tc.alg, "gost256", extLeaf)
			if root.KeyAlgorithm != tc.keyName {
				t.Errorf("KeyAlgorithm %q, want %q", root.KeyAlgorithm, tc.keyName)
			}
			if err := root.CheckSignatureFrom(root.Certificate); err != nil {
				t.Errorf("self-signature: %v", err)
			}
			if err := leaf.CheckSignatureFrom(root.Certificate); err != nil {
				t.Errorf("leaf signature: %v", err)
			}
			if err := leaf.CheckSignatureFrom(leaf.Certificate); !errors.Is(err, ErrSignatureInvalid) && !errors.Is(err, ErrAlgorithmMismatch) {
				t.Errorf("leaf checked with its own key: %v", err)
			}
			r := Verify(leaf.Certificate, VerifyOptions{Roots: []*Certificate{root.Certificate}, At: at})
			if r.Indication != TotalPassed {
				t.Errorf("Verify: %s/%s %v", r.Indication, r.SubIndication, r.Failures())
			}

			if root.PublicKey != nil && root.Certificate.PublicKey == nil { // GOST: s || r, not r || s
				half := len(leaf.Signature) / 2
				swapped := append(append([]byte(nil), leaf.Signature[half:]...), leaf.Signature[:half]...)
				if err := VerifyMessage(root.PublicKey, leaf.SignatureAlgorithmID, leaf.RawTBSCertificate, swapped); !errors.Is(err, ErrSignatureInvalid) {
					t.Errorf("r || s accepted: %v", err)
				}
			}

			bad := flipLastByte(t, leaf.Raw)
			if err := bad.CheckSignatureFrom(root.Certificate); !errors.Is(err, ErrSignatureInvalid) {
				t.Errorf("flipped signature byte: %v, want ErrSignatureInvalid", err)
			}
			r = Verify(bad, VerifyOptions{Roots: []*Certificate{root.Certificate}, At: at})
			if r.Indication != TotalFailed || r.SubIndication != SubSigCryptoFailure {
				t.Errorf("flipped signature byte: %s/%s, want TOTAL_FAILED/SIG_CRYPTO_FAILURE", r.Indication, r.SubIndication)
			}
			wantFailed(t, r, CheckCertSignature)
		})
	}
}

// flipLastByte returns the certificate der with the last byte of its
// signature flipped.
func flipLastByte(t *testing.T, der []byte) *Certificate {
	t.Helper()
	b := append([]byte(nil), der...)
	b[len(b)-1] ^= 0x01
	c, err := ParseCertificate(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGOST2001 checks that GOST R 34.10-2001 keys are read and named and
// their signatures verified, and that a path with a 2001 signature validated
// now (after 2019, with no other proof of existence) is
// INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE_NO_POE with the constraint's reason.
func TestGOST2001(t *testing.T) {
	p := newTestPKI(t)
	root := p.root("/CN=Old root", "gost2001", extRoot)
	if root.KeyAlgorithm != "GOST R 34.10-2001 (cryptopro-a)" {
		t.Errorf("KeyAlgorithm %q", root.KeyAlgorithm)
	}
	if err := root.CheckSignatureFrom(root.Certificate); err != nil {
		t.Errorf("2001 self-signature: %v", err)
	}
	leaf := p.issue(root, "/CN=Old leaf", "gost256", extLeaf)
	if err := leaf.CheckSignatureFrom(root.Certificate); err != nil {
		t.Errorf("2001 signature: %v", err)
	}
	r := Verify(leaf.Certificate, VerifyOptions{Roots: []*Certificate{root.Certificate}, At: time.Now().Add(time.Hour)})
	if r.Indication != Indeterminate || r.SubIndication != SubCryptoConstraintsFailureNoPOE {
		t.Errorf("Verify: %s/%s", r.Indication, r.SubIndication)
	}
	found := false
	for _, c := range r.Checks {
		if c.Code == CheckAlgConstraint {
			found = true
			if c.Status != StatusFailed || c.Reason != ReasonGOST2001 ||
				!strings.Contains(c.Detail, "acceptable only for signatures whose existence is proven before 2020-01-01") ||
				!strings.Contains(c.Detail, "the validation time") {
				t.Errorf("constraint check %+v", c)
			}
		}
	}
	if !found {
		t.Error("no ALGORITHM_CONSTRAINTS check")
	}
}
