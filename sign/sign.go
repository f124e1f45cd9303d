// Package sign builds CMS SignedData (RFC 5652) with CAdES-BES signed
// attributes (contentType, messageDigest, signingTime, signingCertificateV2)
// over any crypto.Signer — a GOST key in memory, a PKCS#11 token, the
// software token — and the signer's certificate chain.
//
// The output is DER with sorted SET OF elements, so strict verifiers accept
// it. Detached signatures stream the content through the digest in constant
// memory; attached ones hold the content in memory (up to cms.MaxSize), so
// sign multi-gigabyte files detached. The ESS certificate hash uses the
// signature's digest: Streebog-256 for GOST-256 keys, Streebog-512 for
// GOST-512, SHA-256 for RSA and ECDSA.
//
// Options.Profile goes further: CAdES-T (a signature time-stamp) and CAdES-X
// Long Type 1 (longterm.go: the chains, their OCSP responses or CRLs, the
// references and the CAdES-C time-stamp), which a verifier can check years
// later without network. Every network request (TSA, OCSP, CRL) goes
// through the injected Timestamper and RevocationSource, with the context.
package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/internal/ctxio"
)

// Options controls a signature. The zero value makes a detached CAdES-BES
// signature with the key's default digest, the current time and only the
// signer's certificate included.
type Options struct {
	// Attached puts the content inside the signature.
	Attached bool
	// Digest overrides the digest (certs.DefaultDigestFor the key when nil).
	Digest *certs.Digest
	// Chain lists further certificates to include (intermediates, root).
	Chain []*certs.Certificate
	// SigningTime is the signingTime attribute (time.Now when zero).
	SigningTime time.Time
	// NoSignedAttributes makes a plain PKCS#7-style signature of the content
	// digest with no attributes, for peers that need it; not CAdES.
	NoSignedAttributes bool
	// Rand is the randomness for the signer (crypto/rand when nil).
	Rand io.Reader
	// Timestamper, when set, adds an RFC 3161 signature time-stamp over the
	// signature value (CAdES-T): tsp.Client is one.
	Timestamper Timestamper
	// Profile is how far the signature goes (longterm.go): ProfileBES (the
	// zero value), ProfileT (a Timestamper is required) or ProfileXLT1
	// (CAdES-X Long Type 1: a Timestamper and Revocation are required).
	Profile Profile
	// Revocation gives the revocation data embedded by ProfileXLT1:
	// revocation.Checker is one (its HTTP client, policy and context decide
	// the network use).
	Revocation RevocationSource
	// Issuers, when set, fetches for ProfileXLT1 an issuer certificate that
	// Chain, ValidationCerts and the tokens do not hold (authorityInfoAccess
	// caIssuers): revocation.Checker is one.
	Issuers IssuerSource
	// ContentTimestamp adds a content time-stamp (ETSI TS 101 733 5.11.4,
	// id-aa-ets-contentTimestamp, a signed attribute) from the Timestamper
	// over the content's digest before signing: proof that the content
	// existed before the signature was made.
	ContentTimestamp bool
	// ValidationCerts are further certificates the X-L1 chains of the
	// signer and of the TSA are built from (intermediates, the roots),
	// besides Chain and the certificates inside the time-stamp tokens; they
	// end up in certificate-values, not in the SignedData's certificates.
	ValidationCerts []*certs.Certificate
}

// Timestamper gets a time-stamp token (a DER ContentInfo) for a digest
// computed with d.
type Timestamper interface {
	Timestamp(ctx context.Context, d *certs.Digest, digest []byte) ([]byte, error)
}

// Errors.
var (
	ErrKeyMismatch  = errors.New("sign: the signer's key is not the certificate's key")
	ErrDetachedOnly = errors.New("sign: a precomputed digest can only make a detached signature")
)

