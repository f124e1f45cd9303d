package certs

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// wantFailed fails the test unless r has a failed check with the code.
func wantFailed(t *testing.T, r *ChainResult, code string) {
	t.Helper()
	if findCheck(r, code, StatusFailed) == nil {
		t.Errorf("no failed %s check in %+v", code, r.Checks)
	}
}

func findCheck(r *ChainResult, code, status string) *Check {
	for i, c := range r.Checks {
		if c.Code == code && c.Status == status {
			return &r.Checks[i]
		}
	}
	return nil
}

func wantResult(t *testing.T, r *ChainResult, indication, sub string) {
	t.Helper()
	if r.Indication != indication || r.SubIndication != sub {
		t.Errorf("got %s/%s, want %s/%s; failures %+v", r.Indication, r.SubIndication, indication, sub, r.Failures())
	}
}

func certsOf(cs ...*testCA) []*Certificate {
	out := make([]*Certificate, len(cs))
	for i, c := range cs {
		out[i] = c.Certificate
	}
	return out
}

func TestVerifyPathConstraints(t *testing.T) {
	p := newTestPKI(t)
	at := time.Now().Add(time.Hour)

	t.Run("path length", func(t *testing.T) {
		root := p.root("/CN=Root pathlen 0", "gost256", strings.Replace(extRoot, "CA:TRUE", "CA:TRUE,pathlen:0", 1))
		ca := p.issue(root, "/CN=CA under pathlen 0", "gost256", extCA)
		leaf := p.issue(ca, "/CN=Leaf too deep", "gost256", extLeaf)
		r := Verify(leaf.Certificate, VerifyOptions{Roots: certsOf(root), Intermediates: certsOf(ca), At: at})
		wantResult(t, r, Indeterminate, SubChainConstraintsFailure)
		if c := findCheck(r, CheckPathLength, StatusFailed); c == nil || c.Subject != "Root pathlen 0" {
			t.Errorf("PATH_LENGTH failure not on the root: %+v", r.Checks)
		}
		if len(r.Chain) != 3 {
			t.Errorf("chain of %d", len(r.Chain))
		}
		// pathlen 1 allows the same path.
		root1 := p.root("/CN=Root pathlen 1", "gost256", strings.Replace(extRoot, "CA:TRUE", "CA:TRUE,pathlen:1", 1))
		ca1 := p.issue(root1, "/CN=CA under pathlen 1", "gost256", extCA)
		leaf1 := p.issue(ca1, "/CN=Leaf deep enough", "gost256", extLeaf)
		wantResult(t, Verify(leaf1.Certificate, VerifyOptions{Roots: certsOf(root1), Intermediates: certsOf(ca1), At: at}), TotalPassed, "")
	})

	t.Run("non-CA issuer", func(t *testing.T) {
		root := p.root("/CN=Root of a non-CA", "gost256", extRoot)
		notCA := p.issue(root, "/CN=Not a CA", "gost256", extLeaf)
		leaf := p.issue(notCA, "/CN=Leaf of a non-CA", "gost256", extLeaf)
		r := Verify(leaf.Certificate, VerifyOptions{Roots: certsOf(root), Intermediates: certsOf(notCA), At: at})
		wantResult(t, r, Indeterminate, SubChainConstraintsFailure)
		wantFailed(t, r, CheckBasicConstraints)
		wantFailed(t, r, CheckKeyCertSign)
	})

	t.Run("critical extensions", func(t *testing.T) {
		root := p.root("/CN=Root ext", "gost512", extRoot)
		russian := p.issue(root, "/CN=Critical Russian extensions", "gost256",
			extLeaf+"1.2.643.100.111=critical,ASN1:UTF8String:КриптоПро CSP\n1.2.643.100.114=critical,ASN1:INTEGER:0\n")
		wantResult(t, Verify(russian.Certificate, VerifyOptions{Roots: certsOf(root), At: at}), TotalPassed, "")
		unknown := p.issue(root, "/CN=Unknown critical extension", "gost256", extLeaf+"1.2.3.4=critical,ASN1:NULL\n")
		r := Verify(unknown.Certificate, VerifyOptions{Roots: certsOf(root), At: at})
		wantResult(t, r, Indeterminate, SubChainConstraintsFailure)
		if c := findCheck(r, CheckCriticalExtensions, StatusFailed); c == nil || !strings.Contains(c.Detail, "1.2.3.4") {
			t.Errorf("CRITICAL_EXTENSIONS does not name 1.2.3.4: %+v", c)
		}
		constrained := p.issue(root, "/CN=Name-constrained CA", "gost256", extCA+"nameConstraints=critical,permitted;DNS:example.org\n")
		leaf := p.issue(constrained, "/CN=Under name constraints", "gost256", extLeaf)
		r = Verify(leaf.Certificate, VerifyOptions{Roots: certsOf(root), Intermediates: certsOf(constrained), At: at})
		wantResult(t, r, Indeterminate, SubChainConstraintsFailure)
	})

	t.Run("purpose", func(t *testing.T) {
		root := p.root("/CN=Root purpose", "ec", extRoot)
		login := p.issue(root, "/CN=Login", "gost256", extLeaf)
		mailOnly := p.issue(root, "/CN=Mail only", "gost256", strings.Replace(extLeaf, "clientAuth,emailProtection", "emailProtection", 1))
		encOnly := p.issue(root, "/CN=Encipherment only", "gost256", strings.Replace(extLeaf, "digitalSignature,nonRepudiation", "keyEncipherment", 1))
		nrOnly := p.issue(root, "/CN=Non-repudiation only", "gost256", strings.Replace(extLeaf, "digitalSignature,nonRepudiation", "nonRepudiation", 1))
		// No keyUsage at all, as the TC 26 CMS examples and a Rutoken-made
		// signature have (testdata/realworld): unrestricted for signing,
		// with a warning; login still needs digitalSignature.
		noKU := p.issue(root, "/CN=No keyUsage", "gost256", strings.Replace(extLeaf, "keyUsage=critical,digitalSignature,nonRepudiation\n", "", 1))
		if noKU.KeyUsage != 0 || hasExtension(noKU.Certificate, oidKeyUsage) {
			t.Fatal("the no-keyUsage leaf has a keyUsage")
		}
		r := Verify(noKU.Certificate, VerifyOptions{Roots: certsOf(root), At: at, Purpose: PurposeSigning})
		wantResult(t, r, TotalPassed, "")
		if c := findCheck(r, CheckKeyUsage, StatusWarning); c == nil || !strings.Contains(c.Detail, "no keyUsage extension") {
			t.Errorf("no keyUsage: KEY_USAGE is not a warning naming the missing extension: %+v", r.Checks)
		}
		r = Verify(noKU.Certificate, VerifyOptions{Roots: certsOf(root), At: at, Purpose: PurposeLogin})
		wantResult(t, r, Indeterminate, SubChainConstraintsFailure)
		wantFailed(t, r, CheckKeyUsage)
		for _, tc := range []struct {
			leaf    *testCA
			purpose Purpose
			ok      bool
		}{
			{login, PurposeSigning, true}, {login, PurposeLogin, true}, {login, PurposeAny, true},
			{mailOnly, PurposeSigning, true}, {mailOnly, PurposeLogin, false},
			{encOnly, PurposeSigning, false}, {encOnly, PurposeLogin, false}, {encOnly, PurposeAny, true},
			{nrOnly, PurposeSigning, true}, {nrOnly, PurposeLogin, false},
		} {
			r := Verify(tc.leaf.Certificate, VerifyOptions{Roots: certsOf(root), At: at, Purpose: tc.purpose})
			if r.Valid() != tc.ok {
				t.Errorf("%s for %v: %s/%s %+v", tc.leaf.Subject.CommonName, tc.purpose, r.Indication, r.SubIndication, r.Failures())
			}
			if !tc.ok {
				wantResult(t, r, Indeterminate, SubChainConstraintsFailure)
				wantFailed(t, r, CheckKeyUsage)
			}
		}
	})
}

