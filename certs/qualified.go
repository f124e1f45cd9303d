package certs

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Attribute and extension OIDs of Russian qualified certificates.
var (
	OIDSurname            = asn1.ObjectIdentifier{2, 5, 4, 4}
	OIDGivenName          = asn1.ObjectIdentifier{2, 5, 4, 42}
	OIDTitle              = asn1.ObjectIdentifier{2, 5, 4, 12}
	OIDStreet             = asn1.ObjectIdentifier{2, 5, 4, 9}
	OIDEmailAddress       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	OIDINN                = asn1.ObjectIdentifier{1, 2, 643, 3, 131, 1, 1}
	OIDOGRN               = asn1.ObjectIdentifier{1, 2, 643, 100, 1}
	OIDSNILS              = asn1.ObjectIdentifier{1, 2, 643, 100, 3}
	OIDINNLE              = asn1.ObjectIdentifier{1, 2, 643, 100, 4}
	OIDOGRNIP             = asn1.ObjectIdentifier{1, 2, 643, 100, 5}
	OIDSubjectSignTool    = asn1.ObjectIdentifier{1, 2, 643, 100, 111}
	OIDIssuerSignTool     = asn1.ObjectIdentifier{1, 2, 643, 100, 112}
	OIDSigningToolClasses = asn1.ObjectIdentifier{1, 2, 643, 100, 113} // policy arc: .1 … .6
	OIDIdentificationKind = asn1.ObjectIdentifier{1, 2, 643, 100, 114}
)

// IssuerSignTool is the issuerSignTool extension: the CA's certified signing
// tool and CA tool with the numbers of their conformity certificates.
type IssuerSignTool struct {
	SignTool     string `json:"signTool"`
	CATool       string `json:"caTool"`
	SignToolCert string `json:"signToolCert"`
	CAToolCert   string `json:"caToolCert"`
}

// IdentificationKind is how the holder was identified when the certificate
// was issued (extension 1.2.643.100.114).
type IdentificationKind int

// The identification kinds of FSB order 795 as amended in 2021.
const (
	IdentifiedInPerson             IdentificationKind = 0 // personal presence
	IdentifiedByQualifiedSignature IdentificationKind = 1 // remotely, with a valid qualified signature
	IdentifiedByBiometricPassport  IdentificationKind = 2 // remotely, with a biometric passport
	IdentifiedByESIA               IdentificationKind = 3 // remotely, through ЕСИА and ЕБС
)

func (k IdentificationKind) String() string {
	switch k {
	case IdentifiedInPerson:
		return "in person"
	case IdentifiedByQualifiedSignature:
		return "remotely, with a qualified signature"
	case IdentifiedByBiometricPassport:
		return "remotely, with a biometric passport"
	case IdentifiedByESIA:
		return "remotely, through ESIA and the unified biometric system"
	}
	return fmt.Sprintf("unknown (%d)", int(k))
}

// FieldProblem is something wrong with one qualified field.
type FieldProblem struct {
	Field   string `json:"field"` // the JSON name of the field, e.g. "snils"
	Message string `json:"message"`
}

