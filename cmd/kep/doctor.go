package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/agent"
	"github.com/kepkit/kep/agent/diagnose"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11/keystore"
)

func newDoctorCmd() *cobra.Command {
	var (
		modules, trust, inter, crls []string
		softDir, certID, origin     string
		noDiscover, asJSON          bool
		agentPort                   int
		maxSkew                     time.Duration
		lang                        string
		rf                          revocationFlags
		trustList                   string
	)
	cmd := &cobra.Command{
		Use:   "doctor [--module M]... [--soft DIR] [--cert ID] [--origin O] [--trust CA]... [--json] [--lang ru|en]",
		Short: "Find out why a КЭП login or signature fails on this computer, and what to do",
		Long: `Check what a login or signature with КЭП needs on this computer: token drivers
(PKCS#11 modules) and the smart card service, tokens and their PIN state, the
certificates (validity, expiry within 30 days, chain to the --trust roots,
revocation, key match, algorithm), the clock (against the --origin site's
server time), whether the kep agent runs and whether --origin is allowed to use
it. Each finding has a stable code, a message and a fix, in Russian or English.
Nothing is signed and no PIN is asked. Exit 0 when nothing is an error, else 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if softDir == "" {
				// As kep agent does (KEP_SOFT_DIR), and the demo's token when there is one.
				var from string
				if softDir, from = defaultSoftDir(); softDir != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "kep doctor: software token %s (%s; --soft DIR for another)\n", softDir, from)
				}
			}
			keys, err := keystore.Open(ctx, keystore.Config{Modules: modules, Discover: !noDiscover, SoftDir: softDir})
			if err != nil {
				return &exitError{code: exitFail, err: softHint(softDir, err)}
			}
			defer keys.Close()
			in := diagnose.Input{Modules: keys.Modules(), SoftToken: softDir != "", CertID: certID, MaxSkew: maxSkew, ReportUnchecked: true}
			in.Tokens, _ = keys.Tokens(ctx)
			in.Entries, in.ListErr = keys.Certificates(ctx)
			if len(trust) > 0 {
				if in.Roots, err = certs.ReadCertificateFiles(trust); err != nil {
					return usageErr("%v", err)
				}
				if in.Intermediates, err = certs.ReadCertificateFiles(inter); err != nil {
					return usageErr("%v", err)
				}
				if in.CRLs, err = readCRLFiles(crls); err != nil {
					return usageErr("%v", err)
				}
				if in.Revocation, err = rf.checker(); err != nil {
					return err
				}
			}
			if list, _, err := loadTrustList(trustList); err != nil {
				return err
			} else if list != nil {
				in.Roots, in.Intermediates = withTrustList(list, in.Roots, in.Intermediates)
				in.Accredited = func(ca *certs.Certificate, at time.Time) (bool, error) {
					return list.Accredited(ca, at).Accredited, nil
				}
			}
			if agentPort > 0 {
				in.AgentURL = fmt.Sprintf("http://127.0.0.1:%d/", agentPort)
			}
			if origin != "" {
				if in.Origin, err = agent.CheckOrigin(origin); err != nil {
					return usageErr("--origin: %v", err)
				}
				in.Approved = originApproved(in.Origin)
				if ref, err := diagnose.ServerTime(ctx, nil, in.Origin); err == nil {
					in.References = append(in.References, ref)
				} else {
					fmt.Fprintf(cmd.ErrOrStderr(), "kep: cannot read the time of %s: %v\n", in.Origin, err)
				}
			}
			if in.ListErr != nil {
				in.ListErr = softHint(softDir, in.ListErr)
			}
			r := diagnose.Run(ctx, in)
			// The browser extension's road: the host per browser, the relay.
			relay, _ := agent.DefaultRelaySocket()
			r.Findings = append(r.Findings, diagnose.Extension(agent.HostRegistrations(ctx), relay)...)
			r.Findings = append(r.Findings, autostartFindings(ctx)...)
			for i, f := range r.Findings {
				if f.Code != diagnose.ChainNotChecked {
					continue
				}
				for _, m := range demoManifests() {
					r.Findings[i].Fix += " For the demo: --trust " + m.Path(m.CA) + "."
					r.Findings[i].FixRU += " Для демонстрации: --trust " + m.Path(m.CA) + "."
					break
				}
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), r); err != nil {
					return err
				}
			} else {
				printFindings(cmd.OutOrStdout(), r, lang)
			}
			if r.HasErrors() {
				return &exitError{code: exitFail, err: fmt.Errorf("problems found")}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&modules, "module", nil, "PKCS#11 library to check (repeatable)")
	f.StringVar(&softDir, "soft", "", "software token directory")
	f.BoolVar(&noDiscover, "no-discover", false, "only the --module libraries, not the vendors' usual ones")
	f.StringVar(&certID, "cert", "", "check only this certificate (SHA-1 thumbprint)")
	f.StringVar(&origin, "origin", "", "the site you log in to: its clock and whether the agent allows it")
	f.StringArrayVar(&trust, "trust", nil, "trusted root certificates, to check the chains (repeatable)")
	f.StringArrayVar(&inter, "intermediate", nil, "intermediate certificate file (repeatable)")
	f.StringArrayVar(&crls, "crl", nil, "CRL file (repeatable)")
	rf.add(cmd)
	f.StringVar(&trustList, "trust-list", "", "list of accredited CAs (default: the stored one, if any; none: do not use one)")
	f.IntVar(&agentPort, "agent-port", agent.DefaultPort, "port of the kep agent to look for (0: do not look)")
	f.DurationVar(&maxSkew, "max-skew", 5*time.Minute, "largest clock difference that is not an error")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.StringVar(&lang, "lang", defaultLang(), "language: ru or en")
	return cmd
}

// originApproved reports whether the agent's site list or configuration
// approves origin.
func originApproved(origin string) bool {
	if path, err := agent.DefaultSitesFile(); err == nil && agent.OpenSites(path).Approved(origin) {
		return true
	}
	path, err := agent.DefaultConfigFile()
	if err != nil {
		return false
	}
	fc, err := agent.LoadFileConfig(path, true)
	if err != nil {
		return false
	}
	for _, o := range append(fc.AllowOrigins, fc.PagePINOrigins...) {
		if n, err := agent.CheckOrigin(o); err == nil && n == origin {
			return true
		}
	}
	return false
}

func printFindings(w io.Writer, r *diagnose.Report, lang string) {
	counts := map[diagnose.Severity]int{}
	for _, f := range r.Findings {
		counts[f.Severity]++
	}
	if lang == "ru" {
		fmt.Fprintf(w, "kep doctor: ошибок %d, предупреждений %d\n", counts[diagnose.Error], counts[diagnose.Warning])
	} else {
		fmt.Fprintf(w, "kep doctor: %d error(s), %d warning(s)\n", counts[diagnose.Error], counts[diagnose.Warning])
	}
	label := map[diagnose.Severity]string{diagnose.Error: "ERROR", diagnose.Warning: "WARN ", diagnose.Info: "ok   "}
	for _, f := range r.Findings {
		msg, fix := f.Text(lang)
		fmt.Fprintf(w, "%s %s: %s\n", label[f.Severity], f.Code, msg)
		if fix != "" {
			fmt.Fprintf(w, "      → %s\n", strings.TrimSpace(fix))
		}
	}
}

// defaultSoftDir is the software token kep doctor looks at without --soft:
// $KEP_SOFT_DIR (as kep agent and kep-pkcs11.so use it), else the demo's
// token if kep demo init made one; from says which.
func defaultSoftDir() (dir, from string) {
	if d := os.Getenv("KEP_SOFT_DIR"); d != "" {
		return d, "KEP_SOFT_DIR"
	}
	for _, m := range demoManifests() {
		if d := m.Path(m.Token); isSoftToken(d) {
			return d, "the demo's, made by kep demo init"
		}
	}
	return "", ""
}
