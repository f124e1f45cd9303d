package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/atomicfile"
	"github.com/kepkit/kep/verify"
)

func newVerifyCmd() *cobra.Command {
	var content, at, extract, lang, profile, purpose string
	var trust, inter, crls []string
	var asJSON bool
	var rf revocationFlags
	var trustList string
	var qualified bool
	var report string
	cmd := &cobra.Command{
		Use:   "verify [--content FILE] [--trust CA]... [--crl FILE]... [--revocation auto|ocsp|crl|off] [--evidence DIR [--offline]] [--at RFC3339] [--json] SIG",
		Short: "Verify a CMS/CAdES signature and report every check",
		Long: `Verify SIG (DER, BER or PEM; attached or detached with --content) against the
trusted roots given with --trust, at the time --at (default now; never the
signer's own signing time). Revocation: the --crl files first, then (unless
--revocation off) the OCSP responders and CRL distribution points named in the
certificates, for the signer and every CA below the root; an answer that
cannot be had makes the result INDETERMINATE unless --soft-fail. --evidence DIR
keeps what was fetched, and --evidence DIR --offline checks again with it alone.
Exit codes: 0 TOTAL_PASSED, 1 TOTAL_FAILED, 3 INDETERMINATE, 2 usage or I/O
error. --json prints the machine-readable report.`,
		Args: func(_ *cobra.Command, args []string) error {
			switch len(args) {
			case 1:
				return nil
			case 2:
				return usageErr("kep verify takes one signature; give the signed document with --content: kep verify --content %s --trust CA.pem %s", args[0], args[1])
			}
			return usageErr("kep verify takes one signature file (SIG), %d given; a detached signature's document goes with --content FILE", len(args))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			sig, err := os.ReadFile(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			if err := notCMS(args[0], sig); err != nil {
				return err
			}
			opts := verify.Options{}
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
			list, _, err := loadTrustList(trustList)
			if err != nil {
				return err
			}
			if list != nil {
				opts.Roots, opts.Intermediates = withTrustList(list, opts.Roots, opts.Intermediates)
				opts.Accreditation, opts.RequireQualified = list, qualified
			} else if qualified {
				return usageErr("--qualified needs the list of accredited CAs: run kep trust update, or give --trust-list FILE")
			}
			if at != "" {
				if opts.At, err = time.Parse(time.RFC3339, at); err != nil {
					return usageErr("--at: %v", err)
				}
			}
			switch profile {
			case "cms":
			case "cades-bes":
				opts.Profile = verify.ProfileCAdESBES
			case "cades-t":
				opts.Profile = verify.ProfileCAdEST
			case "xl", "xlt1":
				opts.Profile = verify.ProfileXL
			default:
				return usageErr("--profile: cms, cades-bes, cades-t or xl")
			}
			if opts.Purpose, err = certs.ParsePurpose(purpose); err != nil {
				return usageErr("%v", err)
			}
			if content != "" {
				f, err := os.Open(content)
				if err != nil {
					return usageErr("%v", err)
				}
				defer f.Close()
				opts.Content = f
			}
			rep, err := verify.Verify(cmd.Context(), pemOrDER(sig), opts)
			if err != nil {
				return usageErr("%v", err)
			}
			if err := printReport(cmd.OutOrStdout(), rep, asJSON, lang); err != nil {
				return err
			}
			if report != "" {
				in := protocolInput{sig: args[0], content: content, trust: trust, crls: crls, listUsed: list != nil, listFlag: trustList, rf: rf, lang: lang}
				if err := writeProtocol(cmd.Context(), report, rep, in); err != nil {
					return err
				}
			}
			if extract != "" {
				if rep.Detached || rep.Content == nil {
					return usageErr("--extract: the signature is detached, there is no content to extract")
				}
				if err := atomicfile.WriteFile(extract, rep.Content, 0o644); err != nil {
					return usageErr("%v", err)
				}
			}
			switch rep.Indication {
			case verify.TotalPassed:
				return nil
			case verify.TotalFailed:
				return &exitError{code: exitFail, err: fmt.Errorf("signature %s", joinIndication(rep))}
			default:
				var chains []*certs.ChainResult
				for _, sr := range rep.Signers {
					chains = append(chains, sr.Chain)
				}
				if h := crlHint(chains...); h != "" {
					return &exitError{code: exitIndeterminate, err: fmt.Errorf("signature %s: %s", joinIndication(rep), h)}
				}
				if strings.HasSuffix(joinIndication(rep), "/"+verify.SignedDataNotFound) && content == "" {
					return &exitError{code: exitIndeterminate, err: fmt.Errorf("signature %s: the signature is detached: give the signed document with --content FILE", joinIndication(rep))}
				}
				return &exitError{code: exitIndeterminate, err: fmt.Errorf("signature %s", joinIndication(rep))}
			}
		},
	}
	f := cmd.Flags()
	f.StringVar(&content, "content", "", "the signed file, for a detached signature")
	f.StringArrayVar(&trust, "trust", nil, "trusted root certificate file (repeatable)")
	f.StringArrayVar(&inter, "intermediate", nil, "intermediate certificate file (repeatable)")
	f.StringArrayVar(&crls, "crl", nil, "CRL file used offline (repeatable)")
	rf.add(cmd)
	f.StringVar(&trustList, "trust-list", "", "list of accredited CAs (default: the one kep trust update stored, if any; none: do not use one)")
	f.BoolVar(&qualified, "qualified", false, "fail a signature whose CA was not accredited when it was made")
	f.StringVar(&at, "at", "", "validation time, RFC 3339 (default now)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&extract, "extract", "", "write the content of an attached signature to this file")
	f.StringVar(&report, "report", "", "write a verification protocol, one page per signature in the --lang language: FILE.pdf or FILE.html")
	f.StringVar(&lang, "lang", defaultLang(), "language of the summary: ru or en")
	f.StringVar(&profile, "profile", "cms", "cms (any RFC 5652 signature), cades-bes (require CAdES-BES attributes), cades-t (and a valid signature time-stamp) or xl (and CAdES-X Long Type 1 or 2 values, for validation without network; xlt1 is the same)")
	f.StringVar(&purpose, "purpose", "sign", "certificate purpose: sign, login or any")
	return cmd
}

func printReport(w io.Writer, rep *verify.Report, asJSON bool, lang string) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	_, err := io.WriteString(w, rep.Summary(lang))
	return err
}

func joinIndication(rep *verify.Report) string {
	if rep.SubIndication != "" {
		return rep.Indication + "/" + rep.SubIndication
	}
	if len(rep.Signers) > 0 && rep.Signers[0].SubIndication != "" {
		return rep.Indication + "/" + rep.Signers[0].SubIndication
	}
	return rep.Indication
}
