package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
)

// CreateCertificate issues a certificate as x509.CreateCertificate does, for
// GOST R 34.10-2012 keys too: pub (the subject's key) and signer (the
// issuer's key) may be GOST keys, signed with Streebog of the key's size.
// template and parent are crypto/x509 templates (parent == template for a
// self-signed certificate); parent.PublicKey is not used. SubjectKeyId is
// computed when the template has none (SHA-1 of the public key bits, RFC
// 5280 method 1) and the authority key identifier is parent.SubjectKeyId.
//
// crypto/x509 encodes everything but the key and the signature; those two
// are put in afterwards and the TBSCertificate signed again.
func CreateCertificate(rand io.Reader, template, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) ([]byte, error) {
	spki, err := MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	tmpl := *template
	if len(tmpl.SubjectKeyId) == 0 {
		tmpl.SubjectKeyId = keyID(spki)
	}
	par := *parent
	if parent == template {
		par = tmpl
	}
	_, gostPub := pub.(*gost3410.PublicKey)
	_, gostSigner := signer.Public().(*gost3410.PublicKey)
	if !gostPub && !gostSigner {
		return x509.CreateCertificate(rand, &tmpl, &par, pub, signer)
	}
	// Stand-ins that crypto/x509 can handle; replaced below.
	stand, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, err
	}
	par.PublicKey = stand.Public()
	if len(par.SubjectKeyId) == 0 {
		par.SubjectKeyId = tmpl.SubjectKeyId // self-signed
	}
	der, err := x509.CreateCertificate(rand, &tmpl, &par, stand.Public(), stand)
	if err != nil {
		return nil, err
	}
	d, algDER, err := signerAlgorithm(signer)
	if err != nil {
		return nil, err
	}
	tbs, err := rewriteTBS(der, algDER, spki)
	if err != nil {
		return nil, err
	}
	return signTBS(rand, tbs, algDER, d, signer)
}

// CreateCRL issues a CRL as x509.CreateRevocationList does, for a GOST
// issuer key too. issuer must allow CRL signing; its PublicKey is not used.
func CreateCRL(rand io.Reader, template *x509.RevocationList, issuer *x509.Certificate, signer crypto.Signer) ([]byte, error) {
	if _, gost := signer.Public().(*gost3410.PublicKey); !gost {
		return x509.CreateRevocationList(rand, template, issuer, signer)
	}
	stand, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, err
	}
	iss := *issuer
	iss.PublicKey = stand.Public()
	der, err := x509.CreateRevocationList(rand, template, &iss, stand)
	if err != nil {
		return nil, err
	}
	d, algDER, err := signerAlgorithm(signer)
	if err != nil {
		return nil, err
	}
	// TBSCertList: version INTEGER OPTIONAL, signature AlgorithmIdentifier, …
	outer := cryptobyte.String(der)
	var list, tbs cryptobyte.String
	if !outer.ReadASN1(&list, cbasn1.SEQUENCE) || !list.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errors.New("certs: CreateCRL: unexpected encoding")
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		var v cryptobyte.String
		if tbs.PeekASN1Tag(cbasn1.INTEGER) {
			tbs.ReadASN1Element(&v, cbasn1.INTEGER)
			b.AddBytes(v)
		}
		var skip cryptobyte.String
		tbs.ReadASN1Element(&skip, cbasn1.SEQUENCE)
		b.AddBytes(algDER)
		b.AddBytes(tbs)
	})
	newTBS, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	return signTBS(rand, newTBS, algDER, d, signer)
}

// signerAlgorithm is the digest and the DER AlgorithmIdentifier kep signs
// certificates and CRLs with for signer's key.
func signerAlgorithm(signer crypto.Signer) (*Digest, []byte, error) {
	d := DefaultDigestFor(signer.Public())
	alg, err := SignatureAlgorithmFor(signer.Public(), d)
	if err != nil {
		return nil, nil, err
	}
	algDER, err := asn1.Marshal(alg)
	return d, algDER, err
}

// MarshalPKIXPublicKey encodes pub as a SubjectPublicKeyInfo: GOST keys as
// gostkey writes them, others as crypto/x509 does.
func MarshalPKIXPublicKey(pub crypto.PublicKey) ([]byte, error) {
	if g, ok := pub.(*gost3410.PublicKey); ok {
		return gostkey.MarshalPKIXPublicKey(g)
	}
	return x509.MarshalPKIXPublicKey(pub)
}

// keyID is the SHA-1 of the subjectPublicKey bits.
func keyID(spki []byte) []byte {
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		Key       asn1.BitString
	}
	if _, err := asn1.Unmarshal(spki, &info); err != nil {
		return nil
	}
	sum := sha1.Sum(info.Key.Bytes)
	return sum[:]
}

// rewriteTBS returns the TBSCertificate of cert with its signature algorithm
// and SubjectPublicKeyInfo replaced.
func rewriteTBS(cert, algDER, spki []byte) ([]byte, error) {
	in := cryptobyte.String(cert)
	var c, tbs cryptobyte.String
	if !in.ReadASN1(&c, cbasn1.SEQUENCE) || !c.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, errors.New("certs: CreateCertificate: unexpected encoding")
	}
	var b cryptobyte.Builder
	var failed bool
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		var version, serial, alg, issuer, validity, subject, oldKey cryptobyte.String
		if tbs.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
			tbs.ReadASN1Element(&version, cbasn1.Tag(0).Constructed().ContextSpecific())
		}
		if !tbs.ReadASN1Element(&serial, cbasn1.INTEGER) || !tbs.ReadASN1Element(&alg, cbasn1.SEQUENCE) ||
			!tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !tbs.ReadASN1Element(&validity, cbasn1.SEQUENCE) ||
			!tbs.ReadASN1Element(&subject, cbasn1.SEQUENCE) || !tbs.ReadASN1Element(&oldKey, cbasn1.SEQUENCE) {
			failed = true
			return
		}
		b.AddBytes(version)
		b.AddBytes(serial)
		b.AddBytes(algDER)
		b.AddBytes(issuer)
		b.AddBytes(validity)
		b.AddBytes(subject)
		b.AddBytes(spki)
		b.AddBytes(tbs) // unique identifiers and extensions, as encoded
	})
	if failed {
		return nil, errors.New("certs: CreateCertificate: unexpected TBSCertificate")
	}
	return b.Bytes()
}

// signTBS signs tbs and wraps it with the algorithm and the signature.
func signTBS(rand io.Reader, tbs, algDER []byte, d *Digest, signer crypto.Signer) ([]byte, error) {
	sig, err := SignDigest(signer, rand, d, d.Sum(tbs))
	if err != nil {
		return nil, fmt.Errorf("certs: signing: %w", err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddBytes(algDER)
		b.AddASN1BitString(sig)
	})
	return b.Bytes()
}
