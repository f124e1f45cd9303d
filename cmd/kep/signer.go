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
	"github.com/kepkit/kep/pkcs11/soft"
)

// signerSource says where the signing key is: key and certificate files, a
// PKCS#11 token, or the software token.
type signerSource struct {
	keyFile, cert string // with keyFile: cert is a file; with module or softDir: an ID or thumbprint
	module, token string
	softDir       string
	pinFile       string
	cryptopro     string // a CryptoPro container used in place (see keyfiles.go)
	passwordFile  string // its password
}

// open returns the signer, its certificate, the further certificates found
// with it, and a function that releases the token.
func (s signerSource) open(ctx context.Context, stderr io.Writer) (crypto.Signer, *certs.Certificate, []*certs.Certificate, func(), error) {
	switch {
	case s.keyFile != "" && (s.module != "" || s.softDir != ""), s.module != "" && s.softDir != "",
		s.cryptopro != "" && (s.keyFile != "" || s.module != "" || s.softDir != ""):
		return nil, nil, nil, nil, usageErr("give one of --key, --module, --soft or --cryptopro")
	case s.cryptopro != "":
		return s.openCryptoPro(stderr)
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
		list, err := certs.ReadCertificateFiles([]string{s.cert})
		if err != nil {
			return nil, nil, nil, nil, usageErr("%v", err)
		}
		return signer, list[0], list[1:], func() {}, nil
	case s.module != "":
		return s.openToken(ctx, stderr)
	case s.softDir != "":
		return s.openSoft(stderr)
	}
	msg := "say where the key is: --key KEY.pem --cert CERT.pem, --module LIB --cert ID|THUMBPRINT (see kep tokens), or --soft DIR --cert ID|THUMBPRINT (the software token; see kep certs list --soft DIR)"
	for _, m := range demoManifests() {
		msg += fmt.Sprintf("; the demo's software token is --soft %s", m.Path(m.Token))
		break
	}
	return nil, nil, nil, nil, usageErr("%s", msg)
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

func (s signerSource) openSoft(stderr io.Writer) (crypto.Signer, *certs.Certificate, []*certs.Certificate, func(), error) {
	if s.cert == "" {
		return nil, nil, nil, nil, usageErr("--cert ID|THUMBPRINT is required with --soft (see kep soft list)")
	}
	tok, err := soft.Open(s.softDir)
	if err != nil {
		return nil, nil, nil, nil, &exitError{code: exitFail, err: softHint(s.softDir, err)}
	}
	fail := func(err error) (crypto.Signer, *certs.Certificate, []*certs.Certificate, func(), error) {
		tok.Close()
		return nil, nil, nil, nil, &exitError{code: exitFail, err: err}
	}
	objs, err := tok.Objects()
	if err != nil {
		return fail(err)
	}
	want := normalizeSelector(s.cert)
	for _, o := range objs {
		if o.Certificate == nil || (strings.ToUpper(hex.EncodeToString(o.ID)) != want && o.Certificate.Thumbprint() != want) {
			continue
		}
		info, err := tok.Info()
		if err != nil {
			return fail(err)
		}
		switch {
		case info.PINLocked:
			return fail(pkcs11.ErrPINLocked)
		case info.PINFinalTry:
			fmt.Fprintln(stderr, "WARNING: one more wrong PIN locks the token.")
		}
		pin, err := readPIN(s.pinFile, stderr, "PIN for software token "+info.Label+": ")
		if err != nil {
			tok.Close()
			return nil, nil, nil, nil, usageErr("%v", err)
		}
		if err := tok.Login(pin); err != nil {
			return fail(err)
		}
		key, err := tok.Signer(o.ID)
		if err != nil {
			return fail(err)
		}
		return key, o.Certificate, o.Chain, func() { tok.Close() }, nil
	}
	return fail(fmt.Errorf("no certificate with id or thumbprint %s in %s (see kep soft list)", s.cert, s.softDir))
}

func normalizeSelector(sel string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", ":", "").Replace(sel))
}

// findIdentity selects the certificate whose CKA_ID (hex) or SHA-1
// thumbprint is sel, logging in when the token hides its private keys.
func findIdentity(ctx context.Context, tok *pkcs11.Token, sel string) (*pkcs11.Identity, error) {
	want := normalizeSelector(sel)
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
