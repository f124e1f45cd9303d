package certs

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"unicode/utf8"
)

// Subject is the name of a qualified certificate's owner, for certificate
// requests: a person (Surname, GivenName, SNILS, INN), an organisation
// (Organization, OGRN, INNLE and the signing employee) or an individual
// entrepreneur (OGRNIP).
type Subject struct {
	Country, Region, Locality, Street string
	Organization, OrganizationalUnit  string
	Title                             string
	CommonName, Surname, GivenName    string
	Email                             string
	SNILS, INN, INNLE, OGRN, OGRNIP   string
}

// Marshal encodes s as a DER Name the way FSB order 795 asks: NumericString
// for СНИЛС, ИНН, ОГРН and ОГРНИП (whose check digits must be right),
// IA5String for the e-mail address, PrintableString where the text allows
// it and UTF8String otherwise; one attribute per RDN; empty fields left out.
func (s Subject) Marshal() ([]byte, error) {
	type field struct {
		oid   asn1.ObjectIdentifier
		value string
		tag   int
		check func(string) error
	}
	fields := []field{
		{asn1.ObjectIdentifier{2, 5, 4, 6}, s.Country, 0, nil},
		{asn1.ObjectIdentifier{2, 5, 4, 8}, s.Region, 0, nil},
		{asn1.ObjectIdentifier{2, 5, 4, 7}, s.Locality, 0, nil},
		{OIDStreet, s.Street, 0, nil},
		{asn1.ObjectIdentifier{2, 5, 4, 10}, s.Organization, 0, nil},
		{asn1.ObjectIdentifier{2, 5, 4, 11}, s.OrganizationalUnit, 0, nil},
		{OIDTitle, s.Title, 0, nil},
		{asn1.ObjectIdentifier{2, 5, 4, 3}, s.CommonName, 0, nil},
		{OIDSurname, s.Surname, 0, nil},
		{OIDGivenName, s.GivenName, 0, nil},
		{OIDEmailAddress, s.Email, asn1.TagIA5String, nil},
		{OIDSNILS, s.SNILS, asn1.TagNumericString, ValidateSNILS},
		{OIDINN, s.INN, asn1.TagNumericString, ValidateINN},
		{OIDINNLE, s.INNLE, asn1.TagNumericString, ValidateINN},
		{OIDOGRN, s.OGRN, asn1.TagNumericString, ValidateOGRN},
		{OIDOGRNIP, s.OGRNIP, asn1.TagNumericString, ValidateOGRNIP},
	}
	var seq pkix.RDNSequence
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		if !utf8.ValidString(f.value) {
			return nil, fmt.Errorf("certs: subject %v: not UTF-8", f.oid)
		}
		if f.check != nil {
			if err := f.check(f.value); err != nil {
				return nil, err
			}
		}
		tag := f.tag
		if tag == 0 {
			tag = asn1.TagUTF8String
			if printableString(f.value) {
				tag = asn1.TagPrintableString
			}
		}
		if tag == asn1.TagIA5String {
			for _, r := range f.value {
				if r > 0x7f {
					return nil, fmt.Errorf("certs: e-mail address %q is not ASCII", f.value)
				}
			}
		}
		seq = append(seq, pkix.RelativeDistinguishedNameSET{{Type: f.oid, Value: asn1.RawValue{Tag: tag, Bytes: []byte(f.value)}}})
	}
	if len(seq) == 0 {
		return nil, fmt.Errorf("certs: empty subject")
	}
	return asn1.Marshal(seq)
}

func printableString(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == ' ' || r == '\'' || r == '(' ||
			r == ')' || r == '+' || r == ',' || r == '-' || r == '.' || r == '/' || r == ':' || r == '=' || r == '?') {
			return false
		}
	}
	return true
}
