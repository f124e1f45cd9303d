package sign

// CAdES-T and CAdES-X Long Type 1 (ETSI TS 101 733 V2.2.1 clauses 6.1, 6.2,
// 6.3; the profile CryptoPro calls CADESCOM_CADES_X_LONG_TYPE_1): after the
// signature and its signature time-stamp, the complete chains of the signer
// and of the TSA are built from the certificates given (and those Options'
// Issuers fetches from the caIssuers addresses), the revocation data
// of every certificate below a self-signed root is fetched (Options'
// Revocation), and the unsigned attributes are added:
//
//   - complete-certificate-references: every certificate of both chains but
//     the signer's (its ESS signing-certificate attribute names it), an
//     OtherHashAndValue with the signature's digest;
//   - complete-revocation-references: one CrlOcspRef for the signer's
//     certificate, then one per certificate reference, in that order (6.2.2;
//     empty for a self-signed root, which has no revocation data);
//   - certificate-values and revocation-values: the certificates and the
//     CRLs and BasicOCSPResponses the references name, as received;
//   - the CAdES-C time-stamp (escTimeStamp, 6.3.5) over the signature value's
//     octets, then the attrType and attrValues of the signature time-stamp,
//     the certificate references and the revocation references.
//
// The CAdES-C time-stamp's TSA, when it is not the signature time-stamp's,
// gets its chain and revocation data into the values too (the values are
// not covered by the time-stamp, so they may grow after it).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/revocation"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/tsp"
)

// Profile is how far a signature goes. The zero value is ProfileBES (a
// Timestamper alone still makes CAdES-T, as before profiles existed).
type Profile string

// Profiles.
const (
	ProfileBES  Profile = "cades-bes"
	ProfileT    Profile = "cades-t"
	ProfileXLT1 Profile = "xlt1"
)

// ParseProfile reads "cades-bes" (or ""), "cades-t" or "xlt1".
func ParseProfile(s string) (Profile, error) {
	switch p := Profile(s); p {
	case "", ProfileBES:
		return ProfileBES, nil
	case ProfileT, ProfileXLT1:
		return p, nil
	}
	return "", fmt.Errorf("sign: unknown profile %q (want cades-bes, cades-t or xlt1)", s)
}

// RevocationSource gives the revocation data (DER OCSPResponses or CRLs, as
// received) that shows cert, issued by issuer, not revoked now; an error
// when it cannot (revoked, unknown, unreachable). revocation.Checker is one.
type RevocationSource interface {
	RevocationData(ctx context.Context, cert, issuer *certs.Certificate) ([][]byte, error)
}

// IssuerSource fetches the certificate of cert's issuer (from its
// authorityInfoAccess caIssuers address) when the certificates given do not
// hold it. revocation.Checker is one.
type IssuerSource interface {
	FetchIssuer(ctx context.Context, cert *certs.Certificate) (*certs.Certificate, error)
}

// OIDs of the long-term attributes (ETSI TS 101 733 annex A).
var (
	oidCertRefs  = []int{1, 2, 840, 113549, 1, 9, 16, 2, 21}
	oidRevRefs   = []int{1, 2, 840, 113549, 1, 9, 16, 2, 22}
	oidCertVals  = []int{1, 2, 840, 113549, 1, 9, 16, 2, 23}
	oidRevVals   = []int{1, 2, 840, 113549, 1, 9, 16, 2, 24}
	oidEscTStamp = []int{1, 2, 840, 113549, 1, 9, 16, 2, 25}

	oidContentTimestamp = []int{1, 2, 840, 113549, 1, 9, 16, 2, 20}
)

// Errors of the long-term profiles.
var (
	ErrNeedTimestamper = errors.New("sign: the profile needs a time-stamping authority (Timestamper)")
	ErrNeedRevocation  = errors.New("sign: X-L Type 1 needs a revocation source")
	ErrIncompleteChain = errors.New("sign: X-L Type 1: a certificate chain is incomplete")
)

func checkProfile(opts Options) error {
	p, err := ParseProfile(string(opts.Profile))
	if err != nil {
		return err
	}
	switch {
	case p != ProfileBES && opts.Timestamper == nil:
		return ErrNeedTimestamper
	case p != ProfileBES && opts.NoSignedAttributes:
		return errors.New("sign: CAdES-T and X-L need signed attributes")
	case p == ProfileXLT1 && opts.Revocation == nil:
		return ErrNeedRevocation
	}
	return nil
}

