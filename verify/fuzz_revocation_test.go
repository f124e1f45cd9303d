package verify_test

import (
	"bytes"
	"testing"

	"github.com/kepkit/kep/verify"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// encodeRevocationValues is a reference encoder of RevocationValues (TS 101
// 733 6.3.4): crlVals [0] and ocspVals [1], each a SEQUENCE OF the values.
func encodeRevocationValues(crls, ocsps [][]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for i, list := range [][][]byte{crls, ocsps} {
			if list == nil {
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
	return b.BytesOrPanic()
}

// FuzzRevocationParsers: revocation-values either refuse the input or give
// values that the reference encoder turns back into the input, byte for
// byte (without otherRevVals, which are only skipped); complete-revocation-
// references give hashes found inside the input, no more references than
// bytes.
func FuzzRevocationParsers(f *testing.F) {
	f.Add(encodeRevocationValues([][]byte{{0x30, 0x00}}, nil))
	f.Add(encodeRevocationValues(nil, [][]byte{{0x30, 0x01, 0x00}, {0x30, 0x00}}))
	f.Add(encodeRevocationValues([][]byte{}, [][]byte{}))
	// CompleteRevocationRefs: one CrlOcspRef with a CRL hash, one with an
	// OCSP identifier and hash, one empty (a root).
	f.Add([]byte{0x30, 0x1d,
		0x30, 0x0b, 0xa0, 0x09, 0x30, 0x07, 0x30, 0x05, 0x30, 0x03, 0x04, 0x01, 0xaa,
		0x30, 0x0c, 0xa1, 0x0a, 0x30, 0x08, 0x30, 0x06, 0x30, 0x01, 0x00, 0x04, 0x01, 0xbb,
		0x30, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		if rv, err := verify.ParseRevocationValues(der); err == nil && !rv.Other {
			crls, ocsps := rv.CRLs, rv.OCSPs
			// An empty SEQUENCE OF is kept apart from an absent field.
			if crls == nil && hasField(der, 0xa0) {
				crls = [][]byte{}
			}
			if ocsps == nil && hasField(der, 0xa1) {
				ocsps = [][]byte{}
			}
			if got := encodeRevocationValues(crls, ocsps); !bytes.Equal(got, der) {
				t.Fatalf("round trip:\n%x\nwant\n%x", got, der)
			}
		}
		if rr, err := verify.ParseRevocationRefs(der); err == nil {
			if n := len(rr.CRLs) + len(rr.OCSPs) + rr.OCSPNoHash + rr.OtherRefs; n > len(der) || rr.CrlOcspRefs > len(der) {
				t.Fatalf("%d references from %d bytes", n, len(der))
			}
			for _, h := range append(append([]verify.HashRef{}, rr.CRLs...), rr.OCSPs...) {
				if !bytes.Contains(der, h.Hash) {
					t.Fatalf("hash %x is not in the input", h.Hash)
				}
			}
		}
	})
}

// hasField reports whether the RevocationValues SEQUENCE der has a field
// with the given tag.
func hasField(der []byte, tag byte) bool {
	s := cryptobyte.String(der)
	var body cryptobyte.String
	if !s.ReadASN1(&body, cbasn1.SEQUENCE) {
		return false
	}
	for !body.Empty() {
		var el cryptobyte.String
		var got cbasn1.Tag
		if !body.ReadAnyASN1Element(&el, &got) {
			return false
		}
		if byte(got) == tag {
			return true
		}
	}
	return false
}
