package certs

import (
	"context"
	"time"
)

// Revocation states a RevocationChecker reports.
const (
	RevocationGood          = "good"
	RevocationRevoked       = "revoked"
	RevocationUnknown       = "unknown" // the responder does not know the certificate: treated as revoked
	RevocationIndeterminate = "indeterminate"
)

// Sub-indications of revocation data that cannot be relied on (DSS names).
const (
	SubTryLater                   = "TRY_LATER"
	SubRevocationOutOfBoundsNoPOE = "REVOCATION_OUT_OF_BOUNDS_NO_POE"
)

// RevocationChecker finds out online — OCSP, the CRL distribution points —
// whether c, issued by issuer, was revoked at the validation time at.
// certs/revocation.Checker is one. Verify asks it about every certificate
// below the trust anchor (intermediate CAs too) that the CRLs in
// VerifyOptions do not already answer for.
type RevocationChecker interface {
	CheckRevocation(ctx context.Context, c, issuer *Certificate, at time.Time) (*RevocationStatus, error)
}

// RevocationStatus is a RevocationChecker's answer. An error from the
// checker, like State RevocationIndeterminate, makes the path INDETERMINATE
// (SubIndication, TRY_LATER when empty).
type RevocationStatus struct {
	State      string    `json:"state"`
	Source     string    `json:"source,omitempty"` // "ocsp" or "crl"
	URL        string    `json:"url,omitempty"`
	RevokedAt  time.Time `json:"revokedAt,omitzero"`
	Reason     string    `json:"reason,omitempty"`
	ThisUpdate time.Time `json:"thisUpdate,omitzero"`
	ProducedAt time.Time `json:"producedAt,omitzero"`
	Detail     string    `json:"detail"`
	// SubIndication is the DSS sub-indication when State is not good.
	SubIndication string `json:"subIndication,omitempty"`
	// SoftFail: good only because the policy accepts that no data could
	// be fetched; reported as a warning, and not as proof of non-revocation.
	SoftFail bool     `json:"softFail,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}