// longTermData collects the certificates and revocation data of X-L1.
type longTermData struct {
	issuers IssuerSource // nil: only the pool
	pool    []*certs.Certificate
	certs   []*certs.Certificate // every chain certificate, signer's first, no duplicates
	// revData maps a certificate's raw DER to its revocation data.
	revData map[string][][]byte
}

func (l *longTermData) has(c *certs.Certificate) bool {
	for _, x := range l.certs {
		if bytes.Equal(x.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// addChain builds c's chain from the pool up to a self-signed certificate
// and fetches the revocation data of every link.
func (l *longTermData) addChain(ctx context.Context, c *certs.Certificate, src RevocationSource) error {
	for depth := 0; depth < 16; depth++ {
		if !l.has(c) {
			l.certs = append(l.certs, c)
		}
		if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
			return nil // a root: no revocation data
		}
		var issuer *certs.Certificate
		for _, cand := range l.pool {
			if bytes.Equal(cand.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(cand) == nil {
				issuer = cand
				break
			}
		}
		if issuer == nil && l.issuers != nil {
			fetched, err := l.issuers.FetchIssuer(ctx, c)
			if err != nil {
				return fmt.Errorf("%w: the issuer of %q is not among the certificates given: %v", ErrIncompleteChain, c.SubjectString(), err)
			}
			issuer = fetched
			l.pool = append(l.pool, fetched)
		}
		if issuer == nil {
			return fmt.Errorf("%w: the issuer of %q is not among the certificates given", ErrIncompleteChain, c.SubjectString())
		}
		if _, done := l.revData[string(c.Raw)]; !done {
			data, err := src.RevocationData(ctx, c, issuer)
			if err != nil {
				return fmt.Errorf("sign: X-L Type 1: revocation data of %q: %w", c.SubjectString(), err)
			}
			l.revData[string(c.Raw)] = data
		}
		c = issuer
	}
	return fmt.Errorf("%w: longer than 16 certificates", ErrIncompleteChain)
}

// tokenSigner returns the TSA certificate of a time-stamp token, from the
// token's certificates or the pool.
func tokenSigner(token []byte, pool []*certs.Certificate) (*certs.Certificate, []*certs.Certificate, error) {
	info, err := tsp.Parse(token)
	if err != nil {
		return nil, nil, err
	}
	sd := info.SignedData
	var inToken []*certs.Certificate
	for _, raw := range sd.Certificates {
		if c, err := certs.ParseCertificate(raw); err == nil {
			inToken = append(inToken, c)
		}
	}
	if len(sd.SignerInfos) != 1 {
		return nil, nil, fmt.Errorf("sign: the time-stamp token has %d signers", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	for _, c := range append(inToken, pool...) {
		switch {
		case si.IssuerAndSerial != nil && bytes.Equal(c.RawIssuer, si.IssuerAndSerial.RawIssuer) && c.SerialNumber.Cmp(si.IssuerAndSerial.Serial) == 0,
			si.SubjectKeyID != nil && bytes.Equal(c.SubjectKeyId, si.SubjectKeyID):
			return c, inToken, nil
		}
	}
	return nil, nil, fmt.Errorf("%w: the TSA's certificate is neither in its token nor given", ErrIncompleteChain)
}

// addLongTerm turns si (signed, with its signature time-stamp) into
// CAdES-X Long Type 1.
func addLongTerm(ctx context.Context, si *cms.SignerInfo, d *certs.Digest, cert *certs.Certificate, opts Options) error {
	var sigTS []byte
	for _, a := range si.UnsignedAttrs {
		if a.Type.Equal(cms.OIDAttrSignatureTimeStamp) && len(a.Values) == 1 {
			sigTS = a.Values[0]
		}
	}
	if sigTS == nil {
		return ErrNeedTimestamper
	}
	lt := &longTermData{issuers: opts.Issuers, pool: append(append([]*certs.Certificate{}, opts.Chain...), opts.ValidationCerts...), revData: map[string][][]byte{}}
	if err := lt.addChain(ctx, cert, opts.Revocation); err != nil {
		return err
	}
	tsa, inToken, err := tokenSigner(sigTS, lt.pool)
	if err != nil {
		return err
	}
	lt.pool = append(lt.pool, inToken...)
	if err := lt.addChain(ctx, tsa, opts.Revocation); err != nil {
		return err
	}

	// References: every certificate but the signer's; revocation references
	// for the signer's, then one per certificate reference.
	refCerts := lt.certs[1:]
	certRefs, err := marshalCertRefs(d, refCerts)
	if err != nil {
		return err
	}
	revRefs, err := marshalRevRefs(d, append([]*certs.Certificate{cert}, refCerts...), lt.revData)
	if err != nil {
		return err
	}
	certRefsAttr := cms.Attribute{Type: oidCertRefs, Values: [][]byte{certRefs}}
	revRefsAttr := cms.Attribute{Type: oidRevRefs, Values: [][]byte{revRefs}}

	// The CAdES-C time-stamp over the signature, its time-stamp and the
	// references (TS 101 733 V2.2.1 6.3.5 and its NOTE 2: each attribute's
	// attrType and attrValues, without the Attribute's outer SEQUENCE).
	data := append([]byte(nil), si.Signature...)
	for _, a := range si.UnsignedAttrs {
		if a.Type.Equal(cms.OIDAttrSignatureTimeStamp) {
			data = append(data, typeAndValues(a)...)
		}
	}
	data = append(data, typeAndValues(certRefsAttr)...)
	data = append(data, typeAndValues(revRefsAttr)...)
	esc, err := opts.Timestamper.Timestamp(ctx, d, d.Sum(data))
	if err != nil {
		return fmt.Errorf("sign: CAdES-C time-stamp: %w", err)
	}
	if escTSA, inEsc, err := tokenSigner(esc, lt.pool); err != nil {
		return fmt.Errorf("sign: CAdES-C time-stamp: %w", err)
	} else if !lt.has(escTSA) {
		lt.pool = append(lt.pool, inEsc...)
		if err := lt.addChain(ctx, escTSA, opts.Revocation); err != nil {
			return err
		}
	}

	certVals, revVals, err := marshalValues(lt)
	if err != nil {
		return err
	}
	si.UnsignedAttrs = append(si.UnsignedAttrs, certRefsAttr, revRefsAttr,
		cms.Attribute{Type: oidCertVals, Values: [][]byte{certVals}},
		cms.Attribute{Type: oidRevVals, Values: [][]byte{revVals}},
		cms.Attribute{Type: oidEscTStamp, Values: [][]byte{esc}})
	return nil
}

// typeAndValues encodes an attribute's attrType and attrValues (a DER SET),
// as cms.MarshalAttributes writes them inside the Attribute SEQUENCE.
func typeAndValues(a cms.Attribute) []byte {
	set, err := cms.MarshalAttributes([]cms.Attribute{a})
	if err != nil {
		return nil
	}
	// set is SET { SEQUENCE { type, values } }: strip both headers.
	s := cryptobyte.String(set)
	var inner, body cryptobyte.String
	if !s.ReadASN1(&inner, cbasn1.SET) || !inner.ReadASN1(&body, cbasn1.SEQUENCE) {
		return nil
	}
	return body
}

// otherHash writes OtherHashAndValue { hashAlgorithm, hashValue } (6.2.1).
func otherHash(b *cryptobyte.Builder, d *certs.Digest, der []byte) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(d.OID) })
		b.AddASN1OctetString(d.Sum(der))
	})
}

