package cades

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Attribute labels as CryptoAPI's CertNameToStr writes them (the X.500 keys
// of the Windows SDK's CERT_RDN_ATTR table) and as CryptoPro CSP registers
// the Russian ones (ИНН, ОГРН, СНИЛС, ИНН ЮЛ, ОГРНИП: the labels wrappers
// such as crypto-pro and crypto-pro-cadesplugin look for). Any other type is
// written "OID.x.y.z", as CryptoAPI writes an OID it has no name for.
var nameLabels = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.4":                    "SN",
	"2.5.4.5":                    "SERIALNUMBER",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "S",
	"2.5.4.9":                    "STREET",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.12":                   "T",
	"2.5.4.42":                   "G",
	"2.5.4.43":                   "I",
	"1.2.840.113549.1.9.1":       "E",
	"0.9.2342.19200300.100.1.25": "DC",
	"1.2.840.113549.1.9.2":       "UnstructuredName",
	"1.2.643.3.131.1.1":          "ИНН",
	"1.2.643.100.1":              "ОГРН",
	"1.2.643.100.3":              "СНИЛС",
	"1.2.643.100.4":              "ИНН ЮЛ",
	"1.2.643.100.5":              "ОГРНИП",
}

// FormatName writes a DER Name the way CryptoPro's plug-in gives
// Certificate.SubjectName and IssuerName: CryptoAPI's X.500 string with the
// RDNs in reverse order of their encoding (CN first for the usual C…CN
// order), ", " between RDNs and " + " inside a multi-valued RDN, each value
// in double quotes when it is empty, starts or ends with a space, or holds
// one of , + = " < > # ; or a line break, with inner quotes doubled.
func FormatName(der []byte) (string, error) {
	var seq pkix.RDNSequence
	rest, err := asn1.Unmarshal(der, &seq)
	if err != nil {
		return "", err
	}
	if len(rest) > 0 {
		return "", fmt.Errorf("cades: trailing data after the name")
	}
	var b strings.Builder
	for i := len(seq) - 1; i >= 0; i-- {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		for j, atv := range seq[i] {
			if j > 0 {
				b.WriteString(" + ")
			}
			label, ok := nameLabels[atv.Type.String()]
			if !ok {
				label = "OID." + atv.Type.String()
			}
			b.WriteString(label)
			b.WriteByte('=')
			b.WriteString(quoteValue(attrValue(atv.Value)))
		}
	}
	return b.String(), nil
}

// attrValue turns a decoded attribute value into text. encoding/asn1 gives
// strings for the string types it knows; BMPString comes as raw bytes.
func attrValue(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []byte:
		if len(t)%2 == 0 {
			u := make([]uint16, len(t)/2)
			for i := range u {
				u[i] = uint16(t[2*i])<<8 | uint16(t[2*i+1])
			}
			return string(utf16.Decode(u))
		}
		return fmt.Sprintf("%X", t)
	default:
		return fmt.Sprint(v)
	}
}

// quoteValue applies CryptoAPI's quoting (CERT_X500_NAME_STR without
// CERT_NAME_STR_NO_QUOTING_FLAG).
func quoteValue(v string) string {
	need := v == "" || strings.HasPrefix(v, " ") || strings.HasSuffix(v, " ") ||
		strings.ContainsAny(v, ",+=\"<>#;\r\n")
	if !need {
		return v
	}
	return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
}

// simpleName is GetInfo(CAPICOM_CERT_INFO_SUBJECT_SIMPLE_NAME): the CN,
// else the first O or OU, else E, as CryptoAPI's CERT_NAME_SIMPLE_DISPLAY_TYPE.
func simpleName(der []byte) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return ""
	}
	for _, want := range []string{"2.5.4.3", "2.5.4.10", "2.5.4.11", "1.2.840.113549.1.9.1"} {
		for i := len(seq) - 1; i >= 0; i-- {
			for _, atv := range seq[i] {
				if atv.Type.String() == want {
					return attrValue(atv.Value)
				}
			}
		}
	}
	return ""
}

// emailName is GetInfo(CAPICOM_CERT_INFO_SUBJECT_EMAIL_NAME) from the name.
func emailName(der []byte) string {
	var seq pkix.RDNSequence
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		return ""
	}
	for _, rdn := range seq {
		for _, atv := range rdn {
			if atv.Type.String() == "1.2.840.113549.1.9.1" {
				return attrValue(atv.Value)
			}
		}
	}
	return ""
}