func TestVerifyTime(t *testing.T) {
	p := newTestPKI(t)
	now := time.Now()
	root := p.root("/CN=Root time", "gost256", extRoot)
	p.days = 30
	ca := p.issue(root, "/CN=Short-lived CA", "gost256", extCA)
	p.days = 0
	leaf := p.issue(ca, "/CN=Leaf time", "gost256", extLeaf)
	opts := VerifyOptions{Roots: certsOf(root), Intermediates: certsOf(ca)}

	opts.At = now.Add(-24 * time.Hour)
	r := Verify(leaf.Certificate, opts)
	wantResult(t, r, TotalFailed, SubNotYetValid)
	wantFailed(t, r, CheckValidity)

	opts.At = now.Add(60 * 24 * time.Hour)
	r = Verify(leaf.Certificate, opts)
	wantResult(t, r, Indeterminate, SubOutOfBoundsNoPOE)
	if c := findCheck(r, CheckValidity, StatusFailed); c == nil || c.Subject != "Short-lived CA" {
		t.Errorf("VALIDITY failure not on the CA: %+v", r.Checks)
	}
	// A usable CRL of the root that does not list the expired CA.
	opts.CRLs = []*CRL{p.crl(root, opts.At.Add(-time.Hour), opts.At.Add(time.Hour), nil)}
	wantResult(t, Verify(leaf.Certificate, opts), Indeterminate, SubOutOfBoundsNotRevoked)

	// Zero At is now.
	r = Verify(leaf.Certificate, VerifyOptions{Roots: certsOf(root), Intermediates: certsOf(ca)})
	wantResult(t, r, TotalPassed, "")
	if d := time.Since(r.At); d < 0 || d > time.Minute {
		t.Errorf("validation time %v is not now", r.At)
	}
}

