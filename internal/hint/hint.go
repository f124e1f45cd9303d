// Package hint turns what a user gave a kep command into advice: what kind of
// file it is, so that "this is not a CMS signature" replaces a parser's error,
// and which CRLs a validation could not fetch, so that the command can name
// --crl. It reads only the bytes and results it is given: no file system, no
// network.
package hint

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"unicode/utf8"

	"github.com/kepkit/kep/certs"
)

// Kind is what a file looks like.
type Kind int

// The kinds Detect tells apart.
const (
	Unknown     Kind = iota
	CMS              // a CMS/PKCS#7 ContentInfo (a .sig, .p7s, .p7b)
	Certificate      // an X.509 certificate
	CRL              // an X.509 certificate revocation list
	PDF
	ZIP // also DOCX, XLSX, ODT …
	Text
)

// Describe says in a few words what the kind is, for a message.
func (k Kind) Describe() string {
	switch k {
	case CMS:
		return "a CMS signature"
	case Certificate:
		return "an X.509 certificate"
	case CRL:
		return "a certificate revocation list"
	case PDF:
		return "a PDF document"
	case ZIP:
		return "a ZIP archive or office document"
	case Text:
		return "a text file"
	}
	return "not DER or PEM"
}

// oidPKCS7 is the arc of the CMS content types (1.2.840.113549.1.7).
var oidPKCS7 = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07}

// Detect tells what data (DER, BER or PEM) holds, from its first bytes.
func Detect(data []byte) Kind {
	if b, _ := pem.Decode(data); b != nil {
		switch b.Type {
		case "CERTIFICATE":
			return Certificate
		case "X509 CRL":
			return CRL
		}
		data = b.Bytes
	}
	switch {
	case bytes.HasPrefix(data, []byte("%PDF")):
		return PDF
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return ZIP
	case isContentInfo(data):
		return CMS
	}
	if k := x509Kind(data); k != Unknown {
		return k
	}
	if utf8.Valid(data) && len(data) > 0 {
		return Text
	}
	return Unknown
}

// isContentInfo reports whether data starts as SEQUENCE { OID
// 1.2.840.113549.1.7.x, … }, with a definite or indefinite (BER) length.
func isContentInfo(data []byte) bool {
	if len(data) < 2 || data[0] != 0x30 {
		return false
	}
	i := 2
	switch l := data[1]; {
	case l == 0x80: // indefinite
	case l > 0x80:
		i += int(l & 0x7f)
	}
	if len(data) < i+2 || data[i] != 0x06 {
		return false
	}
	n := int(data[i+1])
	oid := data[i+2:]
	return n == len(oidPKCS7)+1 && len(oid) >= n && bytes.Equal(oid[:len(oidPKCS7)], oidPKCS7)
}

// x509Kind tells a certificate from a CRL by the first field of the signed
// part: a certificate starts with [0] version or two INTEGERs (v1 version
// absent: serial, then the AlgorithmIdentifier is a SEQUENCE — so look at
// the second), a CRL with an optional INTEGER version then a SEQUENCE.
func x509Kind(data []byte) Kind {
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(data, &outer); err != nil || outer.Tag != asn1.TagSequence || !outer.IsCompound {
		return Unknown
	}
	var tbs asn1.RawValue
	rest, err := asn1.Unmarshal(outer.Bytes, &tbs)
	if err != nil || tbs.Tag != asn1.TagSequence || len(rest) == 0 {
		return Unknown
	}
	var first, second asn1.RawValue
	r, err := asn1.Unmarshal(tbs.Bytes, &first)
	if err != nil {
		return Unknown
	}
	if first.Class == asn1.ClassContextSpecific && first.Tag == 0 {
		return Certificate
	}
	if _, err := asn1.Unmarshal(r, &second); err != nil {
		return Unknown
	}
	switch {
	case first.Tag == asn1.TagInteger && second.Tag == asn1.TagInteger:
		return Certificate // v1 certificate: serial, then signature is a SEQUENCE; never two INTEGERs in a CRL
	case first.Tag == asn1.TagInteger && second.Tag == asn1.TagSequence:
		// a v2 CRL (version, signature) or a v1 certificate (serial, signature)
		if len(first.Bytes) == 1 && first.Bytes[0] == 1 {
			return CRL
		}
		return Certificate
	case first.Tag == asn1.TagSequence:
		return CRL // v1 CRL: signature first
	}
	return Unknown
}

// CRLURLs returns the CRL distribution points of the certificates on the
// chains (leaf first, the trust anchor left out) whose revocation status
// could not be had, each URL once.
func CRLURLs(chains ...*certs.ChainResult) []string {
	var out []string
	seen := map[string]bool{}
	for _, ch := range chains {
		if ch == nil || (ch.SubIndication != certs.SubTryLater && ch.SubIndication != certs.SubRevocationOutOfBoundsNoPOE) {
			continue
		}
		for i, c := range ch.Chain {
			if i == len(ch.Chain)-1 && i > 0 {
				break // the anchor is not checked
			}
			for _, u := range c.CRLDistributionPoints {
				if !seen[u] {
					seen[u] = true
					out = append(out, u)
				}
			}
		}
	}
	return out
}
