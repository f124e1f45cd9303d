package cryptopro

import (
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Sentinel errors. Every error this package returns wraps one of them.
var (
	// ErrFormat: a container file is not what CryptoPro writes.
	ErrFormat = errors.New("cryptopro: malformed container file")
	// ErrNotContainer: the folder or zip holds no header.key/masks.key/primary.key.
	ErrNotContainer = errors.New("cryptopro: not a CryptoPro key container")
	// ErrTooLarge: a file is larger than any container file can be.
	ErrTooLarge = errors.New("cryptopro: file too large for a key container")
	// ErrUnsupported: the key is of an algorithm or curve kep does not know.
	ErrUnsupported = errors.New("cryptopro: unsupported key")
	// ErrWrongPassword: the key decrypted under the password does not match the
	// public-key fingerprint in header.key.
	ErrWrongPassword = errors.New("cryptopro: wrong container password")
	// ErrNoKey: the container holds no such key (no primary2.key, say).
	ErrNoKey = errors.New("cryptopro: the container holds no such key")
	// ErrDamaged: a file's MAC does not match its content.
	ErrDamaged = errors.New("cryptopro: container file damaged (its MAC does not match)")
)

// Limits on what is read. A header.key with two certificates is a few KiB.
const (
	MaxFileSize = 64 << 10 // any one container file
	MaxZipSize  = 1 << 20  // a zip holding one container
)

// Key-agreement algorithm OIDs CryptoPro writes as a key's algorithm.
var (
	OIDAgreement2001     = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 98}
	OIDAgreement256      = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 6, 1}
	OIDAgreement512      = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 6, 2}
	OIDSignature2001     = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 19}
	OIDSignature2012_256 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 1}
	OIDSignature2012_512 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 2}
)

// Bits of KeyParams.Attributes (a BIT STRING, bit 0 first).
const (
	AttrExportable  = 0 // the key may be exported
	AttrUserProtect = 1
	AttrExchange    = 2 // a key-exchange (AT_KEYEXCHANGE) key: also signs
	AttrEphemeral   = 3
	AttrNonCachable = 4
	AttrDHAllowed   = 5
)

// KeyParams describes one key of the container.
type KeyParams struct {
	Attributes asn1.BitString        // AttrExportable, AttrExchange, ...
	Algorithm  asn1.ObjectIdentifier // key-agreement OID (OIDAgreement256, ...)
	Curve      asn1.ObjectIdentifier // GOST R 34.10 parameter set
	Digest     asn1.ObjectIdentifier // digest parameter set, nil when absent
	extra      []cryptobyte.String   // further parameters kept as read
}

// Exportable reports whether CryptoPro marked the key exportable.
func (k *KeyParams) Exportable() bool { return k.Attributes.At(AttrExportable) == 1 }

// Header is header.key.
type Header struct {
	ContainerAlgorithm asn1.ObjectIdentifier // [0], nil when absent
	ContainerName      string                // optional IA5String
	hasName            bool
	Attributes         asn1.BitString // container attributes
	Primary            KeyParams
	PasswordMAC        []byte     // [2], nil when absent
	Secondary          *KeyParams // [4], nil when absent
	Certificate        []byte     // [5] DER certificate of the primary key, nil when absent
	SecondCertificate  []byte     // [6] DER certificate of the secondary key
	PrimaryFP          []byte     // [10] fingerprint of the primary public key
	SecondaryFP        []byte     // [11]
	MAC                []byte     // the MAC after the content

	elems []element // every element of the content, in order, for Marshal
}

// element is one TLV of the header's content: tag and, for the elements
// Header does not decode, the bytes as read.
type element struct {
	tag cbasn1.Tag
	raw []byte // full TLV, used only for elements without a decoded field
}

// Context tags of header.key's content.
var (
	tagAlgorithm   = cbasn1.Tag(0).ContextSpecific().Constructed()
	tagPasswordMAC = cbasn1.Tag(2).ContextSpecific()
	tagSecondary   = cbasn1.Tag(4).ContextSpecific().Constructed()
	tagCert        = cbasn1.Tag(5).ContextSpecific()
	tagCert2       = cbasn1.Tag(6).ContextSpecific()
	tagFP          = cbasn1.Tag(10).ContextSpecific()
	tagFP2         = cbasn1.Tag(11).ContextSpecific()
	tagKeyAlg      = cbasn1.Tag(0).ContextSpecific().Constructed()
)

func formatErr(what string) error { return fmt.Errorf("%w: %s", ErrFormat, what) }

