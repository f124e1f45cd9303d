package protocol

import (
	"encoding/asn1"
	"encoding/hex"
	"strings"
	"unicode/utf16"
)

// attr is one attribute of a distinguished name.
type attr struct{ key, value string }

// nameKeys are the labels of the attributes pkix.Name.String prints as
// dotted OIDs.
var nameKeys = map[string]string{
	"2.5.4.4":              "SN",
	"2.5.4.42":             "G",
	"2.5.4.12":             "T",
	"1.2.840.113549.1.9.1": "E",
	"1.2.643.3.131.1.1":    "ИНН",
	"1.2.643.100.1":        "ОГРН",
	"1.2.643.100.3":        "СНИЛС",
	"1.2.643.100.4":        "ИНН ЮЛ",
	"1.2.643.100.5":        "ОГРНИП",
}

// parseDN reads a name as pkix.Name.String writes it (RFC 2253: attributes
// separated by "," or "+", special characters escaped with "\", values of
// unknown attributes as "#" and the hex of their DER). Hex values are
// decoded to their text; a value that is not a string is dropped, never
// shown as hex.
func parseDN(s string) []attr {
	var out []attr
	var cur strings.Builder
	flush := func() {
		part := cur.String()
		cur.Reset()
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if strings.HasPrefix(v, "#") {
			text, ok := decodeHexValue(v[1:])
			if !ok {
				return
			}
			v = text
		} else {
			v = unescapeDN(v)
		}
		if label, ok := nameKeys[k]; ok {
			k = label
		}
		if v != "" {
			out = append(out, attr{k, v})
		}
	}
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune('\\')
			cur.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == ',' || r == '+':
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

func unescapeDN(v string) string {
	var b strings.Builder
	escaped := false
	for _, r := range v {
		if r == '\\' && !escaped {
			escaped = true
			continue
		}
		escaped = false
		b.WriteRune(r)
	}
	return b.String()
}

// decodeHexValue decodes the DER of a directory string.
func decodeHexValue(h string) (string, bool) {
	der, err := hex.DecodeString(h)
	if err != nil {
		return "", false
	}
	var rv asn1.RawValue
	if rest, err := asn1.Unmarshal(der, &rv); err != nil || len(rest) != 0 || rv.Class != asn1.ClassUniversal {
		return "", false
	}
	switch rv.Tag {
	case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagNumericString, asn1.TagIA5String, asn1.TagT61String:
		return string(rv.Bytes), true
	case asn1.TagBMPString:
		if len(rv.Bytes)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(rv.Bytes)/2)
		for i := range u {
			u[i] = uint16(rv.Bytes[2*i])<<8 | uint16(rv.Bytes[2*i+1])
		}
		return string(utf16.Decode(u)), true
	}
	return "", false
}

// readableName is a name for a person to read: the common name and the
// organisation when the name has them, else every attribute as
// "label=value". No hex ever.
func readableName(dn string) string {
	attrs := parseDN(dn)
	var cn, o, sn, g string
	for _, a := range attrs {
		switch a.key {
		case "CN":
			cn = a.value
		case "O":
			o = a.value
		case "SN":
			sn = a.value
		case "G", "GN":
			g = a.value
		}
	}
	if cn == "" {
		cn = strings.TrimSpace(sn + " " + g)
	}
	switch {
	case cn != "" && o != "" && o != cn:
		return cn + ", " + o
	case cn != "":
		return cn
	case o != "":
		return o
	}
	parts := make([]string, len(attrs))
	for i, a := range attrs {
		parts[i] = a.key + "=" + a.value
	}
	return strings.Join(parts, ", ")
}