// Qualified holds the fields FSB order 795 puts into a qualified certificate,
// read from the subject and the extensions. Russian attributes are read
// whatever string type encodes them (NumericString, PrintableString,
// UTF8String). Problems lists what is malformed (a wrong checksum, an
// unreadable extension); a problem never makes parsing fail.
type Qualified struct {
	Surname            string              `json:"surname,omitempty"`
	GivenName          string              `json:"givenName,omitempty"` // имя и отчество
	CommonName         string              `json:"commonName,omitempty"`
	Organization       string              `json:"organization,omitempty"`
	OrganizationalUnit string              `json:"organizationalUnit,omitempty"`
	Title              string              `json:"title,omitempty"`
	Country            string              `json:"country,omitempty"`
	Region             string              `json:"region,omitempty"`
	Locality           string              `json:"locality,omitempty"`
	Street             string              `json:"street,omitempty"`
	Email              string              `json:"email,omitempty"`
	INN                string              `json:"inn,omitempty"`   // 1.2.643.3.131.1.1
	INNLE              string              `json:"innLE,omitempty"` // 1.2.643.100.4, ИНН ЮЛ
	OGRN               string              `json:"ogrn,omitempty"`
	OGRNIP             string              `json:"ogrnip,omitempty"`
	SNILS              string              `json:"snils,omitempty"`
	SubjectSignTool    string              `json:"subjectSignTool,omitempty"`
	IssuerSignTool     *IssuerSignTool     `json:"issuerSignTool,omitempty"`
	IdentificationKind *IdentificationKind `json:"identificationKind,omitempty"`
	SigningToolClasses []string            `json:"signingToolClasses,omitempty"` // КС1 … КА1
	KeyUsage           []string            `json:"keyUsage,omitempty"`
	ExtKeyUsage        []string            `json:"extKeyUsage,omitempty"`
	NotBefore          time.Time           `json:"notBefore"`
	NotAfter           time.Time           `json:"notAfter"`
	IssuerCommonName   string              `json:"issuerCommonName,omitempty"`
	IssuerOrganization string              `json:"issuerOrganization,omitempty"`
	Serial             string              `json:"serial"` // hex
	Problems           []FieldProblem      `json:"problems"`
}

// signingToolClassNames are the certificatePolicies 1.2.643.100.113.1 … .6.
var signingToolClassNames = []string{"КС1", "КС2", "КС3", "КВ1", "КВ2", "КА1"}

// qualifiedFields reads the qualified fields of xc.
func qualifiedFields(xc *x509.Certificate) Qualified {
	q := Qualified{
		NotBefore:          xc.NotBefore.UTC(),
		NotAfter:           xc.NotAfter.UTC(),
		IssuerCommonName:   xc.Issuer.CommonName,
		IssuerOrganization: strings.Join(xc.Issuer.Organization, ", "),
		Serial:             serialHex(xc.SerialNumber.Bytes()),
		KeyUsage:           keyUsageNames(xc.KeyUsage),
		ExtKeyUsage:        extKeyUsageNames(xc),
		Problems:           []FieldProblem{},
	}
	attrs := []struct {
		oid   asn1.ObjectIdentifier
		field string
		dst   *string
		check func(string) error
	}{
		{OIDSurname, "surname", &q.Surname, nil},
		{OIDGivenName, "givenName", &q.GivenName, nil},
		{asn1.ObjectIdentifier{2, 5, 4, 3}, "commonName", &q.CommonName, nil},
		{asn1.ObjectIdentifier{2, 5, 4, 10}, "organization", &q.Organization, nil},
		{asn1.ObjectIdentifier{2, 5, 4, 11}, "organizationalUnit", &q.OrganizationalUnit, nil},
		{OIDTitle, "title", &q.Title, nil},
		{asn1.ObjectIdentifier{2, 5, 4, 6}, "country", &q.Country, nil},
		{asn1.ObjectIdentifier{2, 5, 4, 8}, "region", &q.Region, nil},
		{asn1.ObjectIdentifier{2, 5, 4, 7}, "locality", &q.Locality, nil},
		{OIDStreet, "street", &q.Street, nil},
		{OIDEmailAddress, "email", &q.Email, nil},
		{OIDINN, "inn", &q.INN, ValidateINN},
		{OIDINNLE, "innLE", &q.INNLE, validateINNLE},
		{OIDOGRN, "ogrn", &q.OGRN, ValidateOGRN},
		{OIDOGRNIP, "ogrnip", &q.OGRNIP, ValidateOGRNIP},
		{OIDSNILS, "snils", &q.SNILS, ValidateSNILS},
	}
	for _, a := range attrs {
		var values []string
		for _, atv := range xc.Subject.Names {
			if !atv.Type.Equal(a.oid) {
				continue
			}
			if s, ok := atv.Value.(string); ok {
				values = append(values, strings.TrimSpace(s))
			} else {
				q.problem(a.field, fmt.Sprintf("value of type %T is not a string", atv.Value))
			}
		}
		if len(values) == 0 {
			continue
		}
		if a.check == nil {
			*a.dst = strings.Join(values, ", ")
			continue
		}
		*a.dst = values[0]
		if len(values) > 1 {
			q.problem(a.field, fmt.Sprintf("appears %d times", len(values)))
		}
		if err := a.check(values[0]); err != nil {
			q.problem(a.field, err.Error())
		}
	}
	if q.Email == "" && len(xc.EmailAddresses) > 0 {
		q.Email = xc.EmailAddresses[0]
	}
	for _, ext := range xc.Extensions {
		switch {
		case ext.Id.Equal(OIDSubjectSignTool):
			s, err := parseDirectoryString(ext.Value)
			if err != nil {
				q.problem("subjectSignTool", err.Error())
				continue
			}
			q.SubjectSignTool = s
		case ext.Id.Equal(OIDIssuerSignTool):
			t, err := parseIssuerSignTool(ext.Value)
			if err != nil {
				q.problem("issuerSignTool", err.Error())
				continue
			}
			q.IssuerSignTool = t
		case ext.Id.Equal(OIDIdentificationKind):
			s := cryptobyte.String(ext.Value)
			var k int64
			if !s.ReadASN1Integer(&k) || !s.Empty() {
				q.problem("identificationKind", "not a DER INTEGER")
				continue
			}
			if k < 0 || k > 3 {
				q.problem("identificationKind", fmt.Sprintf("value %d is none of 0 (in person) … 3 (ЕСИА/ЕБС)", k))
				continue
			}
			kind := IdentificationKind(k)
			q.IdentificationKind = &kind
		}
	}
	q.SigningToolClasses = signingToolClasses(xc)
	return q
}