// ParseHeader decodes header.key.
func ParseHeader(der []byte) (*Header, error) {
	if len(der) > MaxFileSize {
		return nil, fmt.Errorf("%w: header.key", ErrTooLarge)
	}
	in := cryptobyte.String(der)
	var outer, content cryptobyte.String
	var mac []byte
	if !in.ReadASN1(&outer, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, formatErr("header.key is not one DER SEQUENCE")
	}
	if !outer.ReadASN1(&content, cbasn1.SEQUENCE) || !outer.ReadASN1Bytes(&mac, cbasn1.OCTET_STRING) || !outer.Empty() {
		return nil, formatErr("header.key: want SEQUENCE { content, mac }")
	}
	h := &Header{MAC: mac}
	seenParams := false
	for !content.Empty() {
		var full, body cryptobyte.String
		var tag cbasn1.Tag
		if !content.ReadAnyASN1Element(&full, &tag) {
			return nil, formatErr("header.key: bad element")
		}
		el := element{tag: tag, raw: append([]byte(nil), full...)}
		rest := full
		if !rest.ReadAnyASN1(&body, &tag) {
			return nil, formatErr("header.key: bad element")
		}
		switch {
		case tag == tagAlgorithm && !seenParams && len(h.elems) == 0:
			if !body.ReadASN1ObjectIdentifier(&h.ContainerAlgorithm) || !body.Empty() {
				return nil, formatErr("header.key: container algorithm")
			}
			el.raw = nil
		case tag == cbasn1.IA5String && !seenParams && !h.hasName:
			h.ContainerName, h.hasName = string(body), true
			if !ia5(body) {
				return nil, formatErr("header.key: container name")
			}
			el.raw = nil
		case tag == cbasn1.BIT_STRING && !seenParams && h.Attributes.Bytes == nil:
			bs, ok := readBitString(body)
			if !ok {
				return nil, formatErr("header.key: container attributes")
			}
			h.Attributes = bs
			el.raw = nil
		case tag == cbasn1.SEQUENCE && !seenParams:
			if h.Attributes.Bytes == nil {
				return nil, formatErr("header.key: no container attributes")
			}
			kp, err := parseKeyParams(body)
			if err != nil {
				return nil, err
			}
			h.Primary, seenParams = *kp, true
			el.raw = nil
		case !seenParams:
			return nil, formatErr(fmt.Sprintf("header.key: unexpected element %#x before the key parameters", int(tag)))
		case tag == tagPasswordMAC && h.PasswordMAC == nil:
			h.PasswordMAC = append([]byte{}, body...)
			el.raw = nil
		case tag == tagSecondary && h.Secondary == nil:
			kp, err := parseKeyParams(body)
			if err != nil {
				return nil, err
			}
			h.Secondary = kp
			el.raw = nil
		case tag == tagCert && h.Certificate == nil:
			h.Certificate = append([]byte{}, body...)
			el.raw = nil
		case tag == tagCert2 && h.SecondCertificate == nil:
			h.SecondCertificate = append([]byte{}, body...)
			el.raw = nil
		case tag == tagFP && h.PrimaryFP == nil:
			h.PrimaryFP = append([]byte{}, body...)
			el.raw = nil
		case tag == tagFP2 && h.SecondaryFP == nil:
			h.SecondaryFP = append([]byte{}, body...)
			el.raw = nil
		}
		h.elems = append(h.elems, el)
	}
	if !seenParams {
		return nil, formatErr("header.key: no key parameters")
	}
	return h, nil
}

func ia5(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// readBitString reads the content of a DER BIT STRING.
func readBitString(body cryptobyte.String) (asn1.BitString, bool) {
	if len(body) == 0 {
		return asn1.BitString{}, false
	}
	unused := int(body[0])
	data := body[1:]
	if unused > 7 || (len(data) == 0 && unused != 0) {
		return asn1.BitString{}, false
	}
	if len(data) > 0 && data[len(data)-1]&(1<<unused-1) != 0 {
		return asn1.BitString{}, false
	}
	return asn1.BitString{Bytes: append([]byte{}, data...), BitLength: 8*len(data) - unused}, true
}

func addBitString(b *cryptobyte.Builder, tag cbasn1.Tag, bs asn1.BitString) {
	b.AddASN1(tag, func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(8*len(bs.Bytes) - bs.BitLength))
		b.AddBytes(bs.Bytes)
	})
}