// marshalCertRefs writes CompleteCertificateRefs ::= SEQUENCE OF
// OtherCertID { otherCertHash, issuerSerial } (6.2.1).
func marshalCertRefs(d *certs.Digest, list []*certs.Certificate) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, c := range list {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				otherHash(b, d, c.Raw)
				issuerSerial(b, c)
			})
		}
	})
	return b.Bytes()
}

// issuerSerial writes IssuerSerial { issuer GeneralNames { directoryName
// [4] Name }, serialNumber } (RFC 5035).
func issuerSerial(b *cryptobyte.Builder, c *certs.Certificate) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddBytes(c.RawIssuer) })
		})
		b.AddASN1BigInt(c.SerialNumber)
	})
}

// marshalRevRefs writes CompleteRevocationRefs ::= SEQUENCE OF CrlOcspRef,
// one per certificate of list in that order (6.2.2): crlids [0] with a
// CrlValidatedID per CRL (hash and CrlIdentifier), ocspids [1] with an
// OcspResponsesID per OCSP response (the responder's ID and producedAt as
// received, the hash of the BasicOCSPResponse), nothing for a certificate
// without revocation data (a root).
func marshalRevRefs(d *certs.Digest, list []*certs.Certificate, revData map[string][][]byte) ([]byte, error) {
	var b cryptobyte.Builder
	var ferr error
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, c := range list {
			crls, ocsps, err := splitRevocation(revData[string(c.Raw)])
			if err != nil {
				ferr = err
				return
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				if len(crls) > 0 {
					// crlids [0] EXPLICIT CRLListID ::= SEQUENCE { crls SEQUENCE OF CrlValidatedID }
					b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								for _, l := range crls {
									b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
										otherHash(b, d, l.Raw)
										b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // CrlIdentifier
											b.AddBytes(l.RawIssuer)
											b.AddASN1UTCTime(l.ThisUpdate.UTC().Truncate(time.Second))
											if l.Number != nil {
												b.AddASN1BigInt(l.Number)
											}
										})
									})
								}
							})
						})
					})
				}
				if len(ocsps) > 0 {
					// ocspids [1] EXPLICIT OcspListID ::= SEQUENCE { ocspResponses SEQUENCE OF OcspResponsesID }
					b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								for _, o := range ocsps {
									b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
										b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // OcspIdentifier
											b.AddBytes(o.ResponderID)
											b.AddASN1GeneralizedTime(o.ProducedAt.UTC())
										})
										otherHash(b, d, o.Basic)
									})
								}
							})
						})
					})
				}
			})
		}
	})
	if ferr != nil {
		return nil, ferr
	}
	return b.Bytes()
}

