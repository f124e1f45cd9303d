package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/hint"
)

func newCertsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Show and verify X.509 certificates (GOST chains, qualified certificate fields)",
	}
	cmd.AddCommand(newCertsShowCmd(), newCertsVerifyCmd(), newCertsListCmd(), newCertsExportCmd())
	return cmd
}

func newCertsShowCmd() *cobra.Command {
	var asJSON bool
	var lang string
	cmd := &cobra.Command{
		Use:   "show [--json] [--lang ru|en] FILE",
		Short: "Print the certificates in FILE with their qualified fields",
		Long: `Print every certificate in FILE (PEM bundle, DER, or base64; "-" reads
standard input): names, serial, SHA-1 thumbprint as CryptoPro shows it,
validity, algorithms, and the fields of a qualified certificate (СНИЛС, ИНН,
ОГРН, signing tools, identification kind …) with any checksum problems.
--json prints an array with one object per certificate.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readInput(cmd.InOrStdin(), args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			cs, err := certs.ParseCertificates(data)
			if err != nil {
				if hint.Detect(data) == hint.CMS {
					return usageErr("%s: this is a CMS signature, not a certificate: use kep verify to check it, or kep certs export %s to get the certificates in it", args[0], args[0])
				}
				return usageErr("%s: %v", args[0], err)
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(cs)
			}
			for i, c := range cs {
				if len(cs) > 1 {
					fmt.Fprintf(w, "[%d]\n", i+1)
				}
				if _, err := io.WriteString(w, c.Summary(lang)); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&lang, "lang", defaultLang(), "language: ru or en")
	return cmd
}

func newCertsVerifyCmd() *cobra.Command {
	var rf revocationFlags
	var trust, inter, crls []string
	var at, purpose, lang string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify --trust CA... [--intermediate F]... [--crl F]... [--revocation auto|ocsp|crl|off] [--evidence DIR [--offline]] [--at RFC3339] [--purpose sign|login|any] [--json] CERT",
		Short: "Build and validate the path from a certificate to a trusted root",
		Long: `Validate the first certificate in CERT (the others in CERT serve as
intermediates) against the roots given with --trust, at --at (default now),
for --purpose: every candidate path is built and checked (signatures, validity,
CA flags, path length, key usage, critical extensions, revocation: the --crl
files, then OCSP and the CRL distribution points unless --revocation off).
Exit codes: 0 TOTAL_PASSED, 1 TOTAL_FAILED, 3 INDETERMINATE, 2 usage or I/O error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := certs.VerifyOptions{}
			var err error
			if len(trust) == 0 {
				return usageErr("no --trust: give the trusted root certificates (e.g. the Минцифры root)")
			}
			if opts.Purpose, err = certs.ParsePurpose(purpose); err != nil {
				return usageErr("--purpose: %v", err)
			}
			if at != "" {
				if opts.At, err = time.Parse(time.RFC3339, at); err != nil {
					return usageErr("--at: %v", err)
				}
			}
			if opts.Roots, err = certs.ReadCertificateFiles(trust); err != nil {
				return usageErr("%v", err)
			}
			if opts.Intermediates, err = certs.ReadCertificateFiles(inter); err != nil {
				return usageErr("%v", err)
			}
			if opts.CRLs, err = readCRLFiles(crls); err != nil {
				return usageErr("%v", err)
			}
			if opts.Revocation, err = rf.checker(); err != nil {
				return err
			}
			data, err := readInput(cmd.InOrStdin(), args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			cs, err := certs.ParseCertificates(data)
			if err != nil {
				return usageErr("%s: %v", args[0], err)
			}
			opts.Intermediates = append(opts.Intermediates, cs[1:]...)
			r := certs.VerifyContext(cmd.Context(), cs[0], opts)
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(r); err != nil {
					return err
				}
			} else if _, err := io.WriteString(w, r.Summary(lang)); err != nil {
				return err
			}
			ind := r.Indication
			if r.SubIndication != "" {
				ind += "/" + r.SubIndication
			}
			switch r.Indication {
			case certs.TotalPassed:
				return nil
			case certs.TotalFailed:
				return &exitError{code: exitFail, err: fmt.Errorf("certificate %s", ind)}
			default:
				if h := crlHint(r); h != "" {
					return &exitError{code: exitIndeterminate, err: fmt.Errorf("certificate %s: %s", ind, h)}
				}
				return &exitError{code: exitIndeterminate, err: fmt.Errorf("certificate %s", ind)}
			}
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&trust, "trust", nil, "trusted root certificate file, PEM bundle or DER (repeatable, required)")
	f.StringArrayVar(&inter, "intermediate", nil, "intermediate certificate file (repeatable)")
	f.StringArrayVar(&crls, "crl", nil, "CRL file, PEM or DER (repeatable)")
	rf.add(cmd)
	f.StringVar(&at, "at", "", "validation time, RFC 3339 (default now)")
	f.StringVar(&purpose, "purpose", "sign", "what the certificate must be usable for: sign, login or any")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.StringVar(&lang, "lang", defaultLang(), "language: ru or en")
	return cmd
}

// readInput reads the named file, or standard input for "-", up to
// certs.MaxInputSize bytes.
func readInput(stdin io.Reader, name string) ([]byte, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, certs.MaxInputSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > certs.MaxInputSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, certs.MaxInputSize)
	}
	return data, nil
}
