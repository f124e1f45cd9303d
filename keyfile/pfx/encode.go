package pfx

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"io"
	"unicode/utf16"

	"github.com/kepkit/kep/gost/gost28147"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
	"github.com/kepkit/kep/gost/kdf"
	"github.com/kepkit/kep/gost/mode"
)

// Format names a PFX form Encode writes.
type Format string

const (
	// FormatOpenSSL is what `openssl pkcs12 -export -keypbe gost89 -certpbe
	// gost89 -macalg md_gost12_256` writes with the gost engine: PBES2 with
	// PBKDF2-HMAC-Streebog-512 and GOST 28147-89 CFB (tc26-Z S-box, key
	// meshing) for the key and the certificates, HMAC-Streebog-256 MAC.
	FormatOpenSSL Format = "openssl"

	// FormatRFC9548 is RFC 9548's form, as its example A.2 is made: the key
	// in a shrouded key bag under PBES2 with PBKDF2-HMAC-Streebog-512 (a
	// 32-byte random salt, RFC 9337's recommendation) and Kuznyechik in
	// CTR-ACPKM-OMAC (a random 16-byte ukm), the certificates in a plain
	// Data safe (they are public, and so any PKCS#12 reader lists them),
	// the HMAC-Streebog-512 MAC keyed by PBKDF2 with its own 32-byte salt.
	// The key bag is a PKCS#8 key without masks. OpenSSL's gost engine 3.0
	// cannot decrypt the key of such a file (it lacks the OMAC PBES2).
	FormatRFC9548 Format = "rfc9548"
)

// Options for Encode. The zero value writes FormatOpenSSL with 2048
// iterations and crypto/rand.
type Options struct {
	Format       Format
	Iterations   int       // PBKDF2 and MAC iterations; 0 means 2048 (openssl) or 2000 (rfc9548)
	FriendlyName string    // the key's friendlyName attribute, "" for none
	Rand         io.Reader // nil means crypto/rand.Reader
}

