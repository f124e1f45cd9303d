package main

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/atomicfile"
	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/soft"
)

// tokenTarget is a token chosen on the command line: a PKCS#11 module (and
// label) or the software token.
type tokenTarget struct {
	module, token, softDir, pinFile string
}

func (tt *tokenTarget) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&tt.module, "module", "", "PKCS#11 library of the token")
	cmd.Flags().StringVar(&tt.token, "token", "", "token label (may be omitted when one token is present)")
	cmd.Flags().StringVar(&tt.softDir, "soft", "", "software token directory")
	cmd.Flags().StringVar(&tt.pinFile, "pin-file", "", "file holding the PIN (else $KEP_PIN, else a prompt)")
}

func (tt *tokenTarget) check() error {
	if (tt.module == "") == (tt.softDir == "") {
		return usageErr("give --module or --soft")
	}
	return nil
}

// openPKCS11 opens the token with a PIN prompt.
func (tt *tokenTarget) openPKCS11(ctx context.Context, stderr io.Writer) (*pkcs11.Token, func(), error) {
	m, err := pkcs11.Open(ctx, tt.module)
	if err != nil {
		return nil, nil, &exitError{code: exitFail, err: err}
	}
	tok, err := m.OpenToken(ctx, pkcs11.Selector{Label: tt.token}, pinUI(tt.pinFile, stderr))
	if err != nil {
		m.Close()
		return nil, nil, &exitError{code: exitFail, err: err}
	}
	return tok, func() { tok.Close(); m.Close() }, nil
}

// openSoftLoggedIn opens the software token and logs in.
func (tt *tokenTarget) openSoftLoggedIn(stderr io.Writer) (*soft.Token, error) {
	tok, err := soft.Open(tt.softDir)
	if err != nil {
		return nil, &exitError{code: exitFail, err: softHint(tt.softDir, err)}
	}
	info, err := tok.Info()
	if err != nil {
		tok.Close()
		return nil, &exitError{code: exitFail, err: err}
	}
	if info.PINLocked {
		tok.Close()
		return nil, &exitError{code: exitFail, err: pkcs11.ErrPINLocked}
	}
	if info.PINFinalTry {
		fmt.Fprintln(stderr, "WARNING: one more wrong PIN locks the token.")
	}
	pin, err := readPIN(tt.pinFile, stderr, "PIN for software token "+info.Label+": ")
	if err != nil {
		tok.Close()
		return nil, usageErr("%v", err)
	}
	defer clear(pin)
	if err := tok.Login(pin); err != nil {
		tok.Close()
		return nil, &exitError{code: exitFail, err: err}
	}
	return tok, nil
}

// keyOptions maps --type (and --paramset) to pkcs11.KeyOptions.
func keyOptions(typ, paramSet, label, idHex string) (pkcs11.KeyOptions, error) {
	opts := pkcs11.KeyOptions{Label: label}
	if idHex != "" {
		id, err := hex.DecodeString(idHex)
		if err != nil || len(id) == 0 {
			return opts, usageErr("--id must be hexadecimal")
		}
		opts.ID = id
	}
	switch typ {
	case "gost256", "gost512":
		opts.Type = pkcs11.KeyGOST
		name := paramSet
		if name == "" {
			name = map[string]string{"gost256": "cryptopro-a", "gost512": "tc26-512-a"}[typ]
		}
		ps, err := gost3410.ParamSetByName(name)
		if err != nil {
			return opts, usageErr("%v", err)
		}
		if (ps.Size() == 64) != (typ == "gost512") {
			return opts, usageErr("parameter set %s is not for %s", name, typ)
		}
		opts.ParamSet = ps
	case "rsa2048", "rsa3072", "rsa4096":
		opts.Type = pkcs11.KeyRSA
		opts.RSABits = map[string]int{"rsa2048": 2048, "rsa3072": 3072, "rsa4096": 4096}[typ]
	case "ecdsa-p256":
		opts.Type, opts.Curve = pkcs11.KeyECDSA, elliptic.P256()
	case "ecdsa-p384":
		opts.Type, opts.Curve = pkcs11.KeyECDSA, elliptic.P384()
	default:
		return opts, usageErr("--type must be gost256, gost512, rsa2048, rsa3072, rsa4096, ecdsa-p256 or ecdsa-p384")
	}
	return opts, nil
}

