package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11/keystore"
)

func newCertsListCmd() *cobra.Command {
	var (
		modules    []string
		softDir    string
		container  string
		noDiscover bool
		asJSON     bool
	)
	cmd := &cobra.Command{
		Use:   "list [--module M]... [--soft DIR] [--no-discover] [--json] | list --cryptopro DIR|ZIP|auto [--json]",
		Short: "List the certificates on the tokens and in the software token",
		Long: `List every certificate on the PKCS#11 tokens (the --module libraries and, unless
--no-discover, the vendors' usual ones) and in the software token, with the
owner's qualified fields (ФИО, СНИЛС, ИНН, ОГРН, organisation), the validity,
the SHA-1 thumbprint and CKA_ID to sign with, and whether its private key is
there and matches.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if container != "" {
				if len(modules) > 0 || softDir != "" {
					return usageErr("--cryptopro lists one container: give it alone")
				}
				return listContainer(cmd.OutOrStdout(), cmd.ErrOrStderr(), container, asJSON)
			}
			if len(modules) == 0 && softDir == "" && noDiscover {
				return usageErr("nothing to list: give --module or --soft, or drop --no-discover")
			}
			ctx := cmd.Context()
			keys, err := keystore.Open(ctx, keystore.Config{Modules: modules, Discover: !noDiscover, SoftDir: softDir})
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			defer keys.Close()
			list, lerr := keys.Certificates(ctx)
			if asJSON {
				out := []certListJSON{}
				for _, e := range list {
					out = append(out, certListJSON{ID: e.ID, KeyID: e.HexID(), Label: e.Label, Key: e.Key,
						Token: e.Token.Info.Label, Source: e.Token.Source, Module: e.Token.Module, Certificate: e.Certificate})
				}
				if err := writeJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			} else {
				printCertList(cmd.OutOrStdout(), list)
			}
			for _, m := range keys.Modules() {
				if !m.Loaded && m.Source == "explicit" {
					fmt.Fprintf(cmd.ErrOrStderr(), "kep: module %s: %v\n", m.Path, m.Err)
				}
			}
			if lerr != nil {
				return &exitError{code: exitFail, err: lerr}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&modules, "module", nil, "PKCS#11 library (repeatable)")
	cmd.Flags().StringVar(&softDir, "soft", "", "software token directory")
	cmd.Flags().StringVar(&container, "cryptopro", "", "show what a CryptoPro key container holds (its folder, a zip, or auto), without importing or decrypting it")
	cmd.Flags().BoolVar(&noDiscover, "no-discover", false, "only the --module libraries, not the vendors' usual ones")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type certListJSON struct {
	ID          string             `json:"thumbprint"`
	KeyID       string             `json:"keyId"`
	Label       string             `json:"label"`
	Key         string             `json:"key"`
	Token       string             `json:"token"`
	Source      string             `json:"source"`
	Module      string             `json:"module"`
	Certificate *certs.Certificate `json:"certificate"`
}

func printCertList(w io.Writer, list []*keystore.Entry) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no certificates found (is the token plugged in? see kep tokens)")
		return
	}
	now := time.Now()
	for _, e := range list {
		c, q := e.Certificate, e.Certificate.Qualified
		fmt.Fprintf(w, "%s  (token %q, CKA_ID %s)\n", e.ID, e.Token.Info.Label, e.HexID())
		fmt.Fprintf(w, "  %s\n", c.SubjectString())
		for _, f := range []struct{ name, v string }{{"СНИЛС", q.SNILS}, {"ИНН", q.INN}, {"ИНН ЮЛ", q.INNLE}, {"ОГРН", q.OGRN}, {"ОГРНИП", q.OGRNIP}} {
			if f.v != "" {
				fmt.Fprintf(w, "  %s: %s\n", f.name, f.v)
			}
		}
		state := "valid"
		switch {
		case now.After(c.NotAfter):
			state = "EXPIRED"
		case now.Before(c.NotBefore):
			state = "not yet valid"
		}
		fmt.Fprintf(w, "  %s, %s – %s (%s), issuer %s\n", c.KeyAlgorithm, c.NotBefore.Format("2006-01-02"), c.NotAfter.Format("2006-01-02"), state, c.Issuer.CommonName)
		fmt.Fprintf(w, "  private key: %s", keyState[e.Key])
		if keyState[e.Key] == "" {
			fmt.Fprint(w, e.Key)
		}
		if e.KeyErr != nil && e.Key != keystore.KeyPresent {
			fmt.Fprintf(w, " (%v)", e.KeyErr)
		}
		fmt.Fprintln(w)
	}
}

// keyState says what each keystore key state means for the user.
var keyState = map[string]string{
	keystore.KeyPresent:       "present, matches the certificate (can sign)",
	keystore.KeyLoginRequired: "hidden until the PIN is entered (login-required)",
	keystore.KeyMissing:       "missing (this certificate cannot sign here)",
	keystore.KeyMismatch:      "MISMATCH: the key on the token is not this certificate's key",
	keystore.KeyUnsupported:   "of a kind kep cannot sign with (unsupported)",
}
