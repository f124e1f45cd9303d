package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
)

// Leniency is a deviation from DER (or from RFC 9215) that kep accepts in a
// certificate because producers in the field write it and reading it cannot
// change what a signature covers: signatures and hashes are always computed
// over the bytes received (Raw, RawTBSCertificate), never over a re-encoding.
// verify reports each as a CERTIFICATE_ENCODING warning.
type Leniency struct {
	Reason string `json:"reason"` // stable: LeniencyBERBoolean, LeniencyDigestParamSet94
	Detail string `json:"detail"`
}

// Reasons of a Leniency.
const (
	// LeniencyBERBoolean: an extension's critical flag or basicConstraints
	// cA is a BER BOOLEAN TRUE other than 0xFF (a JavaScript GOST library
	// writes 0x01); DER requires 0xFF and crypto/x509 refuses it.
	LeniencyBERBoolean = "BER_BOOLEAN"
	// LeniencyDigestParamSet94: a GOST R 34.10-2012 256-bit key whose
	// digestParamSet names GOST R 34.11-94 (1.2.643.2.2.30.1), as Bouncy
	// Castle writes for CryptoPro-A keys; the key itself is read as usual.
	LeniencyDigestParamSet94 = "DIGEST_PARAM_SET_34_11_94"
)

var oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}

// tlv reads the DER header at b[off:] (definite lengths only) and returns
// the tag, the header length and the content length, or ok = false.
func tlv(b []byte, off int) (tag byte, hdr, n int, ok bool) {
	if off+2 > len(b) || b[off]&0x1f == 0x1f {
		return 0, 0, 0, false
	}
	tag, l := b[off], int(b[off+1])
	hdr = 2
	if l&0x80 != 0 {
		k := l & 0x7f
		if k == 0 || k > 4 || off+2+k > len(b) {
			return 0, 0, 0, false
		}
		l = 0
		for i := 0; i < k; i++ {
			l = l<<8 | int(b[off+2+i])
		}
		hdr += k
	}
	if l < 0 || off+hdr+l > len(b) {
		return 0, 0, 0, false
	}
	return tag, hdr, l, true
}

// berBooleans returns the offsets of the content byte of every BER TRUE
// (01 01 XX with XX neither 00 nor FF) in the certificate's extensions: the
// critical flags and the cA flag of basicConstraints.
func berBooleans(der []byte) []int {
	var out []int
	_, h, n, ok := tlv(der, 0) // Certificate
	if !ok {
		return nil
	}
	_, th, tn, ok := tlv(der, h) // TBSCertificate
	if !ok || h+th+tn > h+n {
		return nil
	}
	off, end := h+th, h+th+tn
	for off < end {
		tag, eh, en, ok := tlv(der, off)
		if !ok {
			return nil
		}
		if tag == 0xa3 { // [3] extensions
			_, sh, sn, ok := tlv(der, off+eh)
			if !ok {
				return nil
			}
			p, pend := off+eh+sh, off+eh+sh+sn
			for p < pend {
				_, xh, xn, ok := tlv(der, p) // Extension
				if !ok {
					return nil
				}
				q, qend := p+xh, p+xh+xn
				otag, oh, on, ok := tlv(der, q)
				if !ok || otag != 0x06 {
					return nil
				}
				var oid asn1.ObjectIdentifier
				if _, err := asn1.Unmarshal(der[q:q+oh+on], &oid); err != nil {
					return nil
				}
				q += oh + on
				if btag, bh, bn, ok := tlv(der, q); ok && btag == 0x01 && bn == 1 && q+bh < qend {
					if v := der[q+bh]; v != 0 && v != 0xff {
						out = append(out, q+bh)
					}
					q += bh + bn
				}
				if vtag, vh, _, ok := tlv(der, q); ok && vtag == 0x04 && oid.Equal(oidBasicConstraints) {
					if _, bh2, _, ok := tlv(der, q+vh); ok {
						r := q + vh + bh2
						if btag, bh, bn, ok := tlv(der, r); ok && btag == 0x01 && bn == 1 {
							if v := der[r+bh]; v != 0 && v != 0xff {
								out = append(out, r+bh)
							}
						}
					}
				}
				p = qend
			}
		}
		off += eh + en
	}
	return out
}

// parseLenient parses der when crypto/x509 refuses it only for BER
// booleans: it parses a copy with the booleans written as DER, then points
// every raw field back at the received bytes (the copy has the same length
// and layout, so offsets carry over).
func parseLenient(der []byte) (*x509.Certificate, []Leniency, error) {
	offs := berBooleans(der)
	if len(offs) == 0 {
		return nil, nil, errNotLenient
	}
	fixed := bytes.Clone(der)
	for _, o := range offs {
		fixed[o] = 0xff
	}
	xc, err := x509.ParseCertificate(fixed)
	if err != nil {
		return nil, nil, err
	}
	back := func(s []byte) []byte {
		if s == nil {
			return nil
		}
		o := cap(fixed) - cap(s)
		if o < 0 || o+len(s) > len(der) {
			return s
		}
		return der[o : o+len(s) : o+len(s)]
	}
	xc.Raw, xc.RawTBSCertificate = back(xc.Raw), back(xc.RawTBSCertificate)
	xc.RawSubjectPublicKeyInfo, xc.RawSubject, xc.RawIssuer = back(xc.RawSubjectPublicKeyInfo), back(xc.RawSubject), back(xc.RawIssuer)
	return xc, []Leniency{{Reason: LeniencyBERBoolean, Detail: "a BOOLEAN in the extensions is encoded as BER (TRUE not 0xFF); read as TRUE, signatures checked over the received bytes"}}, nil
}

type lenientError string

func (e lenientError) Error() string { return string(e) }

const errNotLenient = lenientError("no BER boolean to accept")
