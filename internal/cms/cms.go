// Package cms holds the ASN.1 structures of CMS SignedData (RFC 5652) and the
// CAdES-BES attributes (RFC 5035, ETSI EN 319 122) that kep's sign and verify
// packages share: parsing from BER or DER, and writing canonical DER (SET OF
// elements sorted, as strict verifiers require).
package cms

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/internal/ber"
)

// Object identifiers.
var (
	OIDData                   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDAttrContentType        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDAttrMessageDigest      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDAttrSigningTime        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	OIDAttrSigningCertificate = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	OIDAttrSigningCertV2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	// OIDAttrSignatureTimeStamp is id-aa-signatureTimeStampToken (RFC 3161
	// appendix A, CAdES-T): an unsigned attribute holding a TimeStampToken
	// over the SignerInfo's signature value.
	OIDAttrSignatureTimeStamp = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	OIDAttrAlgProtection      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 52}
	OIDAttrTimeStampToken     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	OIDSHA256                 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

// MaxSize bounds the CMS structures Parse accepts (content included).
const MaxSize = 1 << 30

// ErrFormat is wrapped by every parse error.
var ErrFormat = errors.New("cms: malformed SignedData")

// SignedData is a parsed CMS SignedData.
type SignedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier
	EContentType     asn1.ObjectIdentifier
	EContent         []byte // nil when the content is detached
	Certificates     [][]byte
	CRLs             [][]byte
	SignerInfos      []SignerInfo
}

// SignerInfo is one signer.
type SignerInfo struct {
	Version int
	// Exactly one of IssuerAndSerial and SubjectKeyID is set.
	IssuerAndSerial    *IssuerAndSerial
	SubjectKeyID       []byte
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        []Attribute
	RawSignedAttrs     []byte // the received [0] IMPLICIT encoding, nil when absent
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      []Attribute
}

// IssuerAndSerial identifies a certificate.
type IssuerAndSerial struct {
	RawIssuer []byte
	Serial    *big.Int
}

// Attribute is a CMS attribute; Values holds each value's DER encoding.
type Attribute struct {
	Type   asn1.ObjectIdentifier
	Values [][]byte
	// Raw is the received encoding of the whole Attribute SEQUENCE (set by
	// Parse, ignored when marshalling): hashes that cover an attribute,
	// such as the CAdES-C time-stamp's, are taken over what was received.
	Raw []byte
}

// SignedAttrsForSignature returns the bytes a signature over the signed
// attributes covers: the received encoding with its tag changed to SET (0x31).
func (si *SignerInfo) SignedAttrsForSignature() []byte {
	if si.RawSignedAttrs == nil {
		return nil
	}
	b := append([]byte(nil), si.RawSignedAttrs...)
	b[0] = 0x31
	return b
}

// Attr returns the values of the signed attribute typ and how many times the
// attribute occurs.
func (si *SignerInfo) Attr(typ asn1.ObjectIdentifier) (values [][]byte, count int) {
	for _, a := range si.SignedAttrs {
		if a.Type.Equal(typ) {
			values = a.Values
			count++
		}
	}
	return values, count
}

