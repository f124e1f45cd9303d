package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/gost/gostkey"
)

// MaxInputSize bounds the size of a certificate or CRL file the parsers accept.
const MaxInputSize = 64 << 20

// ErrMalformed is wrapped by errors about input that is not a certificate or CRL.
var ErrMalformed = errors.New("certs: malformed input")

// Certificate is an X.509 certificate with what crypto/x509 leaves out for
// Russian qualified certificates: the GOST public key, a readable name of the
// key algorithm, the raw signature algorithm and the 63-FZ subject fields.
//
// The embedded *x509.Certificate is the structural parse; for GOST
// certificates its PublicKeyAlgorithm and SignatureAlgorithm are Unknown and
// its PublicKey is nil, which is why PublicKey here shadows it.
type Certificate struct {
	*x509.Certificate
	// PublicKey is a *gost3410.PublicKey for GOST keys (2012 and 2001), else
	// what crypto/x509 parsed (*rsa.PublicKey, *ecdsa.PublicKey,
	// ed25519.PublicKey); nil for algorithms neither knows.
	PublicKey crypto.PublicKey
	// KeyAlgorithm is a human name of the key, e.g.
	// "GOST R 34.10-2012 256 (cryptopro-a)", "RSA 2048", "ECDSA P-256".
	KeyAlgorithm string
	// SignatureAlgorithmID is the certificate's signatureAlgorithm exactly as
	// encoded (crypto/x509 drops the ones it does not know).
	SignatureAlgorithmID pkix.AlgorithmIdentifier
	// Qualified holds the fields of a qualified certificate (63-FZ,
	// FSB order 795) with the problems found in them.
	Qualified Qualified
	// Leniencies are the deviations from DER kep accepted while reading the
	// certificate (lenient.go); empty for a well-formed certificate.
	Leniencies []Leniency

	gost2001 bool // the key is GOST R 34.10-2001: verifies only 2001 signatures
}

// IsGOST2001 reports whether the certificate's key is a GOST R 34.10-2001
// key (1.2.643.2.2.19): kep verifies its old signatures and never signs with it.
func (c *Certificate) IsGOST2001() bool { return c.gost2001 }

// ParseCertificate parses one DER certificate.
func ParseCertificate(der []byte) (*Certificate, error) {
	if len(der) > MaxInputSize {
		return nil, fmt.Errorf("%w: certificate of %d bytes exceeds %d", ErrMalformed, len(der), MaxInputSize)
	}
	var lenient []Leniency
	xc, err := x509.ParseCertificate(der)
	if err != nil {
		var lerr error
		if xc, lenient, lerr = parseLenient(der); lerr != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	sigAlg, err := outerSignatureAlgorithm(xc.Raw)
	if err != nil {
		return nil, err
	}
	c := &Certificate{Certificate: xc, SignatureAlgorithmID: sigAlg, Leniencies: lenient}
	if err := c.parsePublicKey(); err != nil {
		return nil, err
	}
	c.Qualified = qualifiedFields(xc)
	return c, nil
}

// ParseCertificates parses every certificate in data: a PEM bundle
// (CERTIFICATE blocks; other blocks are skipped), one DER certificate, or one
// base64 certificate without PEM armour as Windows exports it.
func ParseCertificates(data []byte) ([]*Certificate, error) {
	if len(data) > MaxInputSize {
		return nil, fmt.Errorf("%w: input of %d bytes exceeds %d", ErrMalformed, len(data), MaxInputSize)
	}
	ders, err := decodeBlocks(data, "CERTIFICATE", "X509 CERTIFICATE")
	if err != nil {
		return nil, err
	}
	out := make([]*Certificate, 0, len(ders))
	for i, der := range ders {
		c, err := ParseCertificate(der)
		if err != nil {
			if len(ders) > 1 {
				return nil, fmt.Errorf("certificate %d: %w", i+1, err)
			}
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// decodeBlocks returns the DER values in data: the PEM blocks of the given
// types when data is PEM, else data itself (or its base64 decoding).
func decodeBlocks(data []byte, types ...string) ([][]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if bytes.Contains(trimmed, []byte("-----BEGIN ")) {
		var ders [][]byte
		var seen []string
		rest := trimmed
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			seen = append(seen, b.Type)
			for _, t := range types {
				if b.Type == t {
					ders = append(ders, b.Bytes)
				}
			}
		}
		if len(ders) == 0 {
			if len(seen) == 0 {
				return nil, fmt.Errorf("%w: PEM armour without a readable block", ErrMalformed)
			}
			return nil, fmt.Errorf("%w: no %s block among PEM blocks %v", ErrMalformed, types[0], seen)
		}
		return ders, nil
	}
	if len(trimmed) > 0 && trimmed[0] == 0x30 {
		return [][]byte{data}, nil
	}
	if dec, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(trimmed), nil))); err == nil && len(dec) > 0 && dec[0] == 0x30 {
		return [][]byte{dec}, nil
	}
	return nil, fmt.Errorf("%w: neither PEM, DER nor base64 DER", ErrMalformed)
}

