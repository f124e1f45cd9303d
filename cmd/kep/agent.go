package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/agent"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/tsp"
)

// agentMemoryLimit is the agent's soft memory limit (GOMEMLIMIT overrides it).
const agentMemoryLimit = 256 << 20

func newAgentCmd() *cobra.Command {
	var (
		port                    int
		softDir, configFile     string
		auditFile               string
		modules, allow, pagePIN []string
		trust                   []string
		noDiscover, noBrowser   bool
		noRelay                 bool
		uiKind                  string
		browser                 []string
		useTLS                  bool
		tsaURL                  string
		pinCache                time.Duration
		cryptoproDirs           []string
		noCryptoProSearch       bool
	)
	cmd := &cobra.Command{
		Use:   "agent [--port N] [--soft DIR] [--module M]... [--cryptopro DIR]... [--allow-origin O]... [--page-pin-origin O]... [--trust CA]... [--config FILE]",
		Short: "Run the local agent browsers use to sign and log in with КЭП",
		Long: `Run the agent: a WebSocket JSON-RPC server on 127.0.0.1 and [::1] that web pages
use (through kep.js) to list certificates, sign and log in with keys on PKCS#11
tokens, the software token and CryptoPro CSP key containers used in place
(--cryptopro, and those found where CryptoPro keeps them: its key store and
removable drives; --no-cryptopro-search turns the search off). A container is
only read, never copied or changed; its password is asked in the agent's window. Sites must be approved by the user first (in the
agent's own window); the PIN is entered in that window, never in the site's page.

The configuration file (default: kep/agent.json in the user's config directory)
holds the same settings as the flags; flags add to it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			optional := configFile == ""
			if optional {
				var err error
				if configFile, err = agent.DefaultConfigFile(); err != nil {
					return usageErr("%v", err)
				}
			}
			fc, err := agent.LoadFileConfig(configFile, optional)
			if err != nil {
				return usageErr("%v", err)
			}
			if cmd.Flags().Changed("port") || fc.Port == 0 {
				fc.Port = port
			}
			if softDir != "" {
				fc.Soft = softDir
			}
			if fc.Soft == "" {
				fc.Soft = os.Getenv("KEP_SOFT_DIR")
			}
			discover := (fc.Discover == nil || *fc.Discover) && !noDiscover
			roots, err := certs.ReadCertificateFiles(append(fc.Trust, trust...))
			if err != nil {
				return usageErr("%v", err)
			}
			if os.Getenv("GOMEMLIMIT") == "" {
				// The agent bounds the messages it holds (Limits.MessageBudget);
				// a soft limit makes the collector return their memory
				// before the heap doubles past it.
				debug.SetMemoryLimit(agentMemoryLimit)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			cpSearch := (fc.CryptoProSearch == nil || *fc.CryptoProSearch) && !noCryptoProSearch
			kc := keystore.Config{Modules: append(fc.Modules, modules...), Discover: discover, SoftDir: fc.Soft,
				CryptoPro: append(fc.CryptoPro, cryptoproDirs...), CryptoProSearch: cpSearch}
			if v := os.Getenv("KEP_CRYPTOPRO_PATH"); v != "" && cpSearch {
				// Else the usual places, looked up at each listing (a
				// flash drive may get a new drive letter).
				kc.CryptoProRoots = filepath.SplitList(v)
			}
			keys, err := keystore.Open(ctx, kc)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			defer keys.Close()
			stderr := cmd.ErrOrStderr()
			logger := slog.New(slog.NewTextHandler(stderr, nil))
			var ui agent.UI
			switch uiKind {
			case "browser":
				pu := &agent.PageUI{Logger: logger, Browser: browser, User: currentUserName(),
					Unopened: func(url string) {
						fmt.Fprintf(stderr, "kep: no browser could be opened here; open %s in your browser to answer (it works once)\n", url)
					}}
				if noBrowser {
					// The user's own terminal, not a command line: other
					// users cannot read it.
					pu.Open = func(url string) error {
						fmt.Fprintf(stderr, "kep: open %s in your browser to answer (it works once)\n", url)
						return nil
					}
				}
				ui = pu
			case "terminal":
				ui = &agent.TerminalUI{}
			default:
				return usageErr("--ui must be browser or terminal")
			}
			sitesFile, err := agent.DefaultSitesFile()
			if err != nil {
				return usageErr("%v", err)
			}
			if auditFile == "" {
				if auditFile, err = agent.DefaultAuditFile(); err != nil {
					return usageErr("%v", err)
				}
			}
			audit, err := agent.OpenAuditLog(auditFile)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			var cert *tls.Certificate
			if useTLS {
				dir, err := agent.DefaultTLSDir()
				if err != nil {
					return usageErr("%v", err)
				}
				lt, err := agent.EnsureLocalTLS(dir, time.Now())
				if err != nil {
					return &exitError{code: exitFail, err: err}
				}
				cert = &lt.Certificate
				if lt.Created {
					fmt.Fprintf(stderr, "kep: made a local CA for wss://127.0.0.1; add %s to the browser's trusted roots\n"+
						"     (it can only vouch for localhost, 127.0.0.1 and ::1; its private key was not kept)\n",
						filepath.Join(dir, agent.LocalCAFile))
				}
			}
			if tsaURL == "" {
				tsaURL = fc.TSA
			}
			var ts sign.Timestamper
			if tsaURL != "" {
				ts = &tsp.Client{URL: tsaURL}
			}
			if pinCache < 0 || pinCache > time.Hour {
				return usageErr("--pin-cache: from 0 (off) to 1h")
			}
			idFile, err := agent.DefaultIdentityFile()
			if err != nil {
				return usageErr("%v", err)
			}
			identity, err := agent.LoadIdentity(idFile)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			a, err := agent.New(agent.Config{Port: fc.Port, Identity: identity, TLS: cert, SoftToken: fc.Soft != "", Timestamper: ts, PINCache: pinCache, Keys: keys, Roots: roots, AllowOrigins: append(fc.AllowOrigins, allow...),
				PagePINOrigins: append(fc.PagePINOrigins, pagePIN...), Sites: agent.OpenSites(sitesFile), UI: ui,
				Audit: audit, Version: buildVersion(), Logger: logger})
			if err != nil {
				return usageErr("%v", err)
			}
			if err := a.Listen(ctx); err != nil {
				return &exitError{code: exitFail, err: err}
			}
			if !noRelay {
				// The browser extension's road (kep native-host); the
				// WebSocket serves without it.
				if path, err := agent.DefaultRelaySocket(); err != nil {
					fmt.Fprintf(stderr, "kep: no relay socket for the browser extension: %v\n", err)
				} else if err := a.ListenRelay(path); err != nil {
					fmt.Fprintf(stderr, "kep: %v\n", err)
				} else {
					fmt.Fprintf(stderr, "  browser extension relay %s\n", path)
				}
			}
			printAgentStart(stderr, a, keys, fc.Soft, kc)
			<-ctx.Done()
			a.Close()
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&port, "port", agent.DefaultPort, "port on 127.0.0.1 and [::1]")
	f.StringVar(&softDir, "soft", "", "software token directory (default $KEP_SOFT_DIR)")
	f.StringArrayVar(&modules, "module", nil, "PKCS#11 library (repeatable)")
	f.StringArrayVar(&cryptoproDirs, "cryptopro", nil, "CryptoPro CSP key container (folder or zip) used in place, without importing (repeatable)")
	f.BoolVar(&noCryptoProSearch, "no-cryptopro-search", false, "do not list the CryptoPro containers found in CryptoPro's key store and on removable drives ($KEP_CRYPTOPRO_PATH, else the usual places)")
	f.BoolVar(&noDiscover, "no-discover", false, "do not look for PKCS#11 modules at the vendors' usual paths")
	f.StringArrayVar(&allow, "allow-origin", nil, "approve this origin without asking (repeatable)")
	f.StringArrayVar(&pagePIN, "page-pin-origin", nil, "let this origin pass the PIN itself: kiosks and automated clients only (repeatable)")
	f.StringArrayVar(&trust, "trust", nil, "trusted CA certificates for verify and certs.check (repeatable)")
	f.StringVar(&configFile, "config", "", "configuration file (default kep/agent.json in the user's config directory)")
	f.StringVar(&auditFile, "audit", "", "audit log (default kep/agent/audit.log in the user's config directory)")
	f.StringVar(&uiKind, "ui", "browser", "where the user approves and types the PIN: browser (the agent's page) or terminal")
	f.DurationVar(&pinCache, "pin-cache", 0, "keep the PIN typed for a token this long (e.g. 5m): signatures are still approved one by one; off by default")
	f.StringVar(&tsaURL, "tsa", "", "time-stamping authority URL: every signature gets a signature time-stamp (CAdES-T)")
	f.BoolVar(&useTLS, "tls", false, "also serve wss:// on the next port, with a certificate from a local CA made for this install")
	f.BoolVar(&noRelay, "no-relay", false, "do not serve the browser extension (kep native-host) on the relay socket")
	f.BoolVar(&noBrowser, "no-browser", false, "print the confirmation page's address instead of opening the browser")
	f.StringArrayVar(&browser, "browser", nil, "command that opens the confirmation page (a file:// URL is added as its last argument; default xdg-open, open or rundll32); repeat for each word")
	cmd.AddCommand(newAgentSitesCmd())
	return cmd
}

// currentUserName is the login name the agent runs as, shown in its windows.
func currentUserName() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

func printAgentStart(w io.Writer, a *agent.Agent, keys *keystore.Store, soft string, kc keystore.Config) {
	fmt.Fprintf(w, "kep agent %s listening on http://127.0.0.1:%d (WebSocket /ws, client /kep.js) for user %s\n", buildVersion(), a.Port(), currentUserName())
	if a.TLSPort() != 0 {
		fmt.Fprintf(w, "  and wss://127.0.0.1:%d/ws\n", a.TLSPort())
	}
	for _, m := range keys.Modules() {
		if m.Loaded {
			fmt.Fprintf(w, "  PKCS#11 module %s\n", m.Path)
		} else if m.Source == "explicit" {
			fmt.Fprintf(w, "  PKCS#11 module %s: %v\n", m.Path, m.Err)
		}
	}
	if soft != "" {
		fmt.Fprintf(w, "  software token %s\n", soft)
	}
	for _, c := range kc.CryptoPro {
		fmt.Fprintf(w, "  CryptoPro container %s\n", c)
	}
	if kc.CryptoProSearch {
		fmt.Fprintf(w, "  CryptoPro containers in %s\n", strings.Join(searchRoots(), ", "))
	}
	list, err := keys.Certificates(context.Background())
	fmt.Fprintf(w, "  %d certificate(s)\n", len(list))
	if err != nil {
		fmt.Fprintf(w, "  warning: %v\n", err)
	}
}

func newAgentSitesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sites",
		Short: "List or revoke the sites allowed to use the agent",
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the approved sites",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sites, err := openSites()
			if err != nil {
				return err
			}
			l, err := sites.List()
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), l)
			}
			for _, s := range l {
				scope := "all certificates"
				if s.Scope == agent.ScopeChosen {
					scope = "certificates " + strings.Join(s.Certificates, ", ")
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\tapproved %s\t%s\n", s.Origin, s.Approved.Local().Format("2006-01-02 15:04"), scope)
			}
			if len(l) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no site is approved")
			}
			return nil
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	revoke := &cobra.Command{
		Use:   "revoke ORIGIN",
		Short: "Withdraw a site's access (it must ask again)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			origin, err := agent.CheckOrigin(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			sites, err := openSites()
			if err != nil {
				return err
			}
			ok, err := sites.Revoke(origin)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			if !ok {
				return &exitError{code: exitFail, err: fmt.Errorf("%s was not approved", origin)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", origin)
			return nil
		},
	}
	cmd.AddCommand(list, revoke)
	return cmd
}

func openSites() (*agent.Sites, error) {
	path, err := agent.DefaultSitesFile()
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return agent.OpenSites(path), nil
}