// Sign reads content and returns a DER CMS SignedData signed by signer, whose
// certificate is cert.
func Sign(ctx context.Context, content io.Reader, signer crypto.Signer, cert *certs.Certificate, opts Options) ([]byte, error) {
	d, err := pickDigest(signer, cert, opts)
	if err != nil {
		return nil, err
	}
	var kept bytes.Buffer
	var keep io.Writer // nil for a detached signature
	if opts.Attached {
		keep = &kept
	}
	sum, err := Digest(ctx, content, d, keep)
	if err != nil {
		return nil, err
	}
	sd := &cms.SignedData{Version: 1, EContentType: cms.OIDData}
	if opts.Attached {
		sd.EContent = kept.Bytes()
	}
	if err := addSigner(ctx, sd, sum, d, signer, cert, opts); err != nil {
		return nil, err
	}
	return sd.Marshal()
}

// SignDigest returns a detached signature for content whose digest under
// opts.Digest (or the key's default) is digest — for hash-on-page signing and
// files hashed elsewhere.
func SignDigest(digest []byte, signer crypto.Signer, cert *certs.Certificate, opts Options) ([]byte, error) {
	return SignDigestContext(context.Background(), digest, signer, cert, opts)
}

// SignDigestContext is SignDigest with a context for the Timestamper.
func SignDigestContext(ctx context.Context, digest []byte, signer crypto.Signer, cert *certs.Certificate, opts Options) ([]byte, error) {
	if opts.Attached {
		return nil, ErrDetachedOnly
	}
	d, err := pickDigest(signer, cert, opts)
	if err != nil {
		return nil, err
	}
	if len(digest) != d.Size {
		return nil, fmt.Errorf("sign: digest has %d bytes, %s has %d", len(digest), d.Name, d.Size)
	}
	sd := &cms.SignedData{Version: 1, EContentType: cms.OIDData}
	if err := addSigner(ctx, sd, digest, d, signer, cert, opts); err != nil {
		return nil, err
	}
	return sd.Marshal()
}

// Cosign adds a signer to an existing SignedData (BER or DER). content is the
// detached content; it is not read when the signature is attached. Existing
// signers are kept byte for byte.
func Cosign(ctx context.Context, existing []byte, content io.Reader, signer crypto.Signer, cert *certs.Certificate, opts Options) ([]byte, error) {
	sd, err := cms.Parse(existing)
	if err != nil {
		return nil, err
	}
	d, err := pickDigest(signer, cert, opts)
	if err != nil {
		return nil, err
	}
	switch {
	case sd.EContent != nil:
		content = bytes.NewReader(sd.EContent)
	case content == nil:
		return nil, errors.New("sign: the signature is detached; its content is needed to cosign")
	}
	sum, err := Digest(ctx, content, d, nil)
	if err != nil {
		return nil, err
	}
	if err := addSigner(ctx, sd, sum, d, signer, cert, opts); err != nil {
		return nil, err
	}
	return sd.Marshal()
}

// Digest hashes r with d in constant memory, copying the bytes to keep when
// it is not nil (at most cms.MaxSize of them), and stops early when ctx is done.
func Digest(ctx context.Context, r io.Reader, d *certs.Digest, keep io.Writer) ([]byte, error) {
	h := d.New()
	w := io.Writer(h)
	if keep != nil {
		w = io.MultiWriter(h, keep)
		r = io.LimitReader(r, cms.MaxSize+1)
	}
	n, err := ctxio.Copy(ctx, w, r)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("sign: reading content: %w", err)
	}
	if keep != nil && n > cms.MaxSize {
		return nil, fmt.Errorf("sign: attached content over %d bytes; sign it detached", cms.MaxSize)
	}
	return h.Sum(nil), nil
}

func pickDigest(signer crypto.Signer, cert *certs.Certificate, opts Options) (*certs.Digest, error) {
	if cert == nil || cert.PublicKey == nil {
		return nil, errors.New("sign: no signer certificate (or its key could not be read)")
	}
	if cert.IsGOST2001() {
		return nil, fmt.Errorf("sign: %w: the certificate has a GOST R 34.10-2001 key, whose use for signing ended on 31.12.2019", certs.ErrUnsupportedAlgorithm)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	pub, ok := signer.Public().(equaler)
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, ErrKeyMismatch
	}
	if opts.Digest != nil {
		return opts.Digest, nil
	}
	return certs.DefaultDigestFor(cert.PublicKey), nil
}

