package main

import (
	"encoding/pem"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/atomicfile"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/internal/hint"
	"github.com/kepkit/kep/pkcs11/keystore"
)

func newCertsExportCmd() *cobra.Command {
	var (
		modules    []string
		softDir    string
		noDiscover bool
		der, chain bool
		out        string
	)
	cmd := &cobra.Command{
		Use:   "export [--module M]... [--soft DIR] [--no-discover] [--chain] [--der] [-o FILE] THUMBPRINT|CKA_ID|SIG",
		Short: "Write a certificate from a token, the software token or a signature, as PEM or DER",
		Long: `Write the certificate whose SHA-1 thumbprint or hex CKA_ID is given (see kep
certs list) from the PKCS#11 tokens (the --module libraries and, unless
--no-discover, the vendors' usual ones) or the software token (--soft DIR), or
every certificate in a CMS signature file SIG. PEM by default, DER with --der
(one certificate only); to standard output, or to FILE with -o. --chain adds
the CA certificates stored beside it on the token. No PIN is asked.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var list []*certs.Certificate
			if data, err := os.ReadFile(args[0]); err == nil {
				if k := hint.Detect(data); k != hint.CMS {
					return usageErr("%s is %s, not a signature: give a CMS signature file, or the thumbprint of a certificate on a token (see kep certs list)", args[0], k.Describe())
				}
				sd, err := cms.Parse(pemOrDER(data))
				if err != nil {
					return usageErr("%s: %v", args[0], err)
				}
				for _, c := range sd.Certificates {
					cert, err := certs.ParseCertificate(c)
					if err != nil {
						return usageErr("%s: %v", args[0], err)
					}
					list = append(list, cert)
				}
				if len(list) == 0 {
					return &exitError{code: exitFail, err: fmt.Errorf("%s holds no certificate (the signer left it out)", args[0])}
				}
			} else {
				ctx := cmd.Context()
				keys, err := keystore.Open(ctx, keystore.Config{Modules: modules, Discover: !noDiscover, SoftDir: softDir})
				if err != nil {
					return &exitError{code: exitFail, err: softHint(softDir, err)}
				}
				defer keys.Close()
				entries, lerr := keys.Certificates(ctx)
				want := keystore.NormalizeID(args[0])
				var e *keystore.Entry
				for _, c := range entries {
					if c.ID == want || strings.EqualFold(c.HexID(), want) {
						e = c
						break
					}
				}
				if e == nil {
					msg := fmt.Sprintf("no certificate with thumbprint or CKA_ID %s", args[0])
					if softDir == "" {
						msg += " on the tokens found (for the software token give --soft DIR; kep certs list shows what there is)"
					} else {
						msg += " (kep certs list shows what there is)"
					}
					if lerr != nil {
						msg += fmt.Sprintf(": %v", softHint(softDir, lerr))
					}
					return &exitError{code: exitFail, err: fmt.Errorf("%s", msg)}
				}
				list = append(list, e.Certificate)
				if chain {
					list = append(list, e.Chain...)
				}
			}
			var data []byte
			if der {
				if len(list) != 1 {
					return usageErr("--der writes one certificate, and there are %d: leave out --der for a PEM bundle", len(list))
				}
				data = list[0].Raw
			} else {
				for _, c := range list {
					data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
				}
			}
			if out == "" || out == "-" {
				_, err := cmd.OutOrStdout().Write(data)
				return err
			}
			if err := atomicfile.WriteFile(out, data, 0o644); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "kep: wrote %d certificate(s) to %s\n", len(list), out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&modules, "module", nil, "PKCS#11 library (repeatable)")
	f.StringVar(&softDir, "soft", "", "software token directory")
	f.BoolVar(&noDiscover, "no-discover", false, "only the --module libraries, not the vendors' usual ones")
	f.BoolVar(&chain, "chain", false, "add the CA certificates stored with it on the token")
	f.BoolVar(&der, "der", false, "write DER instead of PEM (one certificate)")
	f.StringVarP(&out, "output", "o", "", "output file (default standard output)")
	return cmd
}