func TestVerifyRevocation(t *testing.T) {
	p := newTestPKI(t)
	p.crlV2 = true
	now := time.Now()
	at := now.Add(time.Hour)
	root := p.root("/CN=Root CRL", "gost256", extRoot)
	ca := p.issue(root, "/CN=CA CRL", "gost512", extCA)
	leaf := p.issue(ca, "/CN=Leaf CRL", "gost256", extLeaf)
	impostor := p.root("/CN=CA CRL", "gost512", extRoot) // the CA's name, another key
	base := VerifyOptions{Roots: certsOf(root), Intermediates: certsOf(ca), At: at}
	withCRLs := func(crls ...*CRL) VerifyOptions {
		o := base
		o.CRLs = crls
		return o
	}
	day := 24 * time.Hour
	revokedLeaf := p.crl(ca, now.Add(-time.Hour), now.Add(day), map[*testCA]time.Time{leaf: now.Add(-time.Minute)})
	if e, ok := revokedLeaf.Revoked(leaf.SerialNumber); !ok || e.RevocationTime.Unix() != now.Add(-time.Minute).Unix() {
		t.Fatalf("Revoked(leaf) = %v, %v", e, ok)
	}
	if _, ok := revokedLeaf.Revoked(ca.SerialNumber); ok {
		t.Fatal("Revoked(ca) is true")
	}
	if err := revokedLeaf.CheckSignatureFrom(ca.Certificate); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	if err := revokedLeaf.CheckSignatureFrom(root.Certificate); err == nil {
		t.Fatal("CRL signature verifies with the root")
	}
	cleanCA := p.crl(ca, now.Add(-time.Hour), now.Add(day), nil)
	cleanRoot := p.crl(root, now.Add(-time.Hour), now.Add(day), nil)

	t.Run("no CRL", func(t *testing.T) {
		r := Verify(leaf.Certificate, base)
		wantResult(t, r, TotalPassed, "")
		if findCheck(r, CheckRevocation, StatusNotChecked) == nil {
			t.Errorf("revocation not reported as not_checked: %+v", r.Checks)
		}
	})
	t.Run("clean CRLs", func(t *testing.T) {
		r := Verify(leaf.Certificate, withCRLs(cleanCA, cleanRoot))
		wantResult(t, r, TotalPassed, "")
		if findCheck(r, CheckRevocation, StatusNotChecked) != nil {
			t.Errorf("a revocation check was skipped: %+v", r.Checks)
		}
	})
	t.Run("revoked leaf", func(t *testing.T) {
		wantResult(t, Verify(leaf.Certificate, withCRLs(revokedLeaf, cleanRoot)), Indeterminate, SubRevokedNoPOE)
	})
	t.Run("revoked after the validation time", func(t *testing.T) {
		later := p.crl(ca, now.Add(-time.Hour), now.Add(day), map[*testCA]time.Time{leaf: at.Add(time.Hour)})
		r := Verify(leaf.Certificate, withCRLs(later))
		wantResult(t, r, TotalPassed, "")
		if findCheck(r, CheckRevocation, StatusWarning) == nil {
			t.Errorf("later revocation not reported: %+v", r.Checks)
		}
	})
	t.Run("revoked CA", func(t *testing.T) {
		crl := p.crl(root, now.Add(-time.Hour), now.Add(day), map[*testCA]time.Time{ca: now.Add(-time.Minute)})
		wantResult(t, Verify(leaf.Certificate, withCRLs(crl, cleanCA)), Indeterminate, SubRevokedCANoPOE)
	})
	t.Run("CRL signed by the wrong key is ignored", func(t *testing.T) {
		forged := p.crl(impostor, now.Add(-time.Hour), now.Add(day), map[*testCA]time.Time{leaf: now.Add(-time.Minute)})
		if err := forged.CheckSignatureFrom(ca.Certificate); err == nil {
			t.Fatal("the forged CRL verifies")
		}
		r := Verify(leaf.Certificate, withCRLs(forged))
		wantResult(t, r, TotalPassed, "")
		if c := findCheck(r, CheckRevocation, StatusWarning); c == nil || !strings.Contains(c.Detail, "ignored") {
			t.Errorf("the forged CRL is not reported: %+v", r.Checks)
		}
		if findCheck(r, CheckRevocation, StatusNotChecked) == nil {
			t.Errorf("leaf revocation not reported as not_checked: %+v", r.Checks)
		}
	})
	t.Run("CRL outside its validity is ignored", func(t *testing.T) {
		stale := p.crl(ca, now.Add(-3*day), now.Add(-2*day), map[*testCA]time.Time{leaf: now.Add(-4 * day)})
		future := p.crl(ca, now.Add(2*time.Hour), now.Add(day), map[*testCA]time.Time{leaf: now.Add(-4 * day)})
		r := Verify(leaf.Certificate, withCRLs(stale, future))
		wantResult(t, r, TotalPassed, "")
		n := 0
		for _, c := range r.Checks {
			if c.Code == CheckRevocation && c.Status == StatusWarning {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d ignored CRLs reported, want 2: %+v", n, r.Checks)
		}
	})
}

func TestVerifyPathBuilding(t *testing.T) {
	p := newTestPKI(t)
	at := time.Now().Add(time.Hour)
	noAKI := strings.Replace(extLeaf, "authorityKeyIdentifier=keyid\n", "authorityKeyIdentifier=none\n", 1)

	t.Run("zero options", func(t *testing.T) {
		root := p.root("/CN=Lonely root", "gost256", extRoot)
		leaf := p.issue(root, "/CN=Lonely leaf", "gost256", extLeaf)
		r := Verify(leaf.Certificate, VerifyOptions{})
		wantResult(t, r, Indeterminate, SubNoCertificateChainFound)
		wantFailed(t, r, CheckTrustAnchor)
		if r := Verify(nil, VerifyOptions{}); r.Indication != Indeterminate {
			t.Errorf("nil leaf: %+v", r)
		}
	})

	t.Run("same-named roots", func(t *testing.T) {
		good := p.root("/CN=Twin root", "gost256", extRoot)
		twin := p.root("/CN=Twin root", "gost256", extRoot)
		leaf := p.issue(good, "/CN=Twin leaf", "gost256", noAKI)
		r := Verify(leaf.Certificate, VerifyOptions{Roots: certsOf(twin, good), At: at})
		wantResult(t, r, TotalPassed, "")
		if r.Chain[1].Thumbprint() != good.Thumbprint() {
			t.Error("the wrong twin was reported")
		}
		if len(r.OtherPaths) != 1 || r.OtherPaths[0].SubIndication != SubSigCryptoFailure {
			t.Errorf("other paths %+v", r.OtherPaths)
		}
		// Only the impostor: the path fails its signature.
		r = Verify(leaf.Certificate, VerifyOptions{Roots: certsOf(twin), At: at})
		wantResult(t, r, TotalFailed, SubSigCryptoFailure)
		// With an authorityKeyIdentifier the impostor is not even a candidate.
		keyed := p.issue(good, "/CN=Keyed leaf", "gost256", extLeaf)
		r = Verify(keyed.Certificate, VerifyOptions{Roots: certsOf(twin), At: at})
		wantResult(t, r, Indeterminate, SubNoCertificateChainFound)
		if c := findCheck(r, CheckTrustAnchor, StatusFailed); c == nil || !strings.Contains(c.Detail, "subjectKeyIdentifier") {
			t.Errorf("the key identifier mismatch is not explained: %+v", c)
		}
	})

	t.Run("best failing path", func(t *testing.T) {
		root := p.root("/CN=Root best", "gost256", extRoot)
		expired := p.root("/CN=Root best", "gost256", extRoot) // another key, same name
		leaf := p.issue(root, "/CN=Leaf best", "gost256", strings.Replace(noAKI, "digitalSignature,nonRepudiation", "keyEncipherment", 1))
		// Via root: only the leaf's key usage fails, at the very end.
		// Via the impostor: the leaf's signature fails, earlier.
		r := Verify(leaf.Certificate, VerifyOptions{Roots: certsOf(expired, root), At: at})
		wantResult(t, r, Indeterminate, SubChainConstraintsFailure)
		if r.Chain[1].Thumbprint() != root.Thumbprint() || len(r.OtherPaths) != 1 {
			t.Errorf("reported the wrong path; others %+v", r.OtherPaths)
		}
	})

	t.Run("missing intermediate", func(t *testing.T) {
		root := p.root("/CN=Root missing", "gost256", extRoot)
		ca := p.issue(root, "/CN=CA missing", "gost256", extCA)
		leaf := p.issue(ca, "/CN=Leaf missing", "gost256", extLeaf)
		r := Verify(leaf.Certificate, VerifyOptions{Roots: certsOf(root), At: at})
		wantResult(t, r, Indeterminate, SubNoCertificateChainFound)
		if c := findCheck(r, CheckTrustAnchor, StatusFailed); c == nil || !strings.Contains(c.Detail, "CA missing") {
			t.Errorf("the missing issuer is not named: %+v", c)
		}
		// Intermediates given as roots' companions in any order work.
		wantResult(t, Verify(leaf.Certificate, VerifyOptions{Roots: certsOf(root), Intermediates: certsOf(leaf, ca, ca), At: at}), TotalPassed, "")
	})

	t.Run("cross-certified loop", func(t *testing.T) {
		x := p.root("/CN=Cross X", "gost256", extRoot)
		y := p.root("/CN=Cross Y", "gost256", extRoot)
		xByY := p.issueKey(y, "/CN=Cross X", x.keyPath, "gost256", extCA)
		yByX := p.issueKey(x, "/CN=Cross Y", y.keyPath, "gost256", extCA)
		leaf := p.issue(x, "/CN=Cross leaf", "gost256", extLeaf)
		other := p.root("/CN=Unrelated root", "gost256", extRoot)
		inter := certsOf(xByY, yByX)
		r := Verify(leaf.Certificate, VerifyOptions{Roots: certsOf(other), Intermediates: inter, At: at})
		wantResult(t, r, Indeterminate, SubNoCertificateChainFound)
		r = Verify(leaf.Certificate, VerifyOptions{Roots: certsOf(y), Intermediates: inter, At: at})
		wantResult(t, r, TotalPassed, "")
		if len(r.Chain) != 3 {
			t.Errorf("cross chain of %d certificates", len(r.Chain))
		}
	})

	t.Run("leaf is an anchor", func(t *testing.T) {
		self := p.root("/CN=Self-signed signer", "gost256", extLeaf)
		wantResult(t, Verify(self.Certificate, VerifyOptions{Roots: certsOf(self), At: at}), TotalPassed, "")
	})
}

// TestChainResultJSON checks the JSON field names of a result.
func TestChainResultJSON(t *testing.T) {
	p := newTestPKI(t)
	root := p.root("/CN=Root JSON", "gost256", extRoot)
	leaf := p.issue(root, "/CN=Leaf JSON", "gost256", extLeaf)
	r := Verify(leaf.Certificate, VerifyOptions{Roots: certsOf(root), At: time.Now().Add(time.Hour)})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Indication string `json:"indication"`
		Chain      []struct {
			Subject    string `json:"subject"`
			Thumbprint string `json:"thumbprint"`
			Qualified  struct {
				CommonName string `json:"commonName"`
			} `json:"qualified"`
		} `json:"chain"`
		Checks []map[string]string `json:"checks"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Indication != TotalPassed || len(m.Chain) != 2 || m.Chain[0].Subject != "CN=Leaf JSON" ||
		m.Chain[0].Thumbprint != leaf.Thumbprint() || m.Chain[1].Qualified.CommonName != "Root JSON" {
		t.Errorf("JSON %s", b)
	}
	for _, c := range m.Checks {
		if c["code"] == "" || c["status"] == "" || c["subject"] == "" {
			t.Errorf("check without code, status or subject: %v", c)
		}
	}
}
