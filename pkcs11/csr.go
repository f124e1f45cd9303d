package pkcs11

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
)

var oidExtensionRequest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 14}

// CreateCertificateRequest returns a DER PKCS#10 certificate request signed
// by signer: a *Key on a token, or any crypto.Signer.
//
// RSA and ECDSA keys go to x509.CreateCertificateRequest unchanged. GOST
// R 34.10-2012 keys, which crypto/x509 cannot sign with, get a request
// built here: the SubjectPublicKeyInfo of gostkey.MarshalPKIXPublicKey,
// signature algorithm id-tc26-signwithdigest-gost3410-12-256 or -512
// (1.2.643.7.1.1.3.2 / 3, no parameters), and the signature value s || r
// over the DER CertificationRequestInfo (hashed on the token when the
// signer is a crypto.MessageSigner such as *Key, else on the host). Of the
// template only Subject (or RawSubject) and ExtraExtensions (as an
// extensionRequest attribute) are used for GOST keys; a template that sets
// the other fields is refused rather than silently trimmed. rand is passed
// to the signer.
func CreateCertificateRequest(rand io.Reader, template *x509.CertificateRequest, signer crypto.Signer) ([]byte, error) {
	pub, ok := signer.Public().(*gost3410.PublicKey)
	if !ok {
		return x509.CreateCertificateRequest(rand, template, signer)
	}
	//lint:ignore SA1019 read only to refuse it: the GOST request writes no other attributes
	legacyAttrs := len(template.Attributes) > 0
	if template.SignatureAlgorithm != x509.UnknownSignatureAlgorithm || len(template.DNSNames) > 0 ||
		len(template.EmailAddresses) > 0 || len(template.IPAddresses) > 0 || len(template.URIs) > 0 ||
		len(template.Extensions) > 0 || legacyAttrs {
		return nil, fmt.Errorf("pkcs11: a GOST certificate request takes Subject, RawSubject and ExtraExtensions only (put subjectAltName into ExtraExtensions)")
	}
	subject := template.RawSubject
	if len(subject) == 0 {
		var err error
		if subject, err = asn1.Marshal(template.Subject.ToRDNSequence()); err != nil {
			return nil, fmt.Errorf("pkcs11: subject: %w", err)
		}
	}
	spki, err := gostkey.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var exts []byte
	if len(template.ExtraExtensions) > 0 {
		if exts, err = asn1.Marshal(template.ExtraExtensions); err != nil {
			return nil, fmt.Errorf("pkcs11: extensions: %w", err)
		}
	}
	var info cryptobyte.Builder
	info.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddBytes(subject)
		b.AddBytes(spki)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			if exts == nil {
				return
			}
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidExtensionRequest)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(exts) })
			})
		})
	})
	tbs, err := info.Bytes()
	if err != nil {
		return nil, fmt.Errorf("pkcs11: CertificationRequestInfo: %w", err)
	}
	ps := pub.Params()
	digest := streebogSum(ps, tbs)
	var sig []byte
	if ms, ok := signer.(crypto.MessageSigner); ok {
		sig, err = ms.SignMessage(rand, tbs, crypto.Hash(0))
	} else {
		sig, err = signer.Sign(rand, digest, crypto.Hash(0))
	}
	if err != nil {
		return nil, err
	}
	if err := pub.VerifyDigest(digest, sig); err != nil {
		return nil, fmt.Errorf("pkcs11: the request's signature does not verify: %w", err)
	}
	sigAlg := certs.OIDGOST2012256Sig
	if ps.Size() == 64 {
		sigAlg = certs.OIDGOST2012512Sig
	}
	var req cryptobyte.Builder
	req.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(sigAlg) })
		b.AddASN1BitString(sig)
	})
	return req.Bytes()
}