// Encode writes key and its certificates (DER; the key's own first) as a
// PFX under password (UTF-8).
func Encode(key *gost3410.PrivateKey, certificates [][]byte, password []byte, o Options) ([]byte, error) {
	if o.Format == "" {
		o.Format = FormatOpenSSL
	}
	var enc func(plain, password []byte, o Options) (pkix.AlgorithmIdentifier, []byte, error)
	macHash, macOID, macSaltSize, macParams := kdf.NewHMAC256, oidStreebog256, 8, asn1.NullRawValue
	encryptCerts := true
	switch o.Format {
	case FormatOpenSSL:
		enc = encrypt
		if o.Iterations == 0 {
			o.Iterations = 2048
		}
	case FormatRFC9548:
		enc = encryptRFC9548
		// RFC 9548 section 7: HMAC_GOSTR3411_2012_512, the digest
		// algorithm's parameters omitted; a salt of 8 to 32 bytes.
		macHash, macOID, macSaltSize, macParams = kdf.NewHMAC512, oidStreebog512, 32, asn1.RawValue{}
		encryptCerts = false
		if o.Iterations == 0 {
			o.Iterations = 2000
		}
	default:
		return nil, fmt.Errorf("%w: writing the %q form", ErrUnsupported, o.Format)
	}
	if o.Iterations < 1 || o.Iterations > MaxIterations {
		return nil, fmt.Errorf("pfx: %d iterations", o.Iterations)
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	pkcs8, err := gostkey.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	defer clear(pkcs8)
	spki, err := gostkey.MarshalPKIXPublicKey(key.PublicKey())
	if err != nil {
		return nil, err
	}
	keyID := sha1.Sum(spki)
	attrs, err := bagAttributes(keyID[:], o.FriendlyName)
	if err != nil {
		return nil, err
	}

	// The certificates: one safe of certBags, encrypted or not.
	var certBags []safeBag
	for i, c := range certificates {
		cb, err := asn1.Marshal(certBag{ID: oidX509Cert, Data: c})
		if err != nil {
			return nil, err
		}
		bag := safeBag{ID: oidCertBag, Value: asn1.RawValue{FullBytes: explicit0(cb)}}
		if i == 0 {
			bag.Attributes = attrs
		}
		certBags = append(certBags, bag)
	}
	var infos []contentInfo
	if len(certBags) > 0 {
		contents, err := asn1.Marshal(certBags)
		if err != nil {
			return nil, err
		}
		if encryptCerts {
			alg, encrypted, err := enc(contents, password, o)
			if err != nil {
				return nil, err
			}
			ed, err := asn1.Marshal(encryptedData{Version: 0, EncryptedContentInfo: encryptedContentInfo{
				ContentType: oidData, ContentEncryptionAlgorithm: alg, EncryptedContent: encrypted}})
			if err != nil {
				return nil, err
			}
			infos = append(infos, contentInfo{ContentType: oidEncryptedData, Content: asn1.RawValue{FullBytes: explicit0(ed)}})
		} else {
			safe, err := asn1.Marshal(contents)
			if err != nil {
				return nil, err
			}
			infos = append(infos, contentInfo{ContentType: oidData, Content: asn1.RawValue{FullBytes: explicit0(safe)}})
		}
	}

	// The key: a shrouded key bag in a plain data safe.
	alg, encrypted, err := enc(pkcs8, password, o)
	if err != nil {
		return nil, err
	}
	epki, err := asn1.Marshal(encryptedPrivateKeyInfo{Algorithm: alg, EncryptedData: encrypted})
	if err != nil {
		return nil, err
	}
	keyBags, err := asn1.Marshal([]safeBag{{ID: oidShroudedKeyBag, Value: asn1.RawValue{FullBytes: explicit0(epki)}, Attributes: attrs}})
	if err != nil {
		return nil, err
	}
	keySafe, err := asn1.Marshal(keyBags)
	if err != nil {
		return nil, err
	}
	infos = append(infos, contentInfo{ContentType: oidData, Content: asn1.RawValue{FullBytes: explicit0(keySafe)}})

	authSafe, err := asn1.Marshal(infos)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, macSaltSize)
	if _, err := io.ReadFull(o.Rand, salt); err != nil {
		return nil, err
	}
	mk, err := macKey(macHash, password, salt, o.Iterations)
	if err != nil {
		return nil, err
	}
	h := macHash(mk)
	h.Write(authSafe)
	authOctets, err := asn1.Marshal(authSafe)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(pfxPDU{
		Version:  3,
		AuthSafe: contentInfo{ContentType: oidData, Content: asn1.RawValue{FullBytes: explicit0(authOctets)}},
		MacData: macData{
			Mac:        digestInfo{Algorithm: pkix.AlgorithmIdentifier{Algorithm: macOID, Parameters: macParams}, Digest: h.Sum(nil)},
			MacSalt:    salt,
			Iterations: o.Iterations,
		},
	})
}

// explicit0 wraps DER in a [0] EXPLICIT tag.
func explicit0(der []byte) []byte {
	b, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der})
	return b
}

func bagAttributes(keyID []byte, name string) ([]attribute, error) {
	id, err := asn1.Marshal(keyID)
	if err != nil {
		return nil, err
	}
	attrs := []attribute{{ID: oidLocalKeyID, Value: asn1.RawValue{Tag: 17, IsCompound: true, Class: asn1.ClassUniversal, Bytes: id}}}
	if name != "" {
		u := utf16.Encode([]rune(name))
		b := make([]byte, 2*len(u))
		for i, c := range u {
			b[2*i], b[2*i+1] = byte(c>>8), byte(c)
		}
		bmp, err := asn1.Marshal(asn1.RawValue{Tag: 30, Class: asn1.ClassUniversal, Bytes: b})
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, attribute{ID: oidFriendlyName, Value: asn1.RawValue{Tag: 17, IsCompound: true, Class: asn1.ClassUniversal, Bytes: bmp}})
	}
	return attrs, nil
}

