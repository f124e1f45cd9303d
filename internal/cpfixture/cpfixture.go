// Package cpfixture writes CryptoPro key containers for kep's tests.
//
// TEST FIXTURE GENERATOR ONLY: nothing in kep's binary imports it. It exists
// because the containers CryptoPro CSP makes cannot be generated on a test
// machine; the reader (keyfile/cryptopro) is anchored on a real container
// made by CryptoPro CSP (see testdata/cryptopro/SOURCES.md), and this writer
// follows the same layout so that tests can make containers of every key type,
// with any password, flags and damage.
package cpfixture

import (
	"crypto/rand"
	"encoding/asn1"
	"math/big"
	"os"
	"path/filepath"

	"github.com/kepkit/kep/gost/gost28147"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/keyfile/cryptopro"
)

// Options say what to write.
type Options struct {
	Password      string
	NonExportable bool
	Reserve       bool                  // also write primary2.key/masks2.key as the reserve copy
	Name          string                // name.key; "" for none
	NoFingerprint bool                  // leave the public-key fingerprint out of header.key
	Curve         asn1.ObjectIdentifier // the curve OID to record (default: the key's set)
	GOST2001      bool                  // record the key as a GOST R 34.10-2001 one (GOST R 34.11-94 KDF, CryptoPro-A S-box)
	Second        *gost3410.PrivateKey  // a second key, in primary2.key/masks2.key (not with Reserve)
}

// digests for the key's size, as CryptoPro records them.
var (
	oidStreebog256 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2}
	oidStreebog512 = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 3}
	oidContainer   = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 37, 2, 1}
	oidGOST94Param = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 30, 1}
)

func params(key *gost3410.PrivateKey, o Options) cryptopro.KeyParams {
	ps := key.Params()
	attrs := asn1.BitString{Bytes: []byte{0xa0}, BitLength: 3} // exportable, exchange
	if o.NonExportable {
		attrs.Bytes[0] = 0x20
	}
	kp := cryptopro.KeyParams{Attributes: attrs, Algorithm: cryptopro.OIDAgreement256, Curve: ps.OID, Digest: oidStreebog256}
	if ps.Size() == 64 {
		kp.Algorithm, kp.Digest = cryptopro.OIDAgreement512, oidStreebog512
	}
	if o.GOST2001 {
		kp.Algorithm, kp.Digest = cryptopro.OIDAgreement2001, oidGOST94Param
	}
	if o.Curve != nil {
		kp.Curve = o.Curve
	}
	return kp
}

// Files returns the container's files for key (a 2012 key) with the DER
// certificate cert (nil for none).
func Files(key *gost3410.PrivateKey, cert []byte, o Options) (map[string][]byte, error) {
	kp := params(key, o)
	files := map[string][]byte{}
	enc, masks, err := encrypt(key, &kp, []byte(o.Password))
	if err != nil {
		return nil, err
	}
	if files["primary.key"], err = cryptopro.MarshalPrimary(enc); err != nil {
		return nil, err
	}
	if files["masks.key"], err = masks.Marshal(); err != nil {
		return nil, err
	}
	cattrs := asn1.BitString{Bytes: []byte{0}, BitLength: 2}
	if o.Reserve {
		cattrs.Bytes[0] = 0x40
		enc2, masks2, err := encrypt(key, &kp, []byte(o.Password))
		if err != nil {
			return nil, err
		}
		if files["primary2.key"], err = cryptopro.MarshalPrimary(enc2); err != nil {
			return nil, err
		}
		if files["masks2.key"], err = masks2.Marshal(); err != nil {
			return nil, err
		}
	}
	h := &cryptopro.Header{ContainerAlgorithm: oidContainer, Attributes: cattrs, Primary: kp, Certificate: cert}
	if !o.NoFingerprint {
		h.PrimaryFP = key.PublicKey().Bytes()[:8]
	}
	if o.Second != nil {
		kp2 := params(o.Second, o)
		enc2, masks2, err := encrypt(o.Second, &kp2, []byte(o.Password))
		if err != nil {
			return nil, err
		}
		if files["primary2.key"], err = cryptopro.MarshalPrimary(enc2); err != nil {
			return nil, err
		}
		if files["masks2.key"], err = masks2.Marshal(); err != nil {
			return nil, err
		}
		h.Secondary, h.SecondaryFP = &kp2, o.Second.PublicKey().Bytes()[:8]
	}
	if err := h.SetMAC(); err != nil {
		return nil, err
	}
	if files["header.key"], err = h.Marshal(); err != nil {
		return nil, err
	}
	if o.Name != "" {
		if files["name.key"], err = cryptopro.MarshalName(o.Name); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// encrypt masks and encrypts the key: x = d·m mod q, little-endian, GOST
// 28147-89 ECB under the password's KEK.
func encrypt(key *gost3410.PrivateKey, kp *cryptopro.KeyParams, password []byte) ([]byte, *cryptopro.Masks, error) {
	ps := key.Params()
	q := ps.Curve().Q()
	m, err := rand.Int(rand.Reader, new(big.Int).Sub(q, big.NewInt(1)))
	if err != nil {
		return nil, nil, err
	}
	m.Add(m, big.NewInt(1))
	d := new(big.Int).SetBytes(reverse(key.Bytes()))
	x := new(big.Int).Mul(d, m)
	x.Mod(x, q)
	masks := &cryptopro.Masks{Mask: reverse(m.FillBytes(make([]byte, ps.Size()))), Salt: make([]byte, 12)}
	if _, err := rand.Read(masks.Salt); err != nil {
		return nil, nil, err
	}
	if err := masks.SetMAC(); err != nil {
		return nil, nil, err
	}
	kek, err := cryptopro.KEK(kp, masks.Salt, password)
	if err != nil {
		return nil, nil, err
	}
	blk, err := gost28147.NewCipher(kek, cryptopro.KeySBox(kp))
	if err != nil {
		return nil, nil, err
	}
	plain := reverse(x.FillBytes(make([]byte, ps.Size())))
	enc := make([]byte, len(plain))
	gost28147.EncryptECB(blk, enc, plain)
	return enc, masks, nil
}

// Write writes the container into the folder dir (created).
func Write(dir string, key *gost3410.PrivateKey, cert []byte, o Options) error {
	files, err := Files(key, cert, o)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func reverse(b []byte) []byte {
	r := make([]byte, len(b))
	for i, c := range b {
		r[len(b)-1-i] = c
	}
	return r
}