// parseKeyParams reads GostPrivateKeyParameters:
// SEQUENCE { attributes BIT STRING, [0] IMPLICIT SEQUENCE { algorithm OID,
// SEQUENCE { curve OID, digest OID OPTIONAL, ... } } }.
func parseKeyParams(body cryptobyte.String) (*KeyParams, error) {
	kp := &KeyParams{}
	var attrs, alg, params cryptobyte.String
	if !body.ReadASN1(&attrs, cbasn1.BIT_STRING) {
		return nil, formatErr("header.key: key attributes")
	}
	bs, ok := readBitString(attrs)
	if !ok {
		return nil, formatErr("header.key: key attributes")
	}
	kp.Attributes = bs
	if !body.ReadASN1(&alg, tagKeyAlg) || !body.Empty() {
		return nil, formatErr("header.key: key algorithm")
	}
	if !alg.ReadASN1ObjectIdentifier(&kp.Algorithm) || !alg.ReadASN1(&params, cbasn1.SEQUENCE) || !alg.Empty() {
		return nil, formatErr("header.key: key algorithm")
	}
	if !params.ReadASN1ObjectIdentifier(&kp.Curve) {
		return nil, formatErr("header.key: key curve")
	}
	if params.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) {
		if !params.ReadASN1ObjectIdentifier(&kp.Digest) {
			return nil, formatErr("header.key: key digest")
		}
	}
	for !params.Empty() {
		var el cryptobyte.String
		if !params.ReadAnyASN1Element(&el, nil) {
			return nil, formatErr("header.key: key parameters")
		}
		kp.extra = append(kp.extra, el)
	}
	return kp, nil
}

func addKeyParams(b *cryptobyte.Builder, tag cbasn1.Tag, kp *KeyParams) {
	b.AddASN1(tag, func(b *cryptobyte.Builder) {
		addBitString(b, cbasn1.BIT_STRING, kp.Attributes)
		b.AddASN1(tagKeyAlg, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(kp.Algorithm)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(kp.Curve)
				if kp.Digest != nil {
					b.AddASN1ObjectIdentifier(kp.Digest)
				}
				for _, e := range kp.extra {
					b.AddBytes(e)
				}
			})
		})
	})
}

// Marshal encodes the header again: the decoded fields from their values,
// every other element as it was read. For a header ParseHeader accepted,
// Marshal gives back the same bytes.
func (h *Header) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { h.marshalContent(b) })
		b.AddASN1OctetString(h.MAC)
	})
	return b.Bytes()
}

// Content returns the DER of the header's content, the bytes its MAC covers.
func (h *Header) Content() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { h.marshalContent(b) })
	return b.Bytes()
}

func (h *Header) marshalContent(b *cryptobyte.Builder) {
	elems := h.elems
	if elems == nil { // a Header built by hand: the usual order
		elems = h.defaultElems()
	}
	for _, e := range elems {
		if e.raw != nil {
			b.AddBytes(e.raw)
			continue
		}
		switch e.tag {
		case tagAlgorithm:
			b.AddASN1(tagAlgorithm, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(h.ContainerAlgorithm) })
		case cbasn1.IA5String:
			b.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(h.ContainerName)) })
		case cbasn1.BIT_STRING:
			addBitString(b, cbasn1.BIT_STRING, h.Attributes)
		case cbasn1.SEQUENCE:
			addKeyParams(b, cbasn1.SEQUENCE, &h.Primary)
		case tagPasswordMAC:
			b.AddASN1(tagPasswordMAC, func(b *cryptobyte.Builder) { b.AddBytes(h.PasswordMAC) })
		case tagSecondary:
			addKeyParams(b, tagSecondary, h.Secondary)
		case tagCert:
			b.AddASN1(tagCert, func(b *cryptobyte.Builder) { b.AddBytes(h.Certificate) })
		case tagCert2:
			b.AddASN1(tagCert2, func(b *cryptobyte.Builder) { b.AddBytes(h.SecondCertificate) })
		case tagFP:
			b.AddASN1(tagFP, func(b *cryptobyte.Builder) { b.AddBytes(h.PrimaryFP) })
		case tagFP2:
			b.AddASN1(tagFP2, func(b *cryptobyte.Builder) { b.AddBytes(h.SecondaryFP) })
		}
	}
}

// defaultElems is the element order CryptoPro CSP writes.
func (h *Header) defaultElems() []element {
	var es []element
	add := func(t cbasn1.Tag, present bool) {
		if present {
			es = append(es, element{tag: t})
		}
	}
	add(tagAlgorithm, h.ContainerAlgorithm != nil)
	add(cbasn1.IA5String, h.ContainerName != "")
	add(cbasn1.BIT_STRING, true)
	add(cbasn1.SEQUENCE, true)
	add(tagPasswordMAC, h.PasswordMAC != nil)
	add(tagSecondary, h.Secondary != nil)
	add(tagCert, h.Certificate != nil)
	add(tagCert2, h.SecondCertificate != nil)
	add(tagFP, h.PrimaryFP != nil)
	add(tagFP2, h.SecondaryFP != nil)
	return es
}
