package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/keyfile/cryptopro"
	"github.com/kepkit/kep/pkcs11/soft"
)

func newSoftCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "soft",
		Short: "Manage kep's software token (a PIN-protected key store in a directory)",
		Long: `The software token keeps keys encrypted under its PIN (scrypt + XChaCha20-Poly1305)
with a try counter that locks it after 10 wrong PINs, like a hardware token. The
same directory is served to any PKCS#11 application by bin/kep-pkcs11.so
(KEP_SOFT_DIR names it).`,
	}
	cmd.AddCommand(newSoftInitCmd(), newSoftImportCmd(), newSoftExportCmd(), newSoftListCmd())
	return cmd
}

func newSoftInitCmd() *cobra.Command {
	var label, pinFile string
	cmd := &cobra.Command{
		Use:   "init DIR [--label L] [--pin-file F]",
		Short: "Create a software token in DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pin, err := readPIN(pinFile, cmd.ErrOrStderr(), "new PIN: ")
			if err != nil {
				return usageErr("%v", err)
			}
			if pinFile == "" && os.Getenv("KEP_PIN") == "" {
				again, err := readPIN("", cmd.ErrOrStderr(), "repeat the PIN: ")
				if err != nil || string(again) != string(pin) {
					return usageErr("the PINs differ")
				}
			}
			if err := soft.Init(args[0], pin, label); err != nil {
				return &exitError{code: exitFail, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "software token %q created in %s\n", label, args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&label, "label", "kep soft token", "token label")
	cmd.Flags().StringVar(&pinFile, "pin-file", "", "file whose first line is the PIN (else KEP_PIN, else a prompt)")
	return cmd
}

func newSoftImportCmd() *cobra.Command {
	var keyFile, certFile, p12, pfxFile, p12PassFile, passFile, container, label, pinFile string
	cmd := &cobra.Command{
		Use:   "import DIR (--key K.pem --cert C.pem | --pfx F.pfx [--cert C] | --cryptopro FOLDER|ZIP|auto [--cert C]) [--password-file F] [--label L] [--pin-file F]",
		Short: "Import a key and its certificate into the software token",
		Long: `Import a key with its certificate into the software token: from PEM files, a
PKCS#12/PFX file (--pfx, also spelled --p12: RFC 9548, OpenSSL's gost engine
and ViPNet, CryptoPro CSP's own key bag, or RSA/ECDSA), or a CryptoPro CSP key container
(--cryptopro: its folder, such as abcdefgh.000 on a flash drive, a zip of one,
or "auto" for the one container found in the usual places: removable drives
under /media and /run/media, /var/opt/cprocsp/keys/<user>, %LOCALAPPDATA%\Crypto Pro).

The container's or PFX's password comes from --password-file (its first line;
an empty line for none), else the empty password is tried and then asked for
without echo. The token's own PIN comes from --pin-file, KEP_PIN or a prompt.
The key is decrypted and checked against the container's fingerprint and
certificate before anything is written; the container is only read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if p12 != "" && pfxFile != "" {
				return usageErr("give --pfx or --p12, not both")
			}
			if pfxFile != "" {
				p12 = pfxFile
			}
			if passFile != "" && p12PassFile != "" {
				return usageErr("give --password-file or --p12-pass-file, not both")
			}
			if p12PassFile != "" {
				passFile = p12PassFile
			}
			n := 0
			for _, s := range []string{keyFile, p12, container} {
				if s != "" {
					n++
				}
			}
			if n != 1 || (keyFile != "" && certFile == "") {
				return usageErr("give --key with --cert, or --pfx, or --cryptopro")
			}
			stderr := cmd.ErrOrStderr()
			tok, err := soft.Open(args[0])
			if err != nil {
				return &exitError{code: exitFail, err: softHint(args[0], err)}
			}
			defer tok.Close()
			var obj *soft.Object
			switch {
			case container != "":
				// Read and check everything before the token is touched.
				c, err := openContainer(container, stderr)
				if err != nil {
					return err
				}
				fmt.Fprintf(stderr, "kep: %s\n", describeContainer(c))
				if c.Is2001(cryptopro.Primary) {
					return &exitError{code: exitFail, err: fmt.Errorf("%s holds a GOST R 34.10-2001 key: signing with such keys ended on 31.12.2019 and kep does not import them", c.Source)}
				}
				key, cert, rest, err := containerIdentity(c, certFile, passwordSource{file: passFile, prompt: "container password: ", stderr: stderr})
				if err != nil {
					return err
				}
				if cert == nil {
					fmt.Fprintln(stderr, "kep: the container holds no certificate and none was given with --cert: the key is imported alone")
				}
				if err := loginSoft(tok, pinFile, stderr); err != nil {
					return err
				}
				chain := rest
				if cert != nil {
					chain = append([]*certs.Certificate{cert}, rest...)
				}
				if obj, err = tok.ImportKey(key, label, chain...); err != nil {
					return &exitError{code: exitFail, err: err}
				}
				if !c.Params(cryptopro.Primary).Exportable() {
					fmt.Fprintln(stderr, "kep: note: CryptoPro marked this key non-exportable; it is your key and kep imported it, but CryptoPro itself would refuse to export it")
				}
			case keyFile != "":
				keyPEM, err := os.ReadFile(keyFile)
				if err != nil {
					return usageErr("%v", err)
				}
				certPEM, err := os.ReadFile(certFile)
				if err != nil {
					return usageErr("%v", err)
				}
				if err := loginSoft(tok, pinFile, stderr); err != nil {
					return err
				}
				obj, err = tok.ImportPEM(keyPEM, certPEM, label)
				if err != nil {
					return &exitError{code: exitFail, err: err}
				}
			default:
				data, err := os.ReadFile(p12)
				if err != nil {
					return usageErr("%v", err)
				}
				if obj, err = importPFX(tok, data, passFile, certFile, label, pinFile, stderr); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s (id %s)\n", obj.Label, hex.EncodeToString(obj.ID))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyFile, "key", "", "private key (PKCS#8 PEM as openssl genpkey writes)")
	f.StringVar(&certFile, "cert", "", "its certificate, with the chain after it if wanted (with --cryptopro or --pfx: when the container or PFX holds none kep can read)")
	f.StringVar(&pfxFile, "pfx", "", "PKCS#12/PFX file")
	f.StringVar(&p12, "p12", "", "PKCS#12/PFX file (the older spelling of --pfx)")
	f.StringVar(&container, "cryptopro", "", "CryptoPro CSP key container: its folder, a zip of it, or auto")
	f.StringVar(&passFile, "password-file", "", "file whose first line is the container's or PFX's password (may be empty)")
	f.StringVar(&p12PassFile, "p12-pass-file", "", "the older spelling of --password-file")
	f.StringVar(&label, "label", "", "label of the imported key (default: the certificate's name)")
	f.StringVar(&pinFile, "pin-file", "", "file whose first line is the token PIN (else KEP_PIN, else a prompt)")
	return cmd
}

// loginSoft logs in to the software token with its PIN.
func loginSoft(tok *soft.Token, pinFile string, stderr io.Writer) error {
	pin, err := readPIN(pinFile, stderr, "token PIN: ")
	if err != nil {
		return usageErr("%v", err)
	}
	if err := tok.Login(pin); err != nil {
		return &exitError{code: exitFail, err: err}
	}
	return nil
}

func newSoftListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list DIR [--json]",
		Short: "List the keys and certificates in the software token (no PIN needed)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := soft.Open(args[0])
			if err != nil {
				return &exitError{code: exitFail, err: softHint(args[0], err)}
			}
			defer tok.Close()
			objs, err := tok.Objects()
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			type entry struct {
				ID         string `json:"id"`
				Label      string `json:"label"`
				Subject    string `json:"subject,omitempty"`
				Thumbprint string `json:"thumbprint,omitempty"`
				NotAfter   string `json:"notAfter,omitempty"`
				Qualified  any    `json:"qualified,omitempty"`
			}
			list := []entry{}
			for _, o := range objs {
				e := entry{ID: hex.EncodeToString(o.ID), Label: o.Label}
				if c := o.Certificate; c != nil {
					e.Subject, e.Thumbprint, e.NotAfter, e.Qualified = c.SubjectString(), c.Thumbprint(), c.NotAfter.UTC().Format("2006-01-02"), c.Qualified
				}
				list = append(list, e)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			for _, e := range list {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s  %s  until %s  thumbprint %s\n", e.ID, e.Label, e.Subject, e.NotAfter, e.Thumbprint)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
