package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/verify/login"
)

func newLoginCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in with a qualified certificate: challenges, responses, verification",
		Long: `Certificate login (вход по КЭП) without browser plug-ins. A relying party issues a
single-use challenge (kep login challenge), the user signs a response with the key
of the certificate (kep login sign), and the relying party verifies it into the
user's identity or a refusal with a stable reason (kep login verify).

Nonce stores (--nonce-store): a directory (default $KEP_NONCE_DIR, else kep/nonces
in the user's cache directory), shared by every process on the machine, or a
redis:// URL shared by many servers.`,
	}
	cmd.AddCommand(newLoginChallengeCmd(), newLoginSignCmd(), newLoginVerifyCmd())
	return cmd
}

// openNonceStore opens the store the flag names; close releases it.
func openNonceStore(spec string) (store login.NonceStore, close func(), err error) {
	s, err := login.OpenStore(spec)
	if err != nil {
		return nil, nil, usageErr("--nonce-store: %v", err)
	}
	return s, func() {
		if c, ok := s.(io.Closer); ok {
			c.Close()
		}
	}, nil
}

func newLoginChallengeCmd() *cobra.Command {
	var origin, storeSpec string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "challenge --origin ORIGIN [--ttl D] [--nonce-store DIR|redis://…]",
		Short: "Issue a login challenge for ORIGIN and record its nonce",
		Long: `Print a new challenge as JSON ({"nonce","origin","serverTime","expires"}) bound to
ORIGIN (https://host[:port]; http only for localhost, 127.0.0.1 and [::1]) and
record its nonce in the store, where kep login verify takes it once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if origin == "" {
				return usageErr("--origin is required")
			}
			if _, err := login.NormalizeOrigin(origin); err != nil {
				return usageErr("%v", err)
			}
			if ttl <= 0 {
				return usageErr("--ttl must be positive")
			}
			store, closeStore, err := openNonceStore(storeSpec)
			if err != nil {
				return err
			}
			defer closeStore()
			ch, err := (&login.Issuer{Store: store, TTL: ttl}).Challenge(cmd.Context(), origin)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			return writeJSON(cmd.OutOrStdout(), ch)
		},
	}
	f := cmd.Flags()
	f.StringVar(&origin, "origin", "", "the relying party's origin, scheme://host[:port]")
	f.DurationVar(&ttl, "ttl", login.DefaultTTL, "how long the challenge is valid")
	f.StringVar(&storeSpec, "nonce-store", "", "nonce store: a directory or a redis:// URL (default $KEP_NONCE_DIR or the user cache dir)")
	return cmd
}

func newLoginSignCmd() *cobra.Command {
	var src signerSource
	var format string
	var chain []string
	var ignoreSkew bool
	var maxSkew time.Duration
	cmd := &cobra.Command{
		Use:   "sign (--key KEY --cert CERT | --module M --cert ID | --soft DIR --cert ID) [--format bound|esia-compatible] CHALLENGE_FILE|-",
		Short: "Sign a login challenge and print the response",
		Long: `Read a challenge (the JSON kep login challenge prints; with --format
esia-compatible also a bare challenge string) and print the response JSON,
{"format":…,"cms":base64}. bound (the default) signs a document naming the origin
and the nonce; esia-compatible signs the challenge string as received, as ЕСИА
does with Госплагин. When this computer's clock differs from the challenge's
serverTime by more than --max-skew nothing is signed (exit 1) unless --ignore-skew.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := login.ParseFormat(format)
			if err != nil {
				return usageErr("--format: %v", err)
			}
			data, err := readInput(cmd.InOrStdin(), args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			ch, chErr := login.ParseChallenge(data)
			raw := strings.TrimSpace(string(data))
			if chErr != nil && (f != login.FormatESIACompatible || raw == "" || strings.HasPrefix(raw, "{")) {
				return usageErr("%s: %v", args[0], chErr)
			}
			signer, cert, withCert, release, err := src.open(cmd.Context(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			defer release()
			extra, err := certs.ReadCertificateFiles(chain)
			if err != nil {
				return usageErr("%v", err)
			}
			cl := &login.Client{MaxSkew: maxSkew, IgnoreSkew: ignoreSkew, Chain: append(withCert, extra...)}
			var resp []byte
			if chErr == nil {
				resp, err = cl.Sign(cmd.Context(), ch, f, signer, cert)
			} else {
				resp, err = cl.SignString(cmd.Context(), raw, signer, cert)
			}
			var se *login.SkewError
			if errors.As(err, &se) {
				return &exitError{code: exitFail, err: fmt.Errorf("%v (--ignore-skew signs anyway)", se)}
			}
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", resp)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&src.keyFile, "key", "", "private key file (PKCS#8 PEM or DER, as openssl genpkey writes)")
	fl.StringVar(&src.cert, "cert", "", "certificate file (with --key), or its CKA_ID or thumbprint (with --module)")
	fl.StringVar(&src.module, "module", "", "PKCS#11 library of the token (see kep tokens)")
	fl.StringVar(&src.token, "token", "", "token label (may be left out when one token is present)")
	fl.StringVar(&src.softDir, "soft", "", "software token directory (see kep soft); --cert is then its CKA_ID or thumbprint")
	fl.StringVar(&src.cryptopro, "cryptopro", "", "CryptoPro CSP key container used in place: its folder, a zip of it, or auto")
	fl.StringVar(&src.passwordFile, "password-file", "", "with --cryptopro: file whose first line is the container's password")
	fl.StringVar(&src.pinFile, "pin-file", "", "file whose first line is the token PIN (else KEP_PIN, else a prompt)")
	fl.StringArrayVar(&chain, "chain", nil, "further certificates to include (repeatable)")
	fl.StringVar(&format, "format", string(login.FormatBound), "response format: bound or esia-compatible")
	fl.DurationVar(&maxSkew, "max-skew", login.DefaultMaxSkew, "largest clock difference from the challenge's serverTime")
	fl.BoolVar(&ignoreSkew, "ignore-skew", false, "sign even when the clocks differ by more than --max-skew")
	return cmd
}

// refusalJSON is what kep login verify prints for a refused login.
type refusalJSON struct {
	Refused bool `json:"refused"`
	*login.RefusalError
}

func newLoginVerifyCmd() *cobra.Command {
	var origin, storeSpec string
	var trust, inter, crls []string
	var maxSkew time.Duration
	var boundOnly, requireRevocation bool
	var rf revocationFlags
	var trustList string
	cmd := &cobra.Command{
		Use:   "verify --origin ORIGIN --trust CA... [--intermediate F]... [--crl F]... [--revocation auto|ocsp|crl|off] [--nonce-store …] [--max-skew D] RESPONSE_FILE|-",
		Short: "Verify a login response and print the identity",
		Long: `Verify a login response sent to ORIGIN: the signature, the certificate path to the
--trust roots (for login: digitalSignature, extKeyUsage clientAuth or none), the
nonce (taken from the store: a response is accepted once), the origin and the
signer's clock (--max-skew). Prints the identity as JSON and exits 0, or prints
the refusal ({"refused":true,"reason","indication","subIndication","detail"}) and
exits 1 (3 when the answer could not be reached, e.g. revocation unknown or the
nonce store unavailable). Revocation: the --crl files, then OCSP and the CRL
distribution points (hard-fail: unreachable means exit 3) unless --revocation off.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if origin == "" {
				return usageErr("--origin is required")
			}
			if len(trust) == 0 && trustList == "" {
				if path, err := trustlistFile(); err != nil || !fileExists(path) {
					trustList = "none"
				}
			}
			if len(trust) == 0 && trustList == "none" {
				return usageErr("--trust is required (or a list of accredited CAs: kep trust update, --trust-list FILE)")
			}
			if maxSkew <= 0 {
				return usageErr("--max-skew must be positive")
			}
			data, err := readInput(cmd.InOrStdin(), args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			v := &login.Verifier{MaxSkew: maxSkew, AllowESIACompatible: !boundOnly, RequireRevocation: requireRevocation}
			if v.Roots, err = certs.ReadCertificateFiles(trust); err != nil {
				return usageErr("%v", err)
			}
			if v.Intermediates, err = certs.ReadCertificateFiles(inter); err != nil {
				return usageErr("%v", err)
			}
			if v.CRLs, err = readCRLFiles(crls); err != nil {
				return usageErr("%v", err)
			}
			if v.Revocation, err = rf.checker(); err != nil {
				return err
			}
			list, _, err := loadTrustList(trustList)
			if err != nil {
				return err
			}
			if list != nil {
				v.Roots, v.Intermediates = withTrustList(list, v.Roots, v.Intermediates)
				v.Accreditation = list
			}
			store, closeStore, err := openNonceStore(storeSpec)
			if err != nil {
				return err
			}
			defer closeStore()
			v.Store = store
			id, err := v.Verify(cmd.Context(), origin, data)
			var r *login.RefusalError
			switch {
			case errors.As(err, &r):
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if werr := enc.Encode(refusalJSON{true, r}); werr != nil {
					return werr
				}
				code := exitFail
				if r.Reason == login.ReasonIndeterminate {
					code = exitIndeterminate
				}
				return &exitError{code: code, err: r}
			case err != nil:
				return &exitError{code: exitIndeterminate, err: err}
			}
			return writeJSON(cmd.OutOrStdout(), id)
		},
	}
	f := cmd.Flags()
	f.StringVar(&origin, "origin", "", "the origin the response was sent to, scheme://host[:port]")
	f.StringArrayVar(&trust, "trust", nil, "trusted root certificate file (repeatable)")
	f.StringArrayVar(&inter, "intermediate", nil, "intermediate certificate file (repeatable)")
	f.StringArrayVar(&crls, "crl", nil, "CRL file used offline (repeatable)")
	rf.add(cmd)
	f.StringVar(&trustList, "trust-list", "", "list of accredited CAs: their certificates are trusted and the signer's CA must be accredited (default: the stored one, if any; none: do not use one)")
	f.StringVar(&storeSpec, "nonce-store", "", "nonce store: a directory or a redis:// URL (default $KEP_NONCE_DIR or the user cache dir)")
	f.DurationVar(&maxSkew, "max-skew", login.DefaultMaxSkew, "largest allowed difference between the signer's clock and this one")
	f.BoolVar(&boundOnly, "bound-only", false, "refuse esia-compatible responses (which do not sign the origin)")
	f.BoolVar(&requireRevocation, "require-revocation", false, "refuse (exit 3) when neither a --crl nor the online check shows the certificate unrevoked")
	return cmd
}
