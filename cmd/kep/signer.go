package main

import (
	"context"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11"
)

// signerSource says where the signing key is: key and certificate files, or a
// PKCS#11 token.
type signerSource struct {
	keyFile, cert string // with keyFile: cert is a file; with module: an ID or thumbprint
	module, token string
	pinFile       string
}

// open returns the signer, its certificate, the further certificates found
// with it, and a function that releases the token.
func (s signerSource) open(ctx context.Context, stderr io.Writer) (crypto.Signer, *certs.Certificate, []*certs.Certificate, func(), error) {
	switch {
	case s.keyFile != "" && s.module != "":
		return nil, nil, nil, nil, usageErr("give either --key or --module, not both")
	case s.keyFile != "":
		if s.cert == "" {
			return nil, nil, nil, nil, usageErr("--cert is required with --key")
		}
		keyPEM, err := os.ReadFile(s.keyFile)
		if err != nil {
			return nil, nil, nil, nil, usageErr("%v", err)
		}
		signer, err := certs.ParsePrivateKey(keyPEM)
		if err != nil {
			return nil, nil, nil, nil, usageErr("%s: %v", s.keyFile, err)
		}
		list, err := readCertFiles([]string{s.cert})
		if err != nil {
			return nil, nil, nil, nil, usageErr("%v", err)
		}
		return signer, list[0], list[1:], func() {}, nil
	case s.module != "":
		return s.openToken(ctx, stderr)
	}
	return nil, nil, nil, nil, usageErr("give --key and --cert, or --module with --cert ID|THUMBPRINT")
}

func (s signerSource) openToken(ctx context.Context, stderr io.Writer) (crypto.Signer, *certs.Certificate, []*certs.Certificate, func(), error) {
	if s.cert == "" {
		return nil, nil, nil, nil, usageErr("--cert ID|THUMBPRINT is required with --module (see kep tokens)")
	}
	m, err := pkcs11.Open(ctx, s.module)
	if err != nil {
		return nil, nil, nil, nil, &exitError{code: exitFail, err: err}
	}
	tok, err := m.OpenToken(ctx, pkcs11.Selector{Label: s.token}, pinUI(s.pinFile, stderr))
	if err != nil {
		m.Close()
		return nil, nil, nil, nil, &exitError{code: exitFail, err: err}
	}
	release := func() { tok.Close(); m.Close() }
	id, err := findIdentity(ctx, tok, s.cert)
	if err != nil {
		release()
		return nil, nil, nil, nil, &exitError{code: exitFail, err: err}
	}
	return id.Key, id.Certificate, nil, release, nil
}

// findIdentity selects the certificate whose CKA_ID (hex) or SHA-1
// thumbprint is sel, logging in when the token hides its private keys.
func findIdentity(ctx context.Context, tok *pkcs11.Token, sel string) (*pkcs11.Identity, error) {
	want := strings.ToUpper(strings.NewReplacer(" ", "", ":", "").Replace(sel))
	id, err := matchIdentity(ctx, tok, want)
	if err == nil && id.Key == nil && errors.Is(id.Err, pkcs11.ErrNotLoggedIn) {
		if err := tok.Login(ctx); err != nil {
			return nil, err
		}
		id, err = matchIdentity(ctx, tok, want)
	}
	if err != nil {
		return nil, err
	}
	if id.Key == nil {
		return nil, fmt.Errorf("certificate %s on the token cannot sign: %w", sel, id.Err)
	}
	return id, nil
}

func matchIdentity(ctx context.Context, tok *pkcs11.Token, want string) (*pkcs11.Identity, error) {
	ids, err := tok.Identities(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if id.Certificate != nil && (strings.ToUpper(hex.EncodeToString(id.ID)) == want || id.Certificate.Thumbprint() == want) {
			return id, nil
		}
	}
	return nil, fmt.Errorf("no certificate with CKA_ID or thumbprint %s on the token (see kep tokens)", want)
}
