package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gost341194"
	"github.com/kepkit/kep/gost/streebog"
)

// Digest is a hash algorithm as CMS and X.509 name it.
type Digest struct {
	Name string
	OID  asn1.ObjectIdentifier
	Size int
	New  func() hash.Hash
	// Hash is the crypto.Hash passed to RSA and ECDSA signers; 0 for Streebog,
	// which crypto.Hash does not know (GOST signers select by digest length).
	Hash crypto.Hash
	// VerifyOnly marks a digest kep reads in old signatures but never signs
	// with (GOST R 34.11-94): DigestByName does not offer it.
	VerifyOnly bool
}

// Sum returns the digest of data.
func (d *Digest) Sum(data []byte) []byte {
	h := d.New()
	h.Write(data)
	return h.Sum(nil)
}

// The digest algorithms kep reads and writes.
var (
	Streebog256 = &Digest{"streebog256", asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 2}, 32, streebog.New256, 0, false}
	Streebog512 = &Digest{"streebog512", asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 3}, 64, streebog.New512, 0, false}
	SHA1        = &Digest{"sha1", asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, 20, sha1.New, crypto.SHA1, false}
	SHA224      = &Digest{"sha224", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}, 28, sha256.New224, crypto.SHA224, false}
	SHA256      = &Digest{"sha256", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, 32, sha256.New, crypto.SHA256, false}
	SHA384      = &Digest{"sha384", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, 48, sha512.New384, crypto.SHA384, false}
	SHA512      = &Digest{"sha512", asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, 64, sha512.New, crypto.SHA512, false}
	// GOST341194 is GOST R 34.11-94 with the CryptoPro parameter set
	// (id-GostR3411-94, 1.2.643.2.2.9), the digest of GOST R 34.10-2001
	// signatures: verification only.
	GOST341194 = &Digest{"gost3411-94", gost341194.OIDGOST341194, 32, gost341194.NewCryptoPro, 0, true}
)

var digests = []*Digest{Streebog256, Streebog512, SHA1, SHA224, SHA256, SHA384, SHA512, GOST341194}

// ErrUnsupportedAlgorithm is wrapped by errors about algorithms kep does not implement.
var ErrUnsupportedAlgorithm = errors.New("unsupported algorithm")

// DigestByOID returns the digest algorithm with the given OID.
func DigestByOID(oid asn1.ObjectIdentifier) (*Digest, error) {
	for _, d := range digests {
		if d.OID.Equal(oid) {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w: digest %v", ErrUnsupportedAlgorithm, oid)
}

// DigestByName returns the digest algorithm with the given name (e.g.
// "streebog256") for signing; verification-only digests are not offered.
func DigestByName(name string) (*Digest, error) {
	for _, d := range digests {
		if d.Name == name && !d.VerifyOnly {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w: digest %q", ErrUnsupportedAlgorithm, name)
}

// Signature and key algorithm OIDs.
var (
	OIDGOST2012256Key  = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 1}
	OIDGOST2012512Key  = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 1, 2}
	OIDGOST2012256Sig  = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 3, 2}
	OIDGOST2012512Sig  = asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 3, 3}
	OIDGOST2001Key     = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 19}
	OIDGOST2001Sig     = asn1.ObjectIdentifier{1, 2, 643, 2, 2, 3}
	OIDRSAEncryption   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	OIDSHA1WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	OIDSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	OIDSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	OIDSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	OIDSHA224WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}
	OIDRSAPSS          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	OIDMGF1            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	OIDECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	OIDECDSAWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	OIDECDSAWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}
	OIDECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	OIDECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	OIDECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	OIDEd25519         = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// sigAlgs maps signature algorithm OIDs that fix their digest.