func newTokensKeygenCmd() *cobra.Command {
	var tt tokenTarget
	var typ, paramSet, label, idHex string
	cmd := &cobra.Command{
		Use:   "keygen (--module M [--token L] | --soft DIR) --type gost256|gost512|rsa2048|ecdsa-p256 [--paramset P] [--label L] [--id HEX]",
		Short: "Generate a key pair on the token (the private key never leaves it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := tt.check(); err != nil {
				return err
			}
			opts, err := keyOptions(typ, paramSet, label, idHex)
			if err != nil {
				return err
			}
			ctx, stderr := cmd.Context(), cmd.ErrOrStderr()
			var id []byte
			var pub crypto.PublicKey
			if tt.module != "" {
				tok, release, err := tt.openPKCS11(ctx, stderr)
				if err != nil {
					return err
				}
				defer release()
				k, err := tok.GenerateKey(ctx, opts)
				if err != nil {
					return &exitError{code: exitFail, err: err}
				}
				id, pub = k.ID(), k.Public()
			} else {
				tok, err := tt.openSoftLoggedIn(stderr)
				if err != nil {
					return err
				}
				defer tok.Close()
				obj, err := tok.GenerateKey(opts)
				if err != nil {
					return &exitError{code: exitFail, err: err}
				}
				id, pub = obj.ID, obj.Public
			}
			spki, err := certs.MarshalPKIXPublicKey(pub)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "generated %s key, CKA_ID %s\n%s", typ, hex.EncodeToString(id),
				pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}))
			return nil
		},
	}
	tt.flags(cmd)
	cmd.Flags().StringVar(&typ, "type", "gost256", "key type")
	cmd.Flags().StringVar(&paramSet, "paramset", "", "GOST parameter set (default cryptopro-a for 256 bits, tc26-512-a for 512)")
	cmd.Flags().StringVar(&label, "label", "", "CKA_LABEL")
	cmd.Flags().StringVar(&idHex, "id", "", "CKA_ID in hex (default: random)")
	return cmd
}

