package certs

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/kepkit/kep/gost/gostkey"
)

// ParsePrivateKey reads a private key as OpenSSL writes it: PKCS#8 (GOST,
// RSA, ECDSA, Ed25519; what `openssl genpkey` produces), PKCS#1 "RSA PRIVATE
// KEY" or SEC 1 "EC PRIVATE KEY", in PEM or DER. Encrypted PEM is refused with
// a hint to decrypt it with openssl first.
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	der := data
	if block, _ := pem.Decode(data); block != nil {
		if block.Headers["Proc-Type"] != "" || block.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("certs: the private key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)")
		}
		der = block.Bytes
		switch block.Type {
		case "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(der)
		case "EC PRIVATE KEY":
			return x509.ParseECPrivateKey(der)
		case "PRIVATE KEY":
		default:
			return nil, fmt.Errorf("certs: PEM block %q is not a private key", block.Type)
		}
	}
	info, gerr := gostkey.ParsePKCS8PrivateKey(der)
	if gerr == nil {
		if info.Algorithm == gostkey.GOST2001 {
			return nil, fmt.Errorf("%w: a GOST R 34.10-2001 key cannot sign (its use for signing ended on 31.12.2019); kep only verifies old 2001 signatures", ErrUnsupportedAlgorithm)
		}
		return info.Key, nil
	}
	if !errors.Is(gerr, gostkey.ErrNotGOST) {
		return nil, fmt.Errorf("certs: GOST private key: %w", gerr)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("certs: not a PKCS#8 private key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("certs: %T keys cannot sign", k)
	}
	return signer, nil
}