var sigAlgs = []struct {
	oid    asn1.ObjectIdentifier
	digest *Digest
	family string // "gost", "rsa", "ecdsa"
}{
	{OIDGOST2012256Sig, Streebog256, "gost"},
	{OIDGOST2012512Sig, Streebog512, "gost"},
	{OIDGOST2001Sig, GOST341194, "gost2001"},
	{OIDSHA1WithRSA, SHA1, "rsa"},
	{OIDSHA224WithRSA, SHA224, "rsa"},
	{OIDSHA256WithRSA, SHA256, "rsa"},
	{OIDSHA384WithRSA, SHA384, "rsa"},
	{OIDSHA512WithRSA, SHA512, "rsa"},
	{OIDECDSAWithSHA1, SHA1, "ecdsa"},
	{OIDECDSAWithSHA224, SHA224, "ecdsa"},
	{OIDECDSAWithSHA256, SHA256, "ecdsa"},
	{OIDECDSAWithSHA384, SHA384, "ecdsa"},
	{OIDECDSAWithSHA512, SHA512, "ecdsa"},
}

// Errors of signature verification.
var (
	ErrSignatureInvalid  = errors.New("signature does not verify")
	ErrAlgorithmMismatch = errors.New("signature algorithm does not fit the key or the digest")
)

// VerifyDigest checks that sig is a signature of digest (computed with d) by
// pub under the signature algorithm sigAlg. sigAlg may name the signature
// (e.g. 1.2.643.7.1.1.3.2, sha256WithRSAEncryption) or, as CMS signers often
// do, only the key algorithm (1.2.643.7.1.1.1.1, rsaEncryption,
// id-ecPublicKey). GOST signatures are s || r big-endian; ECDSA signatures are
// DER Ecdsa-Sig-Value. The error wraps ErrSignatureInvalid,
// ErrAlgorithmMismatch or ErrUnsupportedAlgorithm.
func VerifyDigest(pub crypto.PublicKey, sigAlg pkix.AlgorithmIdentifier, d *Digest, digest, sig []byte) error {
	family, fixed, err := signatureFamily(sigAlg.Algorithm)
	if err != nil {
		return err
	}
	if fixed != nil && fixed != d {
		return fmt.Errorf("%w: %v implies %s, the digest is %s", ErrAlgorithmMismatch, sigAlg.Algorithm, fixed.Name, d.Name)
	}
	if len(digest) != d.Size {
		return fmt.Errorf("%w: digest has %d bytes, %s has %d", ErrAlgorithmMismatch, len(digest), d.Name, d.Size)
	}
	switch family {
	case "gost":
		k, ok := pub.(*gost3410.PublicKey)
		if !ok {
			return fmt.Errorf("%w: a GOST signature needs a GOST key, not %T", ErrAlgorithmMismatch, pub)
		}
		if (k.Params().Size() == 32) != (d == Streebog256) || (k.Params().Size() == 64) != (d == Streebog512) {
			return fmt.Errorf("%w: %d-bit GOST key with %s", ErrAlgorithmMismatch, k.Params().BitSize(), d.Name)
		}
		if err := k.VerifyDigest(digest, sig); err != nil {
			return fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
		}
		return nil
	case "gost2001":
		// GOST R 34.10-2001: the 2012 equation on a 256-bit curve over the
		// GOST R 34.11-94 digest, with the same byte conventions (digest
		// read little-endian, signature s || r big-endian).
		k, ok := pub.(*gost3410.PublicKey)
		if !ok {
			return fmt.Errorf("%w: a GOST R 34.10-2001 signature needs a GOST key, not %T", ErrAlgorithmMismatch, pub)
		}
		if k.Params().Size() != 32 || d != GOST341194 {
			return fmt.Errorf("%w: GOST R 34.10-2001 with a %d-bit key and %s", ErrAlgorithmMismatch, k.Params().BitSize(), d.Name)
		}
		if err := k.VerifyDigest(digest, sig); err != nil {
			return fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
		}
		return nil
	case "rsa":
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: an RSA signature needs an RSA key, not %T", ErrAlgorithmMismatch, pub)
		}
		if d.Hash == 0 {
			return fmt.Errorf("%w: RSA with %s", ErrAlgorithmMismatch, d.Name)
		}
		if err := rsa.VerifyPKCS1v15(k, d.Hash, digest, sig); err != nil {
			return fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
		}
		return nil
	case "rsa-pss":
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: an RSA-PSS signature needs an RSA key, not %T", ErrAlgorithmMismatch, pub)
		}
		pss, err := parsePSSParams(sigAlg.Parameters.FullBytes)
		if err != nil {
			return err
		}
		if pss.hash != d {
			return fmt.Errorf("%w: RSA-PSS parameters name %s, the digest is %s", ErrAlgorithmMismatch, pss.hash.Name, d.Name)
		}
		if err := rsa.VerifyPSS(k, d.Hash, digest, sig, &rsa.PSSOptions{SaltLength: pss.saltLength, Hash: d.Hash}); err != nil {
			return fmt.Errorf("%w: %v", ErrSignatureInvalid, err)
		}
		return nil
	case "ecdsa":
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: an ECDSA signature needs an EC key, not %T", ErrAlgorithmMismatch, pub)
		}
		if !ecdsa.VerifyASN1(k, digest, sig) {
			return ErrSignatureInvalid
		}
		return nil
	}
	return fmt.Errorf("%w: signature %v", ErrUnsupportedAlgorithm, sigAlg.Algorithm)
}