// outerSignatureAlgorithm reads the signatureAlgorithm that follows the TBS
// part of a signed X.509 structure (certificate or CRL).
func outerSignatureAlgorithm(raw []byte) (pkix.AlgorithmIdentifier, error) {
	s := cryptobyte.String(raw)
	var outer, algDER cryptobyte.String
	if !s.ReadASN1(&outer, cbasn1.SEQUENCE) || !outer.SkipASN1(cbasn1.SEQUENCE) || !outer.ReadASN1Element(&algDER, cbasn1.SEQUENCE) {
		return pkix.AlgorithmIdentifier{}, fmt.Errorf("%w: cannot read signatureAlgorithm", ErrMalformed)
	}
	var id pkix.AlgorithmIdentifier
	if rest, err := asn1.Unmarshal(algDER, &id); err != nil || len(rest) != 0 {
		return pkix.AlgorithmIdentifier{}, fmt.Errorf("%w: malformed signatureAlgorithm", ErrMalformed)
	}
	return id, nil
}

// parsePublicKey fills PublicKey and KeyAlgorithm.
func (c *Certificate) parsePublicKey() error {
	switch k := c.Certificate.PublicKey.(type) {
	case *rsa.PublicKey:
		c.PublicKey, c.KeyAlgorithm = k, fmt.Sprintf("RSA %d", k.N.BitLen())
		return nil
	case *ecdsa.PublicKey:
		c.PublicKey, c.KeyAlgorithm = k, "ECDSA "+k.Curve.Params().Name
		return nil
	case ed25519.PublicKey:
		c.PublicKey, c.KeyAlgorithm = k, "Ed25519"
		return nil
	}
	s := cryptobyte.String(c.RawSubjectPublicKeyInfo)
	var spki, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	var bits asn1.BitString
	if !s.ReadASN1(&spki, cbasn1.SEQUENCE) || !spki.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&oid) || !spki.ReadASN1BitString(&bits) {
		return fmt.Errorf("%w: malformed SubjectPublicKeyInfo", ErrMalformed)
	}
	kind, err := gostkey.AlgorithmOf(oid)
	if err != nil {
		// A key algorithm neither crypto/x509 nor kep knows: keep the
		// certificate readable, its signatures fail as unsupported.
		c.KeyAlgorithm = oid.String()
		return nil
	}
	kp, err := gostkey.ParseAlgorithmParams(oid, alg)
	if err != nil {
		return fmt.Errorf("%w: %v key: %w", ErrMalformed, kind, err)
	}
	if kp.LegacyDigestParamSet {
		c.Leniencies = append(c.Leniencies, Leniency{Reason: LeniencyDigestParamSet94,
			Detail: "the GOST R 34.10-2012 256 key's digestParamSet names GOST R 34.11-94 (1.2.643.2.2.30.1, as Bouncy Castle writes); the key is read as a 2012 key with Streebog-256"})
	}
	if bits.BitLength%8 != 0 {
		return fmt.Errorf("%w: %v key BIT STRING has unused bits", ErrMalformed, kind)
	}
	pub, err := gostkey.ParsePublicKeyValue(kp.ParamSet, bits.Bytes)
	if err != nil {
		return fmt.Errorf("%w: %v key: %w", ErrMalformed, kind, err)
	}
	c.PublicKey = pub
	c.KeyAlgorithm = fmt.Sprintf("%v (%s)", kind, kp.ParamSet.Name)
	c.gost2001 = kind == gostkey.GOST2001
	return nil
}

// CheckSignatureFrom checks that parent's key made the certificate's
// signature. It checks the signature only: names, key usage and the CA flag
// are Verify's business, and the algorithm's acceptability at a time is
// CheckAlgorithm's (constraints.go).
func (c *Certificate) CheckSignatureFrom(parent *Certificate) error {
	return checkSignature(parent, c.SignatureAlgorithmID, c.RawTBSCertificate, c.Signature)
}

func checkSignature(signer *Certificate, alg pkix.AlgorithmIdentifier, tbs, sig []byte) error {
	if signer == nil || signer.Certificate == nil {
		return errors.New("certs: no signer certificate")
	}
	if err := signer.keyFits(alg); err != nil {
		return err
	}
	return VerifyMessage(signer.PublicKey, alg, tbs, sig)
}

