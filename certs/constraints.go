package certs

import (
	"crypto"
	"crypto/rsa"
	"fmt"
	"time"
)

// Cryptographic constraints with dates, after EU DSS's "cryptographic
// constraints": an algorithm that is no longer acceptable is still accepted
// for a signature whose existence is proven before the algorithm's end date.
// The proof of existence (POE) is a valid signature time-stamp's time, or the
// validation time itself when that is before the end date (validating "as
// of" 2019 asserts the signature existed then; such a report says so).
// Without such a proof the result is INDETERMINATE with the sub-indication
// CRYPTO_CONSTRAINTS_FAILURE_NO_POE, never TOTAL_FAILED: a later proof may
// still come.
//
// AlgorithmConstraints is the one table of these rules. verify applies it to
// the signature of every SignerInfo and Verify to every certificate signature
// on the path (the trust anchor's own excepted); each failure is a check with
// code ALGORITHM_CONSTRAINTS and the row's Reason.

// AlgorithmConstraint is one row of the table.
type AlgorithmConstraint struct {
	// Reason is the stable code a report carries for this row.
	Reason string `json:"reason"`
	// Algorithm names what the row restricts, as a report shows it.
	Algorithm string `json:"algorithm"`
	// AcceptedBefore: signatures whose existence is proven before this
	// instant are accepted.
	AcceptedBefore time.Time `json:"acceptedBefore"`
	// Why says where the date comes from.
	Why string `json:"why"`

	matches func(key *Certificate, d *Digest) bool
}

// Reasons of the rows of AlgorithmConstraints.
const (
	ReasonGOST2001     = "GOST_R_34_10_2001"
	ReasonRSAKeySize   = "RSA_KEY_UNDER_2048"
	ReasonSHA1         = "SHA1_SIGNATURE"
	CheckAlgConstraint = "ALGORITHM_CONSTRAINTS"
)

// AlgorithmConstraints is the table. Rows are data: add one here and both
// signatures and certificate paths follow it.
var AlgorithmConstraints = []AlgorithmConstraint{
	{
		Reason: ReasonGOST2001, Algorithm: "GOST R 34.10-2001 with GOST R 34.11-94",
		AcceptedBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		Why:            "FSB ended the use of GOST R 34.10-2001 for signing after 31.12.2019",
		matches: func(key *Certificate, d *Digest) bool {
			return key.IsGOST2001() || d == GOST341194
		},
	},
	{
		Reason: ReasonRSAKeySize, Algorithm: "RSA keys under 2048 bits",
		AcceptedBefore: time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC),
		Why:            "NIST SP 800-131A disallows RSA keys under 2048 bits for signatures after 2013",
		matches: func(key *Certificate, d *Digest) bool {
			k, ok := key.PublicKey.(*rsa.PublicKey)
			return ok && k.N.BitLen() < 2048
		},
	},
	{
		Reason: ReasonSHA1, Algorithm: "SHA-1 in signatures",
		AcceptedBefore: time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC),
		Why:            "NIST SP 800-131A disallows SHA-1 for signature generation after 2013",
		matches: func(key *Certificate, d *Digest) bool {
			return d != nil && d.Hash == crypto.SHA1
		},
	},
}

// POE is a proof of existence: the instant a signature is proven to have
// existed at, and what proves it ("the validation time", "the signature
// time-stamp").
type POE struct {
	Time   time.Time
	Source string
}

// ConstraintResult is the outcome of one row that applied to a signature.
type ConstraintResult struct {
	Constraint *AlgorithmConstraint
	POE        POE
	Accepted   bool
}

// Message is the sentence a report shows.
func (r ConstraintResult) Message() string {
	c := r.Constraint
	const day = "2006-01-02"
	when := r.POE.Time.UTC().Format(time.RFC3339)
	if r.Accepted {
		return fmt.Sprintf("%s is accepted: the signature's existence is proven at %s (%s), before %s", c.Algorithm, when, r.POE.Source, c.AcceptedBefore.Format(day))
	}
	return fmt.Sprintf("%s is acceptable only for signatures whose existence is proven before %s (%s); this signature's existence is proven only at %s (%s)",
		c.Algorithm, c.AcceptedBefore.Format(day), c.Why, when, r.POE.Source)
}

// CheckAlgorithms applies AlgorithmConstraints to a signature made by
// signer's key with the digest d whose existence poe proves. It returns the
// rows that applied, failed or not (none for a signature no row restricts).
func CheckAlgorithms(signer *Certificate, d *Digest, poe POE) []ConstraintResult {
	var out []ConstraintResult
	if signer == nil {
		return nil
	}
	for i := range AlgorithmConstraints {
		c := &AlgorithmConstraints[i]
		if c.matches(signer, d) {
			out = append(out, ConstraintResult{Constraint: c, POE: poe, Accepted: poe.Time.Before(c.AcceptedBefore)})
		}
	}
	return out
}