// VerifyMessage hashes msg with the digest that sigAlg fixes (the X.509 case:
// certificates, CRLs, OCSP responses) and checks sig with VerifyDigest.
func VerifyMessage(pub crypto.PublicKey, sigAlg pkix.AlgorithmIdentifier, msg, sig []byte) error {
	if sigAlg.Algorithm.Equal(OIDEd25519) {
		k, ok := pub.(ed25519.PublicKey)
		if !ok {
			return fmt.Errorf("%w: Ed25519 signature with a %T key", ErrAlgorithmMismatch, pub)
		}
		if !ed25519.Verify(k, msg, sig) {
			return ErrSignatureInvalid
		}
		return nil
	}
	d, err := MessageDigestFor(sigAlg)
	if err != nil {
		return err
	}
	return VerifyDigest(pub, sigAlg, d, d.Sum(msg), sig)
}

// MessageDigestFor returns the digest a signature algorithm fixes.
func MessageDigestFor(sigAlg pkix.AlgorithmIdentifier) (*Digest, error) {
	family, fixed, err := signatureFamily(sigAlg.Algorithm)
	if err != nil {
		return nil, err
	}
	if fixed != nil {
		return fixed, nil
	}
	if family == "rsa-pss" {
		pss, err := parsePSSParams(sigAlg.Parameters.FullBytes)
		if err != nil {
			return nil, err
		}
		return pss.hash, nil
	}
	return nil, fmt.Errorf("%w: %v does not name its digest", ErrUnsupportedAlgorithm, sigAlg.Algorithm)
}

func signatureFamily(oid asn1.ObjectIdentifier) (family string, fixed *Digest, err error) {
	for _, a := range sigAlgs {
		if a.oid.Equal(oid) {
			return a.family, a.digest, nil
		}
	}
	switch {
	case oid.Equal(OIDGOST2012256Key), oid.Equal(OIDGOST2012512Key):
		return "gost", nil, nil
	case oid.Equal(OIDRSAEncryption):
		return "rsa", nil, nil
	case oid.Equal(OIDRSAPSS):
		return "rsa-pss", nil, nil
	case oid.Equal(OIDECPublicKey):
		return "ecdsa", nil, nil
	case oid.Equal(OIDGOST2001Key):
		// CMS signers name the key algorithm; the digest is GOST R 34.11-94.
		return "gost2001", GOST341194, nil
	}
	return "", nil, fmt.Errorf("%w: signature %v", ErrUnsupportedAlgorithm, oid)
}

type pssParams struct {
	hash       *Digest
	saltLength int
}