// encrypt is PBES2 with PBKDF2-HMAC-Streebog-512 and GOST 28147-89 CFB
// (tc26-Z, key meshing), as the gost engine's gost89 PBE writes it.
func encrypt(plain, password []byte, o Options) (pkix.AlgorithmIdentifier, []byte, error) {
	salt, iv := make([]byte, 8), make([]byte, 8)
	if _, err := io.ReadFull(o.Rand, salt); err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	if _, err := io.ReadFull(o.Rand, iv); err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	key, err := kdf.PBKDF2(kdf.NewHMAC512, password, salt, o.Iterations, 32)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	defer clear(key)
	blk, err := gost28147.NewCipher(key, gost28147.TC26Z)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	stream, err := gost28147.NewCFBEncrypter(blk, iv, true)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	out := make([]byte, len(plain))
	stream.XORKeyStream(out, plain)

	kdfParams, err := asn1.Marshal(pbkdf2Params{Salt: salt, Iterations: o.Iterations,
		PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACStreebog512, Parameters: asn1.NullRawValue}})
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	encParams, err := asn1.Marshal(gost28147Params{IV: iv, ParamSet: gost28147.TC26Z.OID})
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	p, err := asn1.Marshal(pbes2Params{
		KDF:        pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
		Encryption: pkix.AlgorithmIdentifier{Algorithm: oidGOST28147, Parameters: asn1.RawValue{FullBytes: encParams}},
	})
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	return pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: p}}, out, nil
}

// encryptRFC9548 is PBES2 as RFC 9337 section 5.1.1 describes it, with
// Kuznyechik in CTR-ACPKM-OMAC: DK = PBKDF2-HMAC-Streebog-512(P, S, c, 32)
// with a 32-byte random S, a random 16-byte ukm, K(1) || K(2) =
// KDF_TREE(DK, "kdf tree", ukm[8:16], R = 1), and the text followed by its
// OMAC under K(2), encrypted in CTR-ACPKM under K(1) with the IV ukm[0:8].
func encryptRFC9548(plain, password []byte, o Options) (pkix.AlgorithmIdentifier, []byte, error) {
	return encryptOMAC(oidKuzCTRACPKMOMAC, 0, plain, password, o)
}

// encryptOMAC is PBES2 with the CTR-ACPKM-OMAC scheme oid (Kuznyechik or
// Magma), its ACPKM sections section bytes long (0: the reader's first).
func encryptOMAC(oid asn1.ObjectIdentifier, section int, plain, password []byte, o Options) (pkix.AlgorithmIdentifier, []byte, error) {
	s := schemeOf(oid)
	if section == 0 {
		section = s.section
	}
	salt, ukm := make([]byte, 32), make([]byte, s.bs/2+8)
	if _, err := io.ReadFull(o.Rand, salt); err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	if _, err := io.ReadFull(o.Rand, ukm); err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	dk, err := kdf.PBKDF2(kdf.NewHMAC512, password, salt, o.Iterations, 32)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	defer clear(dk)
	kEnc, kMAC, err := omacKeys(dk, ukm)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	defer clear(kEnc)
	defer clear(kMAC)
	tag, err := omacOf(s, kMAC, plain)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	stream, err := mode.NewCTRACPKM(s.newBlock, kEnc, ukm[:s.bs/2], section)
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	out := append(append(make([]byte, 0, len(plain)+len(tag)), plain...), tag...)
	stream.XORKeyStream(out, out)

	kdfParams, err := asn1.Marshal(pbkdf2Params{Salt: salt, Iterations: o.Iterations,
		PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACStreebog512, Parameters: asn1.NullRawValue}})
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	encParams, err := asn1.Marshal(struct{ UKM []byte }{ukm})
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	p, err := asn1.Marshal(pbes2Params{
		KDF:        pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
		Encryption: pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.RawValue{FullBytes: encParams}},
	})
	if err != nil {
		return pkix.AlgorithmIdentifier{}, nil, err
	}
	return pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: p}}, out, nil
}
