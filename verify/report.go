package verify

// The report: indications, checks and the per-signer and per-time-stamp
// outcomes Verify returns.

import (
	"time"

	"github.com/kepkit/kep/certs"
)

// Indications (ETSI EN 319 102-1).
const (
	TotalPassed   = "TOTAL_PASSED"
	TotalFailed   = "TOTAL_FAILED"
	Indeterminate = "INDETERMINATE"
)

// Sub-indications this package produces itself; chain validation adds its own
// (certs package doc).
const (
	CryptoConstraintsFailureNoPOE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
	FormatFailure                 = "FORMAT_FAILURE"
	HashFailure                   = "HASH_FAILURE"
	SigCryptoFailure              = "SIG_CRYPTO_FAILURE"
	SignedDataNotFound            = "SIGNED_DATA_NOT_FOUND"
	NoSigningCertificateFound     = "NO_SIGNING_CERTIFICATE_FOUND"
	CryptoConstraintsFailure      = "CRYPTO_CONSTRAINTS_FAILURE"
	SigConstraintsFailure         = "SIG_CONSTRAINTS_FAILURE"
)

// Check statuses.
const (
	Passed     = "passed"
	Failed     = "failed"
	Warning    = "warning"
	NotChecked = "not_checked"
)

// checkCodes lists, in report order, every code the checks of a Report or a
// SignerReport carry; the chain's checks carry the certs package's codes.
var checkCodes = []string{
	"FORMAT", "CONTENT", "SIGNER_CERTIFICATE", "CERTIFICATE_ENCODING", "SIGNING_CERTIFICATE_REF",
	"CONTENT_TYPE", "MESSAGE_DIGEST", "SIGNATURE", "ALGORITHM_CONSTRAINTS", "ALGORITHM_PROTECTION",
	"SIGNED_ATTRIBUTES", "SIGNING_TIME", "CONTENT_TIMESTAMP", "SIGNATURE_TIMESTAMP",
	"CERTIFICATE_VALUES", "REVOCATION_VALUES", "CERTIFICATE_REFS", "REVOCATION_REFS",
	"CADES_C_TIMESTAMP", "REFS_TIMESTAMP", "TIMESTAMP_ORDER", "CHAIN", "ISSUER_ACCREDITED", "LEVEL",
}

// CheckCodes returns every code a Report's or a SignerReport's checks can
// carry (a new check adds its code here, and verify/protocol names each in
// Russian and English). The chain's checks carry the certs package's codes.
func CheckCodes() []string { return append([]string(nil), checkCodes...) }

// Check is one check's outcome.
type Check struct {
	Code   string `json:"code"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Reason is a stable code refining Code where there is one: the
	// certs.AlgorithmConstraints row of an ALGORITHM_CONSTRAINTS check, the
	// field leniency of a CERTIFICATE_ENCODING warning.
	Reason string `json:"reason,omitempty"`
}

// CertInfo identifies a certificate in a report.
type CertInfo struct {
	Subject      string    `json:"subject"`
	Issuer       string    `json:"issuer"`
	Serial       string    `json:"serial"`
	Thumbprint   string    `json:"thumbprint"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	KeyAlgorithm string    `json:"keyAlgorithm"`
}

// SignerReport is the outcome for one signer.
type SignerReport struct {
	Index              int                `json:"index"`
	Indication         string             `json:"indication"`
	SubIndication      string             `json:"subIndication,omitempty"`
	Checks             []Check            `json:"checks"`
	Signer             *certs.Qualified   `json:"signer,omitempty"`
	Certificate        *CertInfo          `json:"certificate,omitempty"`
	SigningTime        *time.Time         `json:"signingTime,omitempty"`
	DigestAlgorithm    string             `json:"digestAlgorithm"`
	SignatureAlgorithm string             `json:"signatureAlgorithm"`
	Chain              *certs.ChainResult `json:"chain,omitempty"`
	// Timestamp is the signature time-stamp (CAdES-T), when there is one.
	Timestamp *Timestamp `json:"timestamp,omitempty"`
	// Timestamps lists every time-stamp checked: the content, signature,
	// CAdES-C and certCRL time-stamps, in that order (timestamp.go).
	Timestamps []Timestamp `json:"timestamps,omitempty"`
	// Level is the CAdES level reached: LevelCMS, LevelBES, LevelT, LevelC,
	// LevelXL1 or LevelXL2.
	Level string `json:"level"`
	// Qualified: the signature validated and its issuer was an accredited
	// CA (checked only with Options.Accreditation).
	Qualified bool `json:"qualified"`
}

// AccreditationChecker says whether a CA certificate belonged to an
// accredited CA at a time, with a sentence saying why.
type AccreditationChecker interface {
	CheckAccreditation(ca *certs.Certificate, at time.Time) (bool, string)
}

// Timestamp is the outcome of a signature time-stamp: a TSA's proof that the
// signature existed at Time.
type Timestamp struct {
	// Kind is TimestampContent, TimestampSignature, TimestampCAdESC or
	// TimestampRefs.
	Kind          string    `json:"kind,omitempty"`
	Time          time.Time `json:"time"`
	TSA           string    `json:"tsa,omitempty"`
	Indication    string    `json:"indication"`
	SubIndication string    `json:"subIndication,omitempty"`
	Detail        string    `json:"detail,omitempty"`
}

// Report is the outcome of a verification.
type Report struct {
	Indication     string         `json:"indication"`
	SubIndication  string         `json:"subIndication,omitempty"`
	ValidationTime time.Time      `json:"validationTime"`
	Detached       bool           `json:"detached"`
	ContentType    string         `json:"contentType,omitempty"`
	Checks         []Check        `json:"checks,omitempty"`
	Signers        []SignerReport `json:"signers"`
	// Content is the encapsulated content of an attached signature.
	Content []byte `json:"-"`
}

func (rep *Report) fail(sub string, c Check) {
	rep.Indication, rep.SubIndication = TotalFailed, sub
	rep.Checks = append(rep.Checks, c)
}

// signerState accumulates a signer's checks and its worst outcome.
type signerState struct {
	r *SignerReport
}

func (s signerState) add(code, status, detail string) {
	s.r.Checks = append(s.r.Checks, Check{Code: code, Status: status, Detail: detail})
}

// outcome records a failure's indication unless a worse one is already set:
// TOTAL_FAILED beats INDETERMINATE, and the first of a kind wins.
func (s signerState) outcome(ind, sub string) {
	if s.r.Indication == TotalFailed || (s.r.Indication == Indeterminate && ind == Indeterminate) {
		return
	}
	s.r.Indication, s.r.SubIndication = ind, sub
}