// parsePSSParams reads RSASSA-PSS-params (RFC 4055). Absent fields take the
// defaults SHA-1, MGF1 with SHA-1, salt 20; the MGF1 hash must equal the hash.
func parsePSSParams(der []byte) (*pssParams, error) {
	p := &pssParams{hash: SHA1, saltLength: 20}
	bad := fmt.Errorf("%w: malformed RSASSA-PSS parameters", ErrAlgorithmMismatch)
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, bad
	}
	mgfHash := SHA1
	var field cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&field, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, bad
	}
	if present {
		d, err := readDigestAlgID(&field)
		if err != nil {
			return nil, err
		}
		p.hash = d
	}
	if !seq.ReadOptionalASN1(&field, &present, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, bad
	}
	if present {
		var alg cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !field.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(OIDMGF1) {
			return nil, bad
		}
		d, err := readDigestAlgID(&alg)
		if err != nil {
			return nil, err
		}
		mgfHash = d
	}
	if !seq.ReadOptionalASN1(&field, &present, cbasn1.Tag(2).Constructed().ContextSpecific()) {
		return nil, bad
	}
	if present {
		var salt int
		if !field.ReadASN1Integer(&salt) || salt < 0 {
			return nil, bad
		}
		p.saltLength = salt
	}
	if mgfHash != p.hash {
		return nil, fmt.Errorf("%w: RSA-PSS with MGF1 hash %s differing from %s", ErrUnsupportedAlgorithm, mgfHash.Name, p.hash.Name)
	}
	if p.hash.Hash == 0 {
		return nil, fmt.Errorf("%w: RSA-PSS with %s", ErrUnsupportedAlgorithm, p.hash.Name)
	}
	return p, nil
}

func readDigestAlgID(s *cryptobyte.String) (*Digest, error) {
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, fmt.Errorf("%w: malformed AlgorithmIdentifier", ErrAlgorithmMismatch)
	}
	return DigestByOID(oid)
}

// SignatureAlgorithmFor returns the AlgorithmIdentifier kep writes for a
// signature by pub with digest d: the GOST signature OIDs, sha*WithRSAEncryption
// (PKCS#1 v1.5) and ecdsa-with-SHA*.
func SignatureAlgorithmFor(pub crypto.PublicKey, d *Digest) (pkix.AlgorithmIdentifier, error) {
	var family string
	switch k := pub.(type) {
	case *gost3410.PublicKey:
		family = "gost"
		if want := map[int]*Digest{32: Streebog256, 64: Streebog512}[k.Params().Size()]; want != d {
			return pkix.AlgorithmIdentifier{}, fmt.Errorf("%w: a %d-bit GOST key signs with %s, not %s", ErrAlgorithmMismatch, k.Params().BitSize(), want.Name, d.Name)
		}
	case *rsa.PublicKey:
		family = "rsa"
	case *ecdsa.PublicKey:
		family = "ecdsa"
	default:
		return pkix.AlgorithmIdentifier{}, fmt.Errorf("%w: key type %T", ErrUnsupportedAlgorithm, pub)
	}
	for _, a := range sigAlgs {
		if a.family == family && a.digest == d {
			id := pkix.AlgorithmIdentifier{Algorithm: a.oid}
			if family == "rsa" {
				id.Parameters = asn1.NullRawValue
			}
			return id, nil
		}
	}
	return pkix.AlgorithmIdentifier{}, fmt.Errorf("%w: %s with %s", ErrUnsupportedAlgorithm, family, d.Name)
}

// DefaultDigestFor returns the digest kep signs with for pub: Streebog of the
// key's size for GOST, SHA-256 otherwise.
func DefaultDigestFor(pub crypto.PublicKey) *Digest {
	if k, ok := pub.(*gost3410.PublicKey); ok && k.Params().Size() == 64 {
		return Streebog512
	} else if ok {
		return Streebog256
	}
	return SHA256
}

// SignDigest asks signer for a signature of digest (computed with d) in the
// wire form VerifyDigest reads. GOST signers get crypto.Hash(0) as options:
// the digest length selects the algorithm.
func SignDigest(signer crypto.Signer, rand io.Reader, d *Digest, digest []byte) ([]byte, error) {
	var opts crypto.SignerOpts = d.Hash
	if _, isGOST := signer.Public().(*gost3410.PublicKey); !isGOST && d.Hash == 0 {
		return nil, fmt.Errorf("%w: %T cannot sign with %s", ErrAlgorithmMismatch, signer.Public(), d.Name)
	}
	return signer.Sign(rand, digest, opts)
}
