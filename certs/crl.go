package certs

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CRL is a certificate revocation list with its signature algorithm as
// encoded (crypto/x509 drops GOST algorithms).
type CRL struct {
	*x509.RevocationList
	SignatureAlgorithmID pkix.AlgorithmIdentifier
}

// ParseCRL parses one CRL, PEM ("X509 CRL") or DER.
func ParseCRL(data []byte) (*CRL, error) {
	if len(data) > MaxInputSize {
		return nil, fmt.Errorf("%w: CRL of %d bytes exceeds %d", ErrMalformed, len(data), MaxInputSize)
	}
	ders, err := decodeBlocks(data, "X509 CRL", "CRL")
	if err != nil {
		return nil, err
	}
	if len(ders) != 1 {
		return nil, fmt.Errorf("%w: %d CRLs in one input, want 1", ErrMalformed, len(ders))
	}
	rl, err := parseRevocationList(ders[0])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	alg, err := outerSignatureAlgorithm(rl.Raw)
	if err != nil {
		return nil, err
	}
	return &CRL{RevocationList: rl, SignatureAlgorithmID: alg}, nil
}

// parseRevocationList is x509.ParseRevocationList that also reads version 1
// CRLs (no version field, no extensions), which RFC 5280 allows and OpenSSL
// writes when it adds no CRL extension but crypto/x509 refuses: it parses a
// copy with the version inserted and points the raw fields back at der, so
// the signature is checked over the bytes received.
func parseRevocationList(der []byte) (*x509.RevocationList, error) {
	s := cryptobyte.String(der)
	var rest, tbsElem, tbs cryptobyte.String
	if !s.ReadASN1(&rest, cbasn1.SEQUENCE) || !s.Empty() || !rest.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) {
		return x509.ParseRevocationList(der)
	}
	if e := tbsElem; !e.ReadASN1(&tbs, cbasn1.SEQUENCE) || tbs.PeekASN1Tag(cbasn1.INTEGER) {
		return x509.ParseRevocationList(der)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(1) // v2
			b.AddBytes(tbs)
		})
		b.AddBytes(rest)
	})
	v2, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	rl, err := x509.ParseRevocationList(v2)
	if err != nil {
		return nil, err
	}
	if len(rl.Extensions) > 0 {
		return nil, errors.New("x509: version 1 CRL with extensions")
	}
	rl.Raw, rl.RawTBSRevocationList = der, tbsElem
	return rl, nil
}

// CheckSignatureFrom checks that issuer signed the CRL: the CRL's issuer name
// equals issuer's subject, issuer may sign CRLs (a CA, with cRLSign when it
// has a keyUsage extension) and its key verifies the signature.
func (l *CRL) CheckSignatureFrom(issuer *Certificate) error {
	if issuer == nil || issuer.Certificate == nil {
		return errors.New("certs: no CRL issuer certificate")
	}
	if !bytes.Equal(l.RawIssuer, issuer.RawSubject) {
		return fmt.Errorf("certs: the CRL issuer %q is not %q", formatName(l.Issuer), issuer.SubjectString())
	}
	if issuer.Version == 3 && (!issuer.BasicConstraintsValid || !issuer.IsCA) {
		return errors.New("certs: the CRL issuer is not a CA")
	}
	if issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return errors.New("certs: the CRL issuer's key usage lacks cRLSign")
	}
	if err := checkSignature(issuer, l.SignatureAlgorithmID, l.RawTBSRevocationList, l.Signature); err != nil {
		return fmt.Errorf("certs: CRL signature: %w", err)
	}
	return nil
}

// Revoked returns the CRL's entry for the certificate with the given serial
// number, and whether there is one.
func (l *CRL) Revoked(serial *big.Int) (*x509.RevocationListEntry, bool) {
	if serial == nil {
		return nil, false
	}
	for i := range l.RevokedCertificateEntries {
		e := &l.RevokedCertificateEntries[i]
		if e.SerialNumber != nil && e.SerialNumber.Cmp(serial) == 0 {
			return e, true
		}
	}
	return nil, false
}