func (q *Qualified) problem(field, msg string) {
	q.Problems = append(q.Problems, FieldProblem{Field: field, Message: msg})
}

func validateINNLE(s string) error {
	if len(s) != 10 {
		return fmt.Errorf("ИНН ЮЛ %q has %d characters, want 10 digits", s, len(s))
	}
	return ValidateINN(s)
}

// parseDirectoryString reads one string value: UTF8String as the order
// requires, or any other string type older CAs wrote.
func parseDirectoryString(der []byte) (string, error) {
	s := cryptobyte.String(der)
	var v cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&v, &tag) || !s.Empty() {
		return "", fmt.Errorf("not a DER string")
	}
	switch tag {
	case cbasn1.UTF8String, cbasn1.PrintableString, cbasn1.IA5String, cbasn1.Tag(18) /* NumericString */, cbasn1.T61String:
		return string(v), nil
	case cbasn1.Tag(30): // BMPString
		if len(v)%2 != 0 {
			return "", fmt.Errorf("BMPString of odd length")
		}
		r := make([]rune, 0, len(v)/2)
		for i := 0; i < len(v); i += 2 {
			r = append(r, rune(v[i])<<8|rune(v[i+1]))
		}
		return string(r), nil
	}
	return "", fmt.Errorf("tag %d is not a string type", tag)
}

func parseIssuerSignTool(der []byte) (*IssuerSignTool, error) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, fmt.Errorf("not a DER SEQUENCE")
	}
	var fields [4]string
	for i := range fields {
		var el cryptobyte.String
		if !seq.ReadAnyASN1Element(&el, nil) {
			return nil, fmt.Errorf("has %d strings, want 4", i)
		}
		v, err := parseDirectoryString(el)
		if err != nil {
			return nil, fmt.Errorf("string %d: %w", i+1, err)
		}
		fields[i] = v
	}
	if !seq.Empty() {
		return nil, fmt.Errorf("has more than 4 strings")
	}
	return &IssuerSignTool{SignTool: fields[0], CATool: fields[1], SignToolCert: fields[2], CAToolCert: fields[3]}, nil
}

func signingToolClasses(xc *x509.Certificate) []string {
	var out []string
	for _, p := range xc.PolicyIdentifiers {
		if len(p) == len(OIDSigningToolClasses)+1 && p[:len(OIDSigningToolClasses)].Equal(OIDSigningToolClasses) {
			if n := p[len(p)-1]; n >= 1 && n <= len(signingToolClassNames) {
				out = append(out, signingToolClassNames[n-1])
			}
		}
	}
	return out
}

