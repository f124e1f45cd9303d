package cryptopro

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Masks is masks.key (or masks2.key): the mask the stored key was
// multiplied by, the salt of the password KDF, and a 4-byte MAC.
type Masks struct {
	Mask, Salt, MAC []byte
}

// ParseMasks decodes masks.key: SEQUENCE { mask, salt, mac OCTET STRING }.
func ParseMasks(der []byte) (*Masks, error) {
	if len(der) > MaxFileSize {
		return nil, fmt.Errorf("%w: masks.key", ErrTooLarge)
	}
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	m := &Masks{}
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Bytes(&m.Mask, cbasn1.OCTET_STRING) || !seq.ReadASN1Bytes(&m.Salt, cbasn1.OCTET_STRING) ||
		!seq.ReadASN1Bytes(&m.MAC, cbasn1.OCTET_STRING) || !seq.Empty() {
		return nil, formatErr("masks.key: want SEQUENCE { mask, salt, mac }")
	}
	if len(m.Mask) != 32 && len(m.Mask) != 64 {
		return nil, formatErr(fmt.Sprintf("masks.key: a %d-byte mask", len(m.Mask)))
	}
	return m, nil
}

// Marshal encodes masks.key.
func (m *Masks) Marshal() ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1OctetString(m.Mask)
		b.AddASN1OctetString(m.Salt)
		b.AddASN1OctetString(m.MAC)
	})
	return b.Bytes()
}

// ParsePrimary decodes primary.key (or primary2.key): SEQUENCE { key OCTET
// STRING }, the masked key encrypted under the password, 32 or 64 bytes.
func ParsePrimary(der []byte) ([]byte, error) {
	if len(der) > MaxFileSize {
		return nil, fmt.Errorf("%w: primary.key", ErrTooLarge)
	}
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	var key []byte
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1Bytes(&key, cbasn1.OCTET_STRING) || !seq.Empty() {
		return nil, formatErr("primary.key: want SEQUENCE { key }")
	}
	if len(key) != 32 && len(key) != 64 {
		return nil, formatErr(fmt.Sprintf("primary.key: a %d-byte key", len(key)))
	}
	return key, nil
}

// MarshalPrimary encodes primary.key.
func MarshalPrimary(key []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1OctetString(key) })
	return b.Bytes()
}

// ParseName decodes name.key: SEQUENCE { name IA5String }, the container's
// name as CryptoPro shows it (\\.\FLASH\name). Names are ASCII in practice;
// UTF8String is accepted too.
func ParseName(der []byte) (string, error) {
	if len(der) > MaxFileSize {
		return "", fmt.Errorf("%w: name.key", ErrTooLarge)
	}
	in := cryptobyte.String(der)
	var seq, name cryptobyte.String
	var tag cbasn1.Tag
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadAnyASN1(&name, &tag) {
		return "", formatErr("name.key: want SEQUENCE { name }")
	}
	if tag != cbasn1.IA5String && tag != cbasn1.UTF8String {
		return "", formatErr("name.key: the name is not a string")
	}
	// CryptoPro may add further elements after the name; they are ignored.
	for !seq.Empty() {
		var el cryptobyte.String
		if !seq.ReadAnyASN1Element(&el, &tag) {
			return "", formatErr("name.key: bad element")
		}
	}
	return string(name), nil
}

// MarshalName encodes name.key with an IA5String name.
func MarshalName(name string) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.IA5String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(name)) })
	})
	return b.Bytes()
}