func newTokensCSRCmd() *cobra.Command {
	var tt tokenTarget
	var idHex, out string
	var s certs.Subject
	cmd := &cobra.Command{
		Use:   "csr (--module M [--token L] | --soft DIR) --key-id HEX [--cn …] [--surname …] [--snils …] [--inn …] [--ogrn …] … [-o FILE]",
		Short: "Make a PKCS#10 certificate request signed by a key on the token, for a CA",
		Long: `Make a PKCS#10 request for the key with the CKA_ID --key-id, signed on the token,
with a subject in the form of FSB order 795 (СНИЛС, ИНН, ОГРН as NumericString,
check digits verified). Take it to the certification authority.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := tt.check(); err != nil {
				return err
			}
			id, err := hex.DecodeString(idHex)
			if err != nil || len(id) == 0 {
				return usageErr("--key-id must be the key's CKA_ID in hex (see kep tokens keygen, kep certs list)")
			}
			subject, err := s.Marshal()
			if err != nil {
				return usageErr("%v", err)
			}
			ctx, stderr := cmd.Context(), cmd.ErrOrStderr()
			var signer crypto.Signer
			if tt.module != "" {
				tok, release, err := tt.openPKCS11(ctx, stderr)
				if err != nil {
					return err
				}
				defer release()
				if err := tok.Login(ctx); err != nil {
					return &exitError{code: exitFail, err: err}
				}
				if signer, err = tok.FindKey(ctx, id); err != nil {
					return &exitError{code: exitFail, err: err}
				}
			} else {
				tok, err := tt.openSoftLoggedIn(stderr)
				if err != nil {
					return err
				}
				defer tok.Close()
				if signer, err = tok.Signer(id); err != nil {
					return &exitError{code: exitFail, err: err}
				}
			}
			der, err := pkcs11.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{RawSubject: subject}, signer)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
			if out == "" || out == "-" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			if err := atomicfile.WriteFile(out, data, 0o644); err != nil {
				return &exitError{code: exitFail, err: err}
			}
			return nil
		},
	}
	tt.flags(cmd)
	f := cmd.Flags()
	f.StringVar(&idHex, "key-id", "", "CKA_ID of the key, hex")
	f.StringVarP(&out, "output", "o", "", "output file (default standard output)")
	f.StringVar(&s.CommonName, "cn", "", "common name (ФИО or organisation name)")
	f.StringVar(&s.Surname, "surname", "", "фамилия")
	f.StringVar(&s.GivenName, "given-name", "", "имя и отчество")
	f.StringVar(&s.Title, "title", "", "должность")
	f.StringVar(&s.Organization, "org", "", "организация")
	f.StringVar(&s.OrganizationalUnit, "ou", "", "подразделение")
	f.StringVar(&s.Country, "country", "RU", "country")
	f.StringVar(&s.Region, "region", "", "region, e.g. \"77 г. Москва\"")
	f.StringVar(&s.Locality, "locality", "", "locality")
	f.StringVar(&s.Street, "street", "", "street address")
	f.StringVar(&s.Email, "email", "", "e-mail address")
	f.StringVar(&s.SNILS, "snils", "", "СНИЛС, 11 digits")
	f.StringVar(&s.INN, "inn", "", "ИНН of a person, 12 digits")
	f.StringVar(&s.INNLE, "innle", "", "ИНН of an organisation, 10 digits")
	f.StringVar(&s.OGRN, "ogrn", "", "ОГРН, 13 digits")
	f.StringVar(&s.OGRNIP, "ogrnip", "", "ОГРНИП, 15 digits")
	return cmd
}

func newTokensPINCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "pin", Short: "Manage the token's user PIN"}
	var tt tokenTarget
	var newPINFile string
	change := &cobra.Command{
		Use:   "change (--module M [--token L] | --soft DIR) [--pin-file OLD --new-pin-file NEW]",
		Short: "Change the user PIN (a wrong current PIN costs a try)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := tt.check(); err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			oldPIN, err := readPIN(tt.pinFile, stderr, "current PIN: ")
			if err != nil {
				return usageErr("%v", err)
			}
			defer clear(oldPIN)
			newPIN, err := readNewPIN(newPINFile, stderr)
			if err != nil {
				return usageErr("%v", err)
			}
			defer clear(newPIN)
			if tt.module != "" {
				tok, release, oerr := tt.openPKCS11(cmd.Context(), stderr)
				if oerr != nil {
					return oerr
				}
				defer release()
				err = tok.ChangePIN(cmd.Context(), oldPIN, newPIN)
			} else {
				var tok *soft.Token
				if tok, err = soft.Open(tt.softDir); err != nil {
					return &exitError{code: exitFail, err: softHint(tt.softDir, err)}
				}
				defer tok.Close()
				err = tok.ChangePIN(oldPIN, newPIN)
			}
			if errors.Is(err, pkcs11.ErrPINLenRange) {
				return usageErr("%v", err)
			}
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "PIN changed")
			return nil
		},
	}
	tt.flags(change)
	change.Flags().StringVar(&newPINFile, "new-pin-file", "", "file holding the new PIN (else $KEP_NEW_PIN, else a prompt, twice)")
	cmd.AddCommand(change)
	return cmd
}

// readNewPIN reads a new PIN: --new-pin-file, KEP_NEW_PIN, or two prompts
// that must agree.
func readNewPIN(file string, stderr io.Writer) ([]byte, error) {
	if file != "" {
		return readPIN(file, stderr, "")
	}
	if p, ok := os.LookupEnv("KEP_NEW_PIN"); ok {
		return []byte(p), nil
	}
	pin, err := readPINPrompt(stderr, "new PIN: ", "--new-pin-file FILE or set KEP_NEW_PIN")
	if err != nil {
		return nil, err
	}
	again, err := readPINPrompt(stderr, "repeat the new PIN: ", "--new-pin-file FILE or set KEP_NEW_PIN")
	if err != nil {
		return nil, err
	}
	defer clear(again)
	if string(again) != string(pin) {
		clear(pin)
		return nil, errors.New("the new PINs differ")
	}
	return pin, nil
}