// addSigner signs and appends one SignerInfo, its digest algorithm and its
// certificates (without duplicates).
func addSigner(ctx context.Context, sd *cms.SignedData, contentDigest []byte, d *certs.Digest, signer crypto.Signer, cert *certs.Certificate, opts Options) error {
	if err := checkProfile(opts); err != nil {
		return err
	}
	sigAlg, err := certs.SignatureAlgorithmFor(cert.PublicKey, d)
	if err != nil {
		return err
	}
	digestAlg := pkix.AlgorithmIdentifier{Algorithm: d.OID}
	si := cms.SignerInfo{
		Version:            1,
		IssuerAndSerial:    &cms.IssuerAndSerial{RawIssuer: cert.RawIssuer, Serial: cert.SerialNumber},
		DigestAlgorithm:    digestAlg,
		SignatureAlgorithm: sigAlg,
	}
	toSign := contentDigest
	if !opts.NoSignedAttributes {
		when := opts.SigningTime
		if when.IsZero() {
			when = time.Now()
		}
		ess, err := cms.MarshalSigningCertificateV2(cms.ESSCertIDv2{
			HashAlgorithm: digestAlg,
			CertHash:      d.Sum(cert.Raw),
			IssuerSerial:  &cms.IssuerAndSerial{RawIssuer: cert.RawIssuer, Serial: cert.SerialNumber},
		})
		if err != nil {
			return err
		}
		si.SignedAttrs = []cms.Attribute{
			{Type: cms.OIDAttrContentType, Values: [][]byte{cms.MarshalOID(sd.EContentType)}},
			{Type: cms.OIDAttrSigningTime, Values: [][]byte{cms.MarshalTime(when)}},
			{Type: cms.OIDAttrMessageDigest, Values: [][]byte{cms.MarshalOctets(contentDigest)}},
			{Type: cms.OIDAttrSigningCertV2, Values: [][]byte{ess}},
		}
		if opts.ContentTimestamp {
			if opts.Timestamper == nil {
				return ErrNeedTimestamper
			}
			// The imprint is the hash of the eContent's value (5.11.4):
			// the content digest the messageDigest carries.
			token, err := opts.Timestamper.Timestamp(ctx, d, contentDigest)
			if err != nil {
				return fmt.Errorf("sign: content time-stamp: %w", err)
			}
			si.SignedAttrs = append(si.SignedAttrs, cms.Attribute{Type: oidContentTimestamp, Values: [][]byte{token}})
		}
		set, err := cms.MarshalAttributes(si.SignedAttrs)
		if err != nil {
			return err
		}
		toSign = d.Sum(set)
	}
	sig, err := certs.SignDigest(signer, opts.Rand, d, toSign)
	if err != nil {
		return fmt.Errorf("sign: the signer refused: %w", err)
	}
	si.Signature = sig
	if opts.Timestamper != nil {
		token, err := opts.Timestamper.Timestamp(ctx, d, d.Sum(sig))
		if err != nil {
			return fmt.Errorf("sign: signature time-stamp: %w", err)
		}
		si.UnsignedAttrs = append(si.UnsignedAttrs, cms.Attribute{Type: cms.OIDAttrSignatureTimeStamp, Values: [][]byte{token}})
	}
	if opts.Profile == ProfileXLT1 {
		if err := addLongTerm(ctx, &si, d, cert, opts); err != nil {
			return err
		}
	}
	sd.SignerInfos = append(sd.SignerInfos, si)

	if !hasAlg(sd.DigestAlgorithms, digestAlg) {
		sd.DigestAlgorithms = append(sd.DigestAlgorithms, digestAlg)
	}
	for _, c := range append([]*certs.Certificate{cert}, opts.Chain...) {
		if !hasCert(sd.Certificates, c.Raw) {
			sd.Certificates = append(sd.Certificates, c.Raw)
		}
	}
	return nil
}

func hasAlg(algs []pkix.AlgorithmIdentifier, a pkix.AlgorithmIdentifier) bool {
	for _, x := range algs {
		if x.Algorithm.Equal(a.Algorithm) {
			return true
		}
	}
	return false
}

func hasCert(list [][]byte, raw []byte) bool {
	for _, c := range list {
		if bytes.Equal(c, raw) {
			return true
		}
	}
	return false
}