// asn1 mirror types for encoding/asn1 parsing.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms []pkix.AlgorithmIdentifier `asn1:"set"`
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue   `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue   `asn1:"optional,tag:1"`
	SignerInfos      []asn1.RawValue `asn1:"set"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"optional,explicit,tag:0"`
}

type attribute struct {
	Raw    asn1.RawContent
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

// Parse reads a ContentInfo holding SignedData, in BER or DER.
func Parse(data []byte) (*SignedData, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes is more than the %d-byte limit", ErrFormat, len(data), MaxSize)
	}
	der, err := ber.ToDER(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	var ci contentInfo
	if rest, err := asn1.Unmarshal(der, &ci); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: not a ContentInfo", ErrFormat)
	}
	if !ci.ContentType.Equal(OIDSignedData) {
		return nil, fmt.Errorf("%w: content type %v is not SignedData", ErrFormat, ci.ContentType)
	}
	var sd signedData
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: SignedData: %v", ErrFormat, err)
	}
	out := &SignedData{Version: sd.Version, DigestAlgorithms: sd.DigestAlgorithms, EContentType: sd.EncapContentInfo.EContentType}
	if ec := sd.EncapContentInfo.EContent; len(ec.FullBytes) > 0 {
		var oct []byte
		if rest, err := asn1.Unmarshal(ec.Bytes, &oct); err != nil || len(rest) != 0 {
			return nil, fmt.Errorf("%w: eContent is not an OCTET STRING", ErrFormat)
		}
		if oct == nil {
			oct = []byte{}
		}
		out.EContent = oct
	}
	if out.Certificates, err = elements(sd.Certificates.Bytes); err != nil {
		return nil, fmt.Errorf("%w: certificates: %v", ErrFormat, err)
	}
	if out.CRLs, err = elements(sd.CRLs.Bytes); err != nil {
		return nil, fmt.Errorf("%w: crls: %v", ErrFormat, err)
	}
	for i, raw := range sd.SignerInfos {
		si, err := parseSignerInfo(raw.FullBytes)
		if err != nil {
			return nil, fmt.Errorf("%w: signer %d: %v", ErrFormat, i+1, err)
		}
		out.SignerInfos = append(out.SignerInfos, *si)
	}
	return out, nil
}

// elements splits the content of a SET OF into its elements' encodings.
func elements(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(b, &v)
		if err != nil {
			return nil, err
		}
		out = append(out, v.FullBytes)
		b = rest
	}
	return out, nil
}

func parseSignerInfo(der []byte) (*SignerInfo, error) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	si := &SignerInfo{}
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1Integer(&si.Version) {
		return nil, errors.New("not a SignerInfo")
	}
	var sidTag cbasn1.Tag
	var sid cryptobyte.String
	if !seq.ReadAnyASN1Element(&sid, &sidTag) {
		return nil, errors.New("missing signer identifier")
	}
	switch sidTag {
	case cbasn1.SEQUENCE:
		var ias issuerAndSerial
		if rest, err := asn1.Unmarshal(sid, &ias); err != nil || len(rest) != 0 || ias.Serial == nil {
			return nil, errors.New("bad issuerAndSerialNumber")
		}
		si.IssuerAndSerial = &IssuerAndSerial{RawIssuer: ias.Issuer.FullBytes, Serial: ias.Serial}
	case cbasn1.Tag(0).ContextSpecific():
		var inner cryptobyte.String
		if !sid.ReadASN1(&inner, cbasn1.Tag(0).ContextSpecific()) {
			return nil, errors.New("bad subjectKeyIdentifier")
		}
		si.SubjectKeyID = append([]byte{}, inner...)
	default:
		return nil, fmt.Errorf("unknown signer identifier tag %v", sidTag)
	}
	var err error
	if si.DigestAlgorithm, err = readAlgID(&seq); err != nil {
		return nil, err
	}
	if seq.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		var raw cryptobyte.String
		if !seq.ReadASN1Element(&raw, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return nil, errors.New("bad signedAttrs")
		}
		si.RawSignedAttrs = append([]byte{}, raw...)
		if si.SignedAttrs, err = parseAttributes(si.SignedAttrsForSignature()); err != nil {
			return nil, fmt.Errorf("signedAttrs: %v", err)
		}
	}
	if si.SignatureAlgorithm, err = readAlgID(&seq); err != nil {
		return nil, err
	}
	var sig cryptobyte.String
	if !seq.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return nil, errors.New("bad signature")
	}
	si.Signature = append([]byte{}, sig...)
	if seq.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
		var raw cryptobyte.String
		if !seq.ReadASN1Element(&raw, cbasn1.Tag(1).Constructed().ContextSpecific()) {
			return nil, errors.New("bad unsignedAttrs")
		}
		set := append([]byte{}, raw...)
		set[0] = 0x31
		if si.UnsignedAttrs, err = parseAttributes(set); err != nil {
			return nil, fmt.Errorf("unsignedAttrs: %v", err)
		}
	}
	if !seq.Empty() {
		return nil, errors.New("trailing data in SignerInfo")
	}
	return si, nil
}

func readAlgID(s *cryptobyte.String) (pkix.AlgorithmIdentifier, error) {
	var raw cryptobyte.String
	var id pkix.AlgorithmIdentifier
	if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return id, errors.New("missing AlgorithmIdentifier")
	}
	if rest, err := asn1.Unmarshal(raw, &id); err != nil || len(rest) != 0 {
		return id, errors.New("bad AlgorithmIdentifier")
	}
	return id, nil
}

func parseAttributes(set []byte) ([]Attribute, error) {
	var attrs []attribute
	if rest, err := asn1.UnmarshalWithParams(set, &attrs, "set"); err != nil || len(rest) != 0 {
		return nil, errors.New("bad attribute set")
	}
	out := make([]Attribute, len(attrs))
	for i, a := range attrs {
		out[i].Type = a.Type
		out[i].Raw = a.Raw
		for _, v := range a.Values {
			out[i].Values = append(out[i].Values, v.FullBytes)
		}
	}
	return out, nil
}

// ---- writing ----

// Marshal returns the DER ContentInfo of sd.
func (sd *SignedData) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(OIDSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(int64(sd.Version))
				algs := make([][]byte, 0, len(sd.DigestAlgorithms))
				for _, a := range sd.DigestAlgorithms {
					der, err := asn1.Marshal(a)
					if err != nil {
						b.SetError(err)
						return
					}
					algs = append(algs, der)
				}
				addSet(b, cbasn1.SET, algs)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(sd.EContentType)
					if sd.EContent != nil {
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(sd.EContent)
						})
					}
				})
				if len(sd.Certificates) > 0 {
					addSet(b, cbasn1.Tag(0).Constructed().ContextSpecific(), sd.Certificates)
				}
				if len(sd.CRLs) > 0 {
					addSet(b, cbasn1.Tag(1).Constructed().ContextSpecific(), sd.CRLs)
				}
				sis := make([][]byte, 0, len(sd.SignerInfos))
				for i := range sd.SignerInfos {
					der, err := sd.SignerInfos[i].Marshal()
					if err != nil {
						b.SetError(err)
						return
					}
					sis = append(sis, der)
				}
				addSet(b, cbasn1.SET, sis)
			})
		})
	})
	return b.Bytes()
}

// Marshal returns the DER SignerInfo. RawSignedAttrs, when set, is written
// as received (the signature covers it); otherwise SignedAttrs are encoded.
func (si *SignerInfo) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(int64(si.Version))
		switch {
		case si.IssuerAndSerial != nil:
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(si.IssuerAndSerial.RawIssuer)
				b.AddASN1BigInt(si.IssuerAndSerial.Serial)
			})
		case si.SubjectKeyID != nil:
			b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(si.SubjectKeyID) })
		default:
			b.SetError(errors.New("cms: SignerInfo without a signer identifier"))
			return
		}
		addAlgID(b, si.DigestAlgorithm)
		switch {
		case si.RawSignedAttrs != nil:
			b.AddBytes(si.RawSignedAttrs)
		case len(si.SignedAttrs) > 0:
			set, err := MarshalAttributes(si.SignedAttrs)
			if err != nil {
				b.SetError(err)
				return
			}
			set[0] = 0xA0
			b.AddBytes(set)
		}
		addAlgID(b, si.SignatureAlgorithm)
		b.AddASN1OctetString(si.Signature)
		if len(si.UnsignedAttrs) > 0 {
			set, err := MarshalAttributes(si.UnsignedAttrs)
			if err != nil {
				b.SetError(err)
				return
			}
			set[0] = 0xA1
			b.AddBytes(set)
		}
	})
	return b.Bytes()
}

func addAlgID(b *cryptobyte.Builder, id pkix.AlgorithmIdentifier) {
	der, err := asn1.Marshal(id)
	if err != nil {
		b.SetError(err)
		return
	}
	b.AddBytes(der)
}

// addSet writes a SET OF with its elements sorted by their DER encodings.
func addSet(b *cryptobyte.Builder, tag cbasn1.Tag, elems [][]byte) {
	sorted := append([][]byte(nil), elems...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i], sorted[j]) < 0 })
	b.AddASN1(tag, func(b *cryptobyte.Builder) {
		for _, e := range sorted {
			b.AddBytes(e)
		}
	})
}

// MarshalAttributes returns the DER SET OF Attribute (tag 0x31), sorted.
func MarshalAttributes(attrs []Attribute) ([]byte, error) {
	encoded := make([][]byte, 0, len(attrs))
	for _, a := range attrs {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(a.Type)
			addSet(b, cbasn1.SET, a.Values)
		})
		der, err := b.Bytes()
		if err != nil {
			return nil, err
		}
		encoded = append(encoded, der)
	}
	var b cryptobyte.Builder
	addSet(&b, cbasn1.SET, encoded)
	return b.Bytes()
}

// ---- attribute values ----

// MarshalOID returns the DER of an OBJECT IDENTIFIER (contentType values).
func MarshalOID(oid asn1.ObjectIdentifier) []byte {
	der, _ := asn1.Marshal(oid)
	return der
}

// MarshalOctets returns the DER of an OCTET STRING (messageDigest values).
func MarshalOctets(b []byte) []byte {
	der, _ := asn1.Marshal(b)
	return der
}

// MarshalTime returns a signingTime value: UTCTime through 2049, else
// GeneralizedTime, as RFC 5652 requires.
func MarshalTime(t time.Time) []byte {
	t = t.UTC().Truncate(time.Second)
	var der []byte
	if t.Year() >= 1950 && t.Year() < 2050 {
		der, _ = asn1.MarshalWithParams(t, "utc")
	} else {
		der, _ = asn1.MarshalWithParams(t, "generalized")
	}
	return der
}

// ParseTime reads a UTCTime or GeneralizedTime.
func ParseTime(der []byte) (time.Time, error) {
	var t time.Time
	rest, err := asn1.Unmarshal(der, &t)
	if err != nil || len(rest) != 0 {
		return time.Time{}, errors.New("cms: bad time value")
	}
	return t, nil
}

// ESSCertIDv2 is one entry of signingCertificateV2 (RFC 5035).
type ESSCertIDv2 struct {
	HashAlgorithm pkix.AlgorithmIdentifier // SHA-256 when absent on the wire
	CertHash      []byte
	// IssuerSerial is optional: RawIssuer is the DER Name, wrapped on the
	// wire as GeneralNames { directoryName }.
	IssuerSerial *IssuerAndSerial
}

// MarshalSigningCertificateV2 returns the DER SigningCertificateV2 value with
// one ESSCertIDv2. The hash algorithm is always written (DER omits a field
// equal to its default, so SHA-256 is left out).
func MarshalSigningCertificateV2(id ESSCertIDv2) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2
				if !id.HashAlgorithm.Algorithm.Equal(OIDSHA256) {
					addAlgID(b, id.HashAlgorithm)
				}
				b.AddASN1OctetString(id.CertHash)
				if id.IssuerSerial != nil {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
							b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddBytes(id.IssuerSerial.RawIssuer)
							})
						})
						b.AddASN1BigInt(id.IssuerSerial.Serial)
					})
				}
			})
		})
	})
	return b.Bytes()
}

// ParseSigningCertificateV2 reads the ESSCertIDv2 entries of a
// SigningCertificateV2 value; policies are ignored.
func ParseSigningCertificateV2(der []byte) ([]ESSCertIDv2, error) {
	return parseESS(der, true)
}

// ParseSigningCertificate reads the ESSCertID entries (SHA-1) of a
// version-1 SigningCertificate value.
func ParseSigningCertificate(der []byte) ([]ESSCertIDv2, error) {
	return parseESS(der, false)
}

func parseESS(der []byte, v2 bool) ([]ESSCertIDv2, error) {
	bad := errors.New("cms: malformed signingCertificate attribute")
	s := cryptobyte.String(der)
	var outer, certs cryptobyte.String
	if !s.ReadASN1(&outer, cbasn1.SEQUENCE) || !s.Empty() || !outer.ReadASN1(&certs, cbasn1.SEQUENCE) {
		return nil, bad
	}
	var out []ESSCertIDv2
	for !certs.Empty() {
		var c cryptobyte.String
		if !certs.ReadASN1(&c, cbasn1.SEQUENCE) {
			return nil, bad
		}
		id := ESSCertIDv2{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: OIDSHA256}}
		if !v2 {
			id.HashAlgorithm = pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}}
		}
		if v2 && c.PeekASN1Tag(cbasn1.SEQUENCE) {
			var err error
			if id.HashAlgorithm, err = readAlgID(&c); err != nil {
				return nil, bad
			}
		}
		var h cryptobyte.String
		if !c.ReadASN1(&h, cbasn1.OCTET_STRING) {
			return nil, bad
		}
		id.CertHash = append([]byte{}, h...)
		if !c.Empty() {
			var is, names, dn cryptobyte.String
			serial := new(big.Int)
			if !c.ReadASN1(&is, cbasn1.SEQUENCE) || !is.ReadASN1(&names, cbasn1.SEQUENCE) ||
				!names.ReadASN1(&dn, cbasn1.Tag(4).Constructed().ContextSpecific()) ||
				!is.ReadASN1Integer(serial) {
				return nil, bad
			}
			id.IssuerSerial = &IssuerAndSerial{RawIssuer: append([]byte{}, dn...), Serial: serial}
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		return nil, bad
	}
	return out, nil
}