// VerifyDigest checks sig over digest (made with d) by the certificate's key,
// as the package function VerifyDigest does, after checking that the key's
// algorithm fits sigAlg: a GOST R 34.10-2001 key verifies only 2001
// signatures and a 2012 key only 2012 ones, although the equation is the same.
func (c *Certificate) VerifyDigest(sigAlg pkix.AlgorithmIdentifier, d *Digest, digest, sig []byte) error {
	if err := c.keyFits(sigAlg); err != nil {
		return err
	}
	return VerifyDigest(c.PublicKey, sigAlg, d, digest, sig)
}

func (c *Certificate) keyFits(sigAlg pkix.AlgorithmIdentifier) error {
	if c.PublicKey == nil {
		return fmt.Errorf("%w: the signer's key algorithm %s", ErrUnsupportedAlgorithm, c.KeyAlgorithm)
	}
	family, _, err := signatureFamily(sigAlg.Algorithm)
	if err != nil {
		return err
	}
	if (family == "gost2001") != c.gost2001 && (family == "gost" || family == "gost2001") {
		return fmt.Errorf("%w: a %s key with the signature algorithm %v", ErrAlgorithmMismatch, c.KeyAlgorithm, sigAlg.Algorithm)
	}
	return nil
}

// Thumbprint returns the SHA-1 hash of the DER certificate in upper-case hex,
// as CryptoPro and Windows show it.
func (c *Certificate) Thumbprint() string {
	sum := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// SerialHex returns the serial number in lower-case hex, as OpenSSL and
// CryptoPro show it (an even number of digits).
func (c *Certificate) SerialHex() string {
	return serialHex(c.SerialNumber.Bytes())
}

func serialHex(b []byte) string {
	if len(b) == 0 {
		return "00"
	}
	return hex.EncodeToString(b)
}

// SignatureAlgorithmName returns a readable name of the certificate's
// signature algorithm.
func (c *Certificate) SignatureAlgorithmName() string {
	return signatureAlgorithmName(c.SignatureAlgorithmID.Algorithm)
}

func signatureAlgorithmName(oid asn1.ObjectIdentifier) string {
	switch {
	case oid.Equal(OIDGOST2012256Sig):
		return "GOST R 34.10-2012 256 with Streebog-256"
	case oid.Equal(OIDGOST2012512Sig):
		return "GOST R 34.10-2012 512 with Streebog-512"
	case oid.Equal(OIDGOST2001Sig):
		return "GOST R 34.10-2001 with GOST R 34.11-94"
	case oid.Equal(OIDRSAPSS):
		return "RSASSA-PSS"
	case oid.Equal(OIDEd25519):
		return "Ed25519"
	}
	for _, a := range sigAlgs {
		if a.oid.Equal(oid) {
			return a.digest.Name + "-" + a.family
		}
	}
	return oid.String()
}

// SubjectString returns the subject name in the RFC 4514 order with readable names
// for the Russian attributes (SNILS, INN, OGRN …).
func (c *Certificate) SubjectString() string { return formatName(c.Subject) }

// IssuerString returns the issuer name like SubjectString.
func (c *Certificate) IssuerString() string { return formatName(c.Issuer) }

// displayName is the short name used in check reports: the common name, or
// the whole subject when it has none.
func (c *Certificate) displayName() string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return c.SubjectString()
}

// certificateJSON is the JSON form of a Certificate.
type certificateJSON struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	Serial             string    `json:"serial"`
	Thumbprint         string    `json:"thumbprint"`
	NotBefore          time.Time `json:"notBefore"`
	NotAfter           time.Time `json:"notAfter"`
	KeyAlgorithm       string    `json:"keyAlgorithm"`
	SignatureAlgorithm string    `json:"signatureAlgorithm"`
	IsCA               bool      `json:"isCA"`
	Qualified          Qualified `json:"qualified"`
}

// MarshalJSON writes a summary of the certificate: names, serial, thumbprint,
// validity, algorithms and the qualified fields.
func (c *Certificate) MarshalJSON() ([]byte, error) {
	return json.Marshal(certificateJSON{
		Subject:            c.SubjectString(),
		Issuer:             c.IssuerString(),
		Serial:             c.SerialHex(),
		Thumbprint:         c.Thumbprint(),
		NotBefore:          c.NotBefore.UTC(),
		NotAfter:           c.NotAfter.UTC(),
		KeyAlgorithm:       c.KeyAlgorithm,
		SignatureAlgorithm: c.SignatureAlgorithmName(),
		IsCA:               c.BasicConstraintsValid && c.IsCA,
		Qualified:          c.Qualified,
	})
}
