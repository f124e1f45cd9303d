package login

import (
	"reflect"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/verify"
)

// The refusal mapping is tested here on reports built by hand, each with the
// reason, the DSS values and the detail a relying party gets (and logs or
// shows); TestLogin reaches the same functions through real signatures.

const (
	leafDN = "CN=Иванов"
	caDN   = "CN=kep test CA"
)

func chk(subject, code, status, detail string) certs.Check {
	return certs.Check{Code: code, Status: status, Subject: subject, Detail: detail}
}

func TestRefusalErrorString(t *testing.T) {
	for _, tc := range []struct {
		r    RefusalError
		want string
	}{
		{RefusalError{Reason: ReasonFormat}, "login refused: FORMAT"},
		{RefusalError{Reason: ReasonFormat, Detail: "no signingTime"}, "login refused: FORMAT: no signingTime"},
		{RefusalError{Reason: ReasonIndeterminate, Indication: verify.Indeterminate}, "login refused: INDETERMINATE (INDETERMINATE)"},
		{RefusalError{Reason: ReasonCertRevoked, Indication: verify.Indeterminate, SubIndication: certs.SubRevokedNoPOE, Detail: "revoked"},
			"login refused: CERT_REVOKED (INDETERMINATE/REVOKED_NO_POE): revoked"},
	} {
		if got := tc.r.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestChainRefusal(t *testing.T) {
	sr := &verify.SignerReport{Indication: verify.Indeterminate, SubIndication: certs.SubNoCertificateChainFound}
	for _, tc := range []struct {
		name string
		ch   *certs.ChainResult
		want *RefusalError // nil: the chain is no reason to refuse
	}{
		{"no path", nil, &RefusalError{Reason: ReasonChainUntrusted, Indication: verify.Indeterminate, SubIndication: certs.SubNoCertificateChainFound, Detail: "no certificate path"}},
		{"valid", &certs.ChainResult{Indication: certs.TotalPassed, Checks: []certs.Check{chk(leafDN, certs.CheckValidity, certs.StatusPassed, "")}}, nil},
		{"not yet valid", &certs.ChainResult{Indication: certs.TotalFailed, SubIndication: certs.SubNotYetValid, Checks: []certs.Check{
			chk(leafDN, certs.CheckCertSignature, certs.StatusPassed, ""),
			chk(leafDN, certs.CheckValidity, certs.StatusFailed, "not before 2030-01-01"),
		}}, &RefusalError{Reason: ReasonCertNotYetValid, Indication: certs.TotalFailed, SubIndication: certs.SubNotYetValid, Detail: leafDN + ": validity: not before 2030-01-01"}},
		// The check matching the sub-indication is named, not the first failed.
		{"expired, another check failed first", &certs.ChainResult{Indication: certs.Indeterminate, SubIndication: certs.SubOutOfBoundsNotRevoked, Checks: []certs.Check{
			chk(leafDN, certs.CheckCriticalExtensions, certs.StatusFailed, "unknown critical extension"),
			chk(caDN, certs.CheckValidity, certs.StatusFailed, "expired 2020-01-01"),
		}}, &RefusalError{Reason: ReasonCertExpired, Indication: certs.Indeterminate, SubIndication: certs.SubOutOfBoundsNotRevoked, Detail: caDN + ": validity: expired 2020-01-01"}},
		{"expired, the validity check passed", &certs.ChainResult{Indication: certs.Indeterminate, SubIndication: certs.SubOutOfBoundsNoPOE, Checks: []certs.Check{
			chk(leafDN, certs.CheckValidity, certs.StatusPassed, "valid"),
			chk(leafDN, certs.CheckRevocation, certs.StatusFailed, "no CRL"),
		}}, &RefusalError{Reason: ReasonCertExpired, Indication: certs.Indeterminate, SubIndication: certs.SubOutOfBoundsNoPOE, Detail: leafDN + ": revocation: no CRL"}},
		{"CA revoked", &certs.ChainResult{Indication: certs.Indeterminate, SubIndication: certs.SubRevokedCANoPOE, Checks: []certs.Check{
			chk(leafDN, certs.CheckRevocation, certs.StatusPassed, "not revoked"),
			chk(caDN, certs.CheckKeyUsage, certs.StatusFailed, "no keyCertSign"),
			chk(caDN, certs.CheckRevocation, certs.StatusFailed, "revoked at 2026-01-01"),
		}}, &RefusalError{Reason: ReasonCertRevoked, Indication: certs.Indeterminate, SubIndication: certs.SubRevokedCANoPOE, Detail: caDN + ": revocation: revoked at 2026-01-01"}},
		{"leaf key usage", &certs.ChainResult{Indication: certs.Indeterminate, SubIndication: certs.SubChainConstraintsFailure, Checks: []certs.Check{
			chk(leafDN, certs.CheckBasicConstraints, certs.StatusFailed, "CA:TRUE"),
			chk(leafDN, certs.CheckKeyUsage, certs.StatusFailed, "no clientAuth"),
		}}, &RefusalError{Reason: ReasonKeyUsage, Indication: certs.Indeterminate, SubIndication: certs.SubChainConstraintsFailure, Detail: leafDN + ": key_usage: no clientAuth"}},
		// A CA's key usage is the path's fault, not the user's certificate's.
		{"CA key usage", &certs.ChainResult{Indication: certs.Indeterminate, SubIndication: certs.SubChainConstraintsFailure, Checks: []certs.Check{
			chk(leafDN, certs.CheckKeyUsage, certs.StatusPassed, ""),
			chk(caDN, certs.CheckKeyUsage, certs.StatusFailed, "no keyCertSign"),
		}}, &RefusalError{Reason: ReasonChainUntrusted, Indication: certs.Indeterminate, SubIndication: certs.SubChainConstraintsFailure, Detail: caDN + ": key_usage: no keyCertSign"}},
		{"try later", &certs.ChainResult{Indication: certs.Indeterminate, SubIndication: certs.SubTryLater, Checks: []certs.Check{
			chk(leafDN, certs.CheckRevocation, certs.StatusFailed, "OCSP unreachable"),
		}}, &RefusalError{Reason: ReasonIndeterminate, Indication: certs.Indeterminate, SubIndication: certs.SubTryLater, Detail: leafDN + ": revocation: OCSP unreachable"}},
		{"weak algorithm in the path", &certs.ChainResult{Indication: certs.Indeterminate, SubIndication: certs.SubCryptoConstraintsFailureNoPOE},
			&RefusalError{Reason: ReasonIndeterminate, Indication: certs.Indeterminate, SubIndication: certs.SubCryptoConstraintsFailureNoPOE, Detail: "certificate path: INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE_NO_POE"}},
		{"stale revocation data", &certs.ChainResult{Indication: certs.Indeterminate, SubIndication: certs.SubRevocationOutOfBoundsNoPOE},
			&RefusalError{Reason: ReasonIndeterminate, Indication: certs.Indeterminate, SubIndication: certs.SubRevocationOutOfBoundsNoPOE, Detail: "certificate path: INDETERMINATE/REVOCATION_OUT_OF_BOUNDS_NO_POE"}},
		{"forged CA signature", &certs.ChainResult{Indication: certs.TotalFailed, SubIndication: certs.SubSigCryptoFailure, Checks: []certs.Check{
			chk(leafDN, certs.CheckCertSignature, certs.StatusFailed, "bad signature"),
		}}, &RefusalError{Reason: ReasonChainUntrusted, Indication: certs.TotalFailed, SubIndication: certs.SubSigCryptoFailure, Detail: leafDN + ": cert_signature: bad signature"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := chainRefusal(&verify.Report{}, &verify.SignerReport{Indication: sr.Indication, SubIndication: sr.SubIndication, Chain: tc.ch})
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSignatureRefusal(t *testing.T) {
	passed := verify.Check{Code: "FORMAT", Status: verify.Passed}
	for _, tc := range []struct {
		name    string
		ind     string
		sub     string
		checks  []verify.Check
		rep     []verify.Check // the report's own checks
		repInd  string
		repSub  string
		want    *RefusalError
		comment string
	}{
		{name: "all passed", ind: verify.TotalPassed, checks: []verify.Check{passed, {Code: "SIGNATURE", Status: verify.Passed}}},
		{name: "changed content", ind: verify.TotalFailed, sub: verify.HashFailure,
			checks: []verify.Check{passed, {Code: "MESSAGE_DIGEST", Status: verify.Failed, Detail: "digest mismatch"}},
			want:   &RefusalError{Reason: ReasonSignatureInvalid, Indication: verify.TotalFailed, SubIndication: verify.HashFailure, Detail: "message_digest: digest mismatch"}},
		{name: "bad signature", ind: verify.TotalFailed, sub: verify.SigCryptoFailure,
			checks: []verify.Check{{Code: "SIGNATURE", Status: verify.Failed, Detail: "does not verify"}},
			want:   &RefusalError{Reason: ReasonSignatureInvalid, Indication: verify.TotalFailed, SubIndication: verify.SigCryptoFailure, Detail: "signature: does not verify"}},
		{name: "unsupported algorithm", ind: verify.TotalFailed, sub: verify.CryptoConstraintsFailure,
			checks: []verify.Check{{Code: "ALGORITHM_PROTECTION", Status: verify.Failed, Detail: "unknown digest"}},
			want:   &RefusalError{Reason: ReasonSignatureInvalid, Indication: verify.TotalFailed, SubIndication: verify.CryptoConstraintsFailure, Detail: "unsupported algorithm: algorithm_protection: unknown digest"}},
		// The chain, the accreditation and a time-stamp are judged later.
		{name: "chain, accreditation, time-stamp", ind: verify.Indeterminate, sub: certs.SubNoCertificateChainFound, checks: []verify.Check{
			{Code: "CHAIN", Status: verify.Failed}, {Code: "ISSUER_ACCREDITED", Status: verify.Failed}, {Code: "SIGNATURE_TIMESTAMP", Status: verify.Failed}}},
		{name: "no signingTime", ind: verify.TotalFailed, sub: verify.FormatFailure,
			checks: []verify.Check{{Code: "CHAIN", Status: verify.Failed}, {Code: "SIGNING_TIME", Status: verify.Failed, Detail: "missing"}},
			want:   &RefusalError{Reason: ReasonFormat, Indication: verify.TotalFailed, SubIndication: verify.FormatFailure, Detail: "signing_time: missing"}},
		// A failed check under a passing indication carries no DSS values.
		{name: "failed check, passed indication", ind: verify.TotalPassed,
			checks: []verify.Check{{Code: "SIGNED_ATTRIBUTES", Status: verify.Failed, Detail: "duplicate"}},
			want:   &RefusalError{Reason: ReasonFormat, Detail: "signed_attributes: duplicate"}},
		{name: "the report's own check", ind: verify.TotalPassed, checks: []verify.Check{passed},
			rep: []verify.Check{{Code: "CONTENT", Status: verify.Passed}, {Code: "FORMAT", Status: verify.Failed, Detail: "two contents"}}, repInd: verify.TotalFailed, repSub: verify.FormatFailure,
			want: &RefusalError{Reason: ReasonFormat, Indication: verify.TotalFailed, SubIndication: verify.FormatFailure, Detail: "format: two contents"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := &verify.Report{Indication: tc.repInd, SubIndication: tc.repSub, Checks: tc.rep}
			got := signatureRefusal(rep, &verify.SignerReport{Indication: tc.ind, SubIndication: tc.sub, Checks: tc.checks})
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestReportRefusal(t *testing.T) {
	for _, tc := range []struct {
		name string
		rep  verify.Report
		want RefusalError
	}{
		{"unreadable, no signers", verify.Report{Indication: verify.TotalFailed, SubIndication: verify.FormatFailure,
			Checks: []verify.Check{{Code: "CONTENT", Status: verify.Passed}, {Code: "FORMAT", Status: verify.Failed, Detail: "not DER"}}},
			RefusalError{Reason: ReasonFormat, Indication: verify.TotalFailed, SubIndication: verify.FormatFailure, Detail: "refused (FORMAT: not DER)"}},
		{"nothing failed, no signers", verify.Report{Indication: verify.TotalFailed, SubIndication: verify.FormatFailure},
			RefusalError{Reason: ReasonFormat, Indication: verify.TotalFailed, SubIndication: verify.FormatFailure, Detail: "refused"}},
		{"no sub-indication, no signers", verify.Report{Indication: verify.TotalFailed},
			RefusalError{Reason: ReasonFormat, Indication: verify.TotalFailed, Detail: "refused"}},
		// The signer's values stand in for the report's missing ones; its
		// CHAIN check is left out (chainRefusal names the path's).
		{"the signer's values", verify.Report{Indication: verify.Indeterminate, Signers: []verify.SignerReport{{
			Indication: verify.Indeterminate, SubIndication: certs.SubTryLater, Checks: []verify.Check{
				{Code: "CHAIN", Status: verify.Failed, Detail: "path"}, {Code: "SIGNATURE", Status: verify.Passed}, {Code: "SIGNING_TIME", Status: verify.Failed, Detail: "late"}}}}},
			RefusalError{Reason: ReasonFormat, Indication: verify.Indeterminate, SubIndication: certs.SubTryLater, Detail: "refused (SIGNING_TIME: late)"}},
		{"the report's values first", verify.Report{Indication: verify.TotalFailed, SubIndication: verify.FormatFailure, Signers: []verify.SignerReport{{
			Indication: verify.Indeterminate, SubIndication: certs.SubTryLater}}},
			RefusalError{Reason: ReasonFormat, Indication: verify.TotalFailed, SubIndication: verify.FormatFailure, Detail: "refused"}},
		{"passed values are dropped", verify.Report{Indication: verify.TotalPassed, Signers: []verify.SignerReport{{Indication: verify.TotalPassed}}},
			RefusalError{Reason: ReasonFormat, Detail: "refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := reportRefusal(&tc.rep, ReasonFormat, "refused"); !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", *got, tc.want)
			}
		})
	}
	if reasonFor(verify.Indeterminate) != ReasonIndeterminate || reasonFor(verify.TotalFailed) != ReasonSignatureInvalid {
		t.Fatal("reasonFor: INDETERMINATE is INDETERMINATE, TOTAL_FAILED is SIGNATURE_INVALID")
	}
}

// TestLeafRevocation: Identity.Revocation says "passed" only when the leaf's
// own revocation check showed it unrevoked at the validation time.
func TestLeafRevocation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		checks []certs.Check
		want   string
	}{
		{"no checks", nil, verify.NotChecked},
		{"leaf passed", []certs.Check{chk(leafDN, certs.CheckValidity, certs.StatusPassed, ""), chk(leafDN, certs.CheckRevocation, certs.StatusPassed, "CRL")}, verify.Passed},
		{"revoked only later", []certs.Check{chk(leafDN, certs.CheckRevocation, certs.StatusWarning, "revoked at 2030-01-01, after the validation time")}, verify.Passed},
		{"other warning", []certs.Check{chk(leafDN, certs.CheckRevocation, certs.StatusWarning, "no revocation information")}, verify.NotChecked},
		{"leaf not checked", []certs.Check{chk(leafDN, certs.CheckRevocation, certs.StatusNotChecked, "")}, verify.NotChecked},
		{"leaf failed", []certs.Check{chk(leafDN, certs.CheckRevocation, certs.StatusFailed, "revoked at 2020-01-01")}, verify.NotChecked},
		{"only the CA checked", []certs.Check{chk(leafDN, certs.CheckValidity, certs.StatusPassed, ""), chk(caDN, certs.CheckRevocation, certs.StatusPassed, "CRL")}, verify.NotChecked},
		{"another check passed", []certs.Check{chk(leafDN, certs.CheckKeyUsage, certs.StatusPassed, "")}, verify.NotChecked},
	} {
		if got := leafRevocation(&certs.ChainResult{Checks: tc.checks}); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestIdentityFields: identity copies the signer's fields and tolerates a
// report without certificate, qualified fields or signing time.
func TestIdentityFields(t *testing.T) {
	if got := identity(&verify.SignerReport{}); !reflect.DeepEqual(*got, Identity{Qualified: &certs.Qualified{}}) {
		t.Fatalf("empty report: %+v", got)
	}
	msk := time.FixedZone("MSK", 3*3600)
	st := time.Date(2026, 1, 2, 18, 4, 5, 0, msk)
	q := &certs.Qualified{Surname: "Иванов", GivenName: "Иван Иванович", CommonName: "Иванов Иван Иванович", Organization: "ООО Ромашка",
		Title: "Директор", Email: "ivanov@example.ru", SNILS: "11223344595", INN: "500100732259", INNLE: "7707083893", OGRN: "1027700132195", OGRNIP: "304500116000157", Serial: "01ab"}
	nb, na := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	got := identity(&verify.SignerReport{Signer: q, SigningTime: &st,
		Certificate: &verify.CertInfo{Subject: "CN=Иванов Иван Иванович", Issuer: caDN, Thumbprint: "AB12", NotBefore: nb, NotAfter: na}})
	want := Identity{Surname: "Иванов", GivenName: "Иван Иванович", CommonName: "Иванов Иван Иванович", Organization: "ООО Ромашка",
		Title: "Директор", Email: "ivanov@example.ru", SNILS: "11223344595", INN: "500100732259", INNLE: "7707083893", OGRN: "1027700132195", OGRNIP: "304500116000157",
		Certificate: CertRef{Thumbprint: "AB12", Serial: "01ab", Subject: "CN=Иванов Иван Иванович", Issuer: caDN, NotBefore: nb, NotAfter: na},
		SigningTime: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), Qualified: q}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("identity:\n got %+v\nwant %+v", *got, want)
	}
}
