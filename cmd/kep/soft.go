package main

import (
	"encoding/hex"
	"fmt"
	"os"

	"github.com/spf13/cobra"

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
	cmd.AddCommand(newSoftInitCmd(), newSoftImportCmd(), newSoftListCmd())
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
	var keyFile, certFile, p12, p12PassFile, label, pinFile string
	cmd := &cobra.Command{
		Use:   "import DIR (--key K.pem --cert C.pem | --p12 F.p12 [--p12-pass-file F]) [--label L] [--pin-file F]",
		Short: "Import a key and its certificate into the software token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (keyFile == "") == (p12 == "") || (keyFile != "" && certFile == "") {
				return usageErr("give --key with --cert, or --p12")
			}
			tok, err := soft.Open(args[0])
			if err != nil {
				return &exitError{code: exitFail, err: softHint(args[0], err)}
			}
			defer tok.Close()
			pin, err := readPIN(pinFile, cmd.ErrOrStderr(), "token PIN: ")
			if err != nil {
				return usageErr("%v", err)
			}
			if err := tok.Login(pin); err != nil {
				return &exitError{code: exitFail, err: err}
			}
			var obj *soft.Object
			if keyFile != "" {
				keyPEM, err := os.ReadFile(keyFile)
				if err != nil {
					return usageErr("%v", err)
				}
				certPEM, err := os.ReadFile(certFile)
				if err != nil {
					return usageErr("%v", err)
				}
				obj, err = tok.ImportPEM(keyPEM, certPEM, label)
				if err != nil {
					return &exitError{code: exitFail, err: err}
				}
			} else {
				pfx, err := os.ReadFile(p12)
				if err != nil {
					return usageErr("%v", err)
				}
				pass := ""
				if p12PassFile != "" {
					b, err := readPIN(p12PassFile, cmd.ErrOrStderr(), "")
					if err != nil {
						return usageErr("%v", err)
					}
					pass = string(b)
				}
				obj, err = tok.ImportPKCS12(pfx, pass, label)
				if err != nil {
					return &exitError{code: exitFail, err: err}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %s (id %s)\n", obj.Label, hex.EncodeToString(obj.ID))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyFile, "key", "", "private key (PKCS#8 PEM as openssl genpkey writes)")
	f.StringVar(&certFile, "cert", "", "its certificate, with the chain after it if wanted")
	f.StringVar(&p12, "p12", "", "PKCS#12 file (RSA/ECDSA)")
	f.StringVar(&p12PassFile, "p12-pass-file", "", "file with the PKCS#12 password")
	f.StringVar(&label, "label", "", "label of the imported key (default: the certificate's name)")
	f.StringVar(&pinFile, "pin-file", "", "file whose first line is the token PIN (else KEP_PIN, else a prompt)")
	return cmd
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