var keyUsageBits = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "digitalSignature"},
	{x509.KeyUsageContentCommitment, "nonRepudiation"},
	{x509.KeyUsageKeyEncipherment, "keyEncipherment"},
	{x509.KeyUsageDataEncipherment, "dataEncipherment"},
	{x509.KeyUsageKeyAgreement, "keyAgreement"},
	{x509.KeyUsageCertSign, "keyCertSign"},
	{x509.KeyUsageCRLSign, "cRLSign"},
	{x509.KeyUsageEncipherOnly, "encipherOnly"},
	{x509.KeyUsageDecipherOnly, "decipherOnly"},
}

func keyUsageNames(ku x509.KeyUsage) []string {
	var out []string
	for _, b := range keyUsageBits {
		if ku&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return out
}

var extKeyUsageLabels = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:                            "any",
	x509.ExtKeyUsageServerAuth:                     "serverAuth",
	x509.ExtKeyUsageClientAuth:                     "clientAuth",
	x509.ExtKeyUsageCodeSigning:                    "codeSigning",
	x509.ExtKeyUsageEmailProtection:                "emailProtection",
	x509.ExtKeyUsageIPSECEndSystem:                 "ipsecEndSystem",
	x509.ExtKeyUsageIPSECTunnel:                    "ipsecTunnel",
	x509.ExtKeyUsageIPSECUser:                      "ipsecUser",
	x509.ExtKeyUsageTimeStamping:                   "timeStamping",
	x509.ExtKeyUsageOCSPSigning:                    "OCSPSigning",
	x509.ExtKeyUsageMicrosoftServerGatedCrypto:     "msSGC",
	x509.ExtKeyUsageNetscapeServerGatedCrypto:      "nsSGC",
	x509.ExtKeyUsageMicrosoftCommercialCodeSigning: "msCodeCom",
	x509.ExtKeyUsageMicrosoftKernelCodeSigning:     "msKernelCodeSigning",
}

func extKeyUsageNames(xc *x509.Certificate) []string {
	var out []string
	for _, u := range xc.ExtKeyUsage {
		if n, ok := extKeyUsageLabels[u]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("ExtKeyUsage(%d)", int(u)))
		}
	}
	for _, oid := range xc.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	return out
}

// attributeNames are the short names formatName writes; other attribute
// types are written as dotted OIDs.
var attributeNames = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{asn1.ObjectIdentifier{2, 5, 4, 3}, "CN"},
	{OIDSurname, "SN"},
	{OIDGivenName, "GN"},
	{asn1.ObjectIdentifier{2, 5, 4, 5}, "serialNumber"},
	{asn1.ObjectIdentifier{2, 5, 4, 6}, "C"},
	{asn1.ObjectIdentifier{2, 5, 4, 7}, "L"},
	{asn1.ObjectIdentifier{2, 5, 4, 8}, "ST"},
	{OIDStreet, "street"},
	{asn1.ObjectIdentifier{2, 5, 4, 10}, "O"},
	{asn1.ObjectIdentifier{2, 5, 4, 11}, "OU"},
	{OIDTitle, "title"},
	{OIDEmailAddress, "emailAddress"},
	{OIDINN, "INN"},
	{OIDINNLE, "INNLE"},
	{OIDOGRN, "OGRN"},
	{OIDOGRNIP, "OGRNIP"},
	{OIDSNILS, "SNILS"},
}

// formatName writes a name in the RFC 4514 order (last attribute first) with
// readable attribute names and decoded values.
func formatName(n pkix.Name) string {
	var b strings.Builder
	for i := len(n.Names) - 1; i >= 0; i-- {
		atv := n.Names[i]
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		name := atv.Type.String()
		for _, a := range attributeNames {
			if a.oid.Equal(atv.Type) {
				name = a.name
				break
			}
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(escapeValue(fmt.Sprint(atv.Value)))
	}
	return b.String()
}

func escapeValue(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case strings.ContainsRune(`,+"\<>;`, r),
			i == 0 && (r == ' ' || r == '#'),
			i == len(v)-1 && r == ' ':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
