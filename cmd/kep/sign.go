package main

import (
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/revocation"
	"github.com/kepkit/kep/internal/atomicfile"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/tsp"
)

func newSignCmd() *cobra.Command {
	var src signerSource
	var out, digest, cosign, tsaURL, profile string
	var chain, cas []string
	var attached, pemOut, noAttrs bool
	cmd := &cobra.Command{
		Use:   "sign (--key KEY.pem --cert CERT.pem | --module M [--token LABEL] --cert ID|THUMBPRINT | --soft DIR --cert ID|THUMBPRINT) [--chain F]... [--attached] [--pem] [-o OUT] [--tsa URL [--profile cades-t|xlt1 [--ca F]...]] FILE",
		Short: "Sign a file: CMS/CAdES-BES with GOST, RSA or ECDSA",
		Long: `Sign FILE with a private key and its certificate (OpenSSL formats: PKCS#8 keys as
openssl genpkey writes them, PEM or DER certificates), or with a key on a PKCS#11
token (--module; --cert is then the hex CKA_ID or the SHA-1 thumbprint CryptoPro
shows; --token may be left out when one token is present). The token PIN comes
from --pin-file, KEP_PIN, or a prompt without echo; it is never logged.
The signature is detached by default and goes to FILE.sig (DER); --attached embeds
the content, --pem writes PEM. --cosign SIG adds a signer to an existing signature
(written back to SIG unless -o). --tsa URL adds an RFC 3161 signature time-stamp
from that time-stamping authority (CAdES-T). --profile cades-bes|cades-t|xlt1 says
how far the signature goes: xlt1 (CAdES-X Long Type 1, «усовершенствованная
подпись») also embeds the signer's and the TSA's chains (built from the signer's
certificate, --chain, --ca, the TSA's token and the caIssuers addresses in the
certificates), an OCSP response or CRL for each
certificate below the root (fetched from the addresses in the certificates;
hard-fail), the references and a CAdES-C time-stamp from the same TSA, so that the
signature verifies years later without network. The output file is replaced
atomically: a failed run never leaves a partial file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			signer, cert, withCert, release, err := src.open(cmd.Context(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer release()
			extra, err := certs.ReadCertificateFiles(chain)
			if err != nil {
				return usageErr("%v", err)
			}
			opts := sign.Options{Attached: attached, Chain: append(withCert, extra...), NoSignedAttributes: noAttrs}
			if opts.Profile, err = sign.ParseProfile(profile); err != nil {
				return usageErr("--profile: %v", err)
			}
			if tsaURL != "" {
				if !strings.HasPrefix(tsaURL, "http://") && !strings.HasPrefix(tsaURL, "https://") {
					return usageErr("--tsa: an http:// or https:// URL")
				}
				opts.Timestamper = &tsp.Client{URL: tsaURL}
			} else if opts.Profile != sign.ProfileBES {
				return usageErr("--profile %s needs --tsa URL", opts.Profile)
			}
			if opts.Profile == sign.ProfileXLT1 {
				if opts.ValidationCerts, err = certs.ReadCertificateFiles(cas); err != nil {
					return usageErr("%v", err)
				}
				rc := &revocation.Checker{}
				if dir, err := os.UserCacheDir(); err == nil {
					rc.CacheDir = filepath.Join(dir, "kep", "crl")
				}
				opts.Revocation, opts.Issuers = rc, rc
			} else if len(cas) > 0 {
				return usageErr("--ca is for --profile xlt1")
			}
			if digest != "" {
				if opts.Digest, err = certs.DigestByName(digest); err != nil {
					return usageErr("%v", err)
				}
			}
			in, err := os.Open(file)
			if err != nil {
				return usageErr("%v", err)
			}
			defer in.Close()
			var der []byte
			if cosign != "" {
				existing, err := os.ReadFile(cosign)
				if err != nil {
					return usageErr("%v", err)
				}
				der, err = sign.Cosign(cmd.Context(), pemOrDER(existing), in, signer, cert, opts)
				if err != nil {
					return &exitError{code: exitFail, err: err}
				}
				if out == "" {
					out = cosign
				}
			} else {
				der, err = sign.Sign(cmd.Context(), in, signer, cert, opts)
				if err != nil {
					return &exitError{code: exitFail, err: err}
				}
			}
			if out == "" {
				out = file + ".sig"
			}
			data := der
			if pemOut {
				data = pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: der})
			}
			if out == "-" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			if err := atomicfile.WriteFile(out, data, 0o644); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			kind := "detached"
			if attached {
				kind = "attached"
			}
			if cosign != "" {
				kind = "co-signed"
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "kep: signed %s: wrote %s (%s, %d bytes, by %s)\n", file, out, kind, len(data), signerName(cert))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&src.keyFile, "key", "", "private key file (PKCS#8 PEM or DER, as openssl genpkey writes)")
	f.StringVar(&src.cert, "cert", "", "signer's certificate file (with --key), or its CKA_ID or thumbprint (with --module)")
	f.StringVar(&src.module, "module", "", "PKCS#11 library of the token (see kep tokens)")
	f.StringVar(&src.token, "token", "", "token label (may be left out when one token is present)")
	f.StringVar(&src.softDir, "soft", "", "software token directory (see kep soft)")
	f.StringVar(&src.cryptopro, "cryptopro", "", "CryptoPro CSP key container used in place, not imported: its folder, a zip of it, or auto (--cert: a certificate file when it holds none)")
	f.StringVar(&src.passwordFile, "password-file", "", "with --cryptopro: file whose first line is the container's password (else the empty one, then a prompt)")
	f.StringVar(&src.pinFile, "pin-file", "", "file whose first line is the token PIN (else KEP_PIN, else a prompt)")
	f.StringArrayVar(&chain, "chain", nil, "further certificates to include (repeatable)")
	f.BoolVar(&attached, "attached", false, "embed the content in the signature")
	f.BoolVar(&pemOut, "pem", false, "write PEM instead of DER")
	f.BoolVar(&noAttrs, "no-signed-attributes", false, "plain PKCS#7-style signature without CAdES attributes")
	f.StringVarP(&out, "output", "o", "", "output file (default FILE.sig; - for standard output)")
	f.StringVar(&digest, "digest", "", "digest: streebog256, streebog512, sha256, … (default: the key's)")
	f.StringVar(&cosign, "cosign", "", "add a signer to this existing signature")
	f.StringVar(&tsaURL, "tsa", "", "time-stamping authority URL: add a signature time-stamp (CAdES-T)")
	f.StringVar(&profile, "profile", "cades-bes", "cades-bes, cades-t (needs --tsa) or xlt1 (CAdES-X Long Type 1: needs --tsa, fetches OCSP/CRL data)")
	f.StringArrayVar(&cas, "ca", nil, "with --profile xlt1: CA certificates (the root…) the chains are built from, kept in certificate-values (repeatable)")
	return cmd
}

// pemOrDER returns the DER inside a PEM block, or data unchanged.
func pemOrDER(data []byte) []byte {
	if b, _ := pem.Decode(data); b != nil {
		return b.Bytes
	}
	return data
}

// signerName is the certificate holder as a person reads it: ФИО, else the
// common name.
func signerName(c *certs.Certificate) string {
	q := c.Qualified
	name := strings.TrimSpace(q.Surname + " " + q.GivenName)
	if name == "" {
		name = c.Subject.CommonName
	}
	if q.Organization != "" && q.Organization != name {
		name += ", " + q.Organization
	}
	return name
}