// splitRevocation sorts revocation data into CRLs and OCSP responses.
func splitRevocation(data [][]byte) ([]*certs.CRL, []*revocation.OCSPInfo, error) {
	var crls []*certs.CRL
	var ocsps []*revocation.OCSPInfo
	for _, der := range data {
		if info, err := revocation.ParseOCSPInfo(der); err == nil {
			ocsps = append(ocsps, info)
			continue
		}
		l, err := certs.ParseCRL(der)
		if err != nil {
			return nil, nil, fmt.Errorf("sign: revocation data that is neither an OCSP response nor a CRL: %w", err)
		}
		crls = append(crls, l)
	}
	return crls, ocsps, nil
}

// marshalValues writes CertificateValues ::= SEQUENCE OF Certificate and
// RevocationValues ::= SEQUENCE { crlVals [0], ocspVals [1] } (6.3.3,
// 6.3.4), every item as received and once.
func marshalValues(lt *longTermData) ([]byte, []byte, error) {
	var cv cryptobyte.Builder
	cv.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, c := range lt.certs {
			b.AddBytes(c.Raw)
		}
	})
	certVals, err := cv.Bytes()
	if err != nil {
		return nil, nil, err
	}
	var crls, ocsps [][]byte
	seen := map[string]bool{}
	for _, c := range lt.certs {
		cl, os, err := splitRevocation(lt.revData[string(c.Raw)])
		if err != nil {
			return nil, nil, err
		}
		for _, l := range cl {
			if !seen[string(l.Raw)] {
				seen[string(l.Raw)] = true
				crls = append(crls, l.Raw)
			}
		}
		for _, o := range os {
			if !seen[string(o.Basic)] {
				seen[string(o.Basic)] = true
				ocsps = append(ocsps, o.Basic)
			}
		}
	}
	var rv cryptobyte.Builder
	rv.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i, list := range [][][]byte{crls, ocsps} {
			if len(list) == 0 {
				continue
			}
			b.AddASN1(cbasn1.Tag(uint8(i)).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, v := range list {
						b.AddBytes(v)
					}
				})
			})
		}
	})
	revVals, err := rv.Bytes()
	return certVals, revVals, err
}
