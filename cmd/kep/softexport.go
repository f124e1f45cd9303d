package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/atomicfile"
	"github.com/kepkit/kep/keyfile/pfx"
	"github.com/kepkit/kep/pkcs11/soft"
)

// importPFX imports a PFX: GOST files through keyfile/pfx (the password
// checked, and the key against its certificate, before the token is
// touched), RSA/ECDSA ones through the software token's PKCS#12 reader.
// certFile, when given, is the key's certificate (and chain) in place of the
// PFX's, for a PFX whose certificates kep cannot read.
func importPFX(tok *soft.Token, data []byte, passFile, certFile, label, pinFile string, stderr io.Writer) (*soft.Object, error) {
	var file *pfx.File
	var password []byte
	err := passwordSource{file: passFile, prompt: "PFX password: ", stderr: stderr}.try(pfx.ErrWrongPassword, func(pw []byte) error {
		f, err := pfx.Decode(data, pw)
		file, password = f, append([]byte(nil), pw...)
		return err
	})
	defer clear(password)
	if errors.Is(err, pfx.ErrNoKey) || errors.Is(err, pfx.ErrNotGOST) {
		// Not a GOST file: the RSA/ECDSA reader.
		if certFile != "" {
			return nil, usageErr("--cert with --pfx is for GOST PFX files; this one is not (%v)", err)
		}
		// The password the GOST reader last tried: the file's, or the one
		// typed at the prompt after an RFC 7292 MAC refused the empty one.
		pass := string(password)
		if lerr := loginSoft(tok, pinFile, stderr); lerr != nil {
			return nil, lerr
		}
		obj, ierr := tok.ImportPKCS12(data, pass, label)
		if ierr != nil {
			return nil, &exitError{code: exitFail, err: fmt.Errorf("%v; as a GOST PFX: %v", ierr, err)}
		}
		return obj, nil
	}
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, err
		}
		return nil, &exitError{code: exitFail, err: err}
	}
	if len(file.Unread) > 0 {
		fmt.Fprintf(stderr, "kep: %d part(s) of the PFX are encrypted in a way kep does not read (%s): the certificates in them are left out\n", len(file.Unread), strings.Join(file.Unread, ", "))
	}
	chain := file.Certificates
	if certFile != "" {
		list, err := certs.ReadCertificateFiles([]string{certFile})
		if err != nil {
			return nil, usageErr("%v", err)
		}
		if !file.Key.PublicKey().Equal(list[0].PublicKey) {
			return nil, &exitError{code: exitFail, err: fmt.Errorf("the certificate %s is not the PFX's key's", list[0].SubjectString())}
		}
		chain = list
	}
	if len(chain) == 0 {
		fmt.Fprintln(stderr, "kep: the PFX holds no certificate kep can read and none was given with --cert: the key is imported alone")
	}
	if err := loginSoft(tok, pinFile, stderr); err != nil {
		return nil, err
	}
	obj, err := tok.ImportKey(file.Key, label, chain...)
	if err != nil {
		return nil, &exitError{code: exitFail, err: err}
	}
	return obj, nil
}

func newSoftExportCmd() *cobra.Command {
	var certSel, out, format, passFile, pinFile string
	cmd := &cobra.Command{
		Use:   "export DIR --cert ID|THUMBPRINT --pfx FILE [--format openssl|rfc9548] [--password-file F] [--pin-file F]",
		Short: "Write a key of the software token and its certificates to a GOST PFX file",
		Long: `Write a GOST key of the software token, with its certificate and chain, to a
PKCS#12/PFX file that other tools read: --format openssl (the default) is what
openssl pkcs12 -export -keypbe gost89 -certpbe gost89 -macalg md_gost12_256
writes with the gost engine, and what openssl pkcs12 and ViPNet read.
--format rfc9548 is the TC 26 standard form (RFC 9548: the key under
Kuznyechik CTR-ACPKM-OMAC and PBKDF2-HMAC-Streebog-512, the certificates
unencrypted, an HMAC-Streebog-512 MAC); OpenSSL's gost engine 3.0 lists its
certificates but cannot decrypt its key.

The PFX password comes from --password-file (its first line; may be empty),
else it is asked twice without echo. The token PIN from --pin-file, KEP_PIN
or a prompt. The file is written atomically with mode 0600.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if certSel == "" || out == "" {
				return usageErr("give --cert ID|THUMBPRINT (see kep soft list) and --pfx FILE")
			}
			switch pfx.Format(format) {
			case pfx.FormatOpenSSL, pfx.FormatRFC9548:
			default:
				return usageErr("--format is openssl or rfc9548")
			}
			stderr := cmd.ErrOrStderr()
			var password []byte
			if passFile != "" {
				b, err := readPasswordFile(passFile)
				if err != nil {
					return usageErr("%v", err)
				}
				password = b
			} else {
				b, err := readPINPrompt(stderr, "new PFX password: ", "--password-file FILE")
				if err != nil {
					return usageErr("%v", err)
				}
				again, err := readPINPrompt(stderr, "repeat the PFX password: ", "--password-file FILE")
				if err != nil || string(again) != string(b) {
					return usageErr("the passwords differ")
				}
				password = b
			}
			defer clear(password)
			tok, err := soft.Open(args[0])
			if err != nil {
				return &exitError{code: exitFail, err: softHint(args[0], err)}
			}
			defer tok.Close()
			objs, err := tok.Objects()
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			want := normalizeSelector(certSel)
			var obj *soft.Object
			for _, o := range objs {
				if o.Certificate != nil && (strings.ToUpper(hex.EncodeToString(o.ID)) == want || o.Certificate.Thumbprint() == want) {
					obj = o
				}
			}
			if obj == nil {
				return &exitError{code: exitFail, err: fmt.Errorf("no certificate with id or thumbprint %s in %s (see kep soft list)", certSel, args[0])}
			}
			if err := loginSoft(tok, pinFile, stderr); err != nil {
				return err
			}
			key, err := tok.Signer(obj.ID)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			gk, ok := key.PrivateKey().(*gost3410.PrivateKey)
			if !ok {
				return &exitError{code: exitFail, err: fmt.Errorf("%s is not a GOST key: kep writes GOST PFX files only", obj.Label)}
			}
			ders := [][]byte{obj.Certificate.Raw}
			for _, c := range obj.Chain {
				ders = append(ders, c.Raw)
			}
			data, err := pfx.Encode(gk, ders, password, pfx.Options{Format: pfx.Format(format), FriendlyName: obj.Label})
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			if err := atomicfile.WriteFile(out, data, 0o600); err != nil {
				return &exitError{code: exitFail, err: err}
			}
			fmt.Fprintf(stderr, "kep: wrote %s (%s, %d certificate(s), %s)\n", out, obj.Label, len(ders), "thumbprint "+obj.Certificate.Thumbprint())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&certSel, "cert", "", "the key's certificate: its CKA_ID (hex) or SHA-1 thumbprint")
	f.StringVar(&out, "pfx", "", "PFX file to write")
	f.StringVar(&format, "format", "openssl", "PFX form: openssl (gost engine, ViPNet) or rfc9548 (TC 26 standard)")
	f.StringVar(&passFile, "password-file", "", "file whose first line is the new PFX password (may be empty)")
	f.StringVar(&pinFile, "pin-file", "", "file whose first line is the token PIN (else KEP_PIN, else a prompt)")
	return cmd
}
