package main

import (
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/serve"
)

func newServeCmd() *cobra.Command {
	var configFile string
	var flags serve.Config
	var trust, inter, crls, origins []string
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR] [--config FILE] [--api-keys FILE] [--tls-cert F --tls-key F] [--client-ca F] [--trust CA]... [--nonce-store redis://…]",
		Short: "Serve signature verification and КЭП login over HTTP (JSON API, OpenAPI 3.1)",
		Long: `Serve kep's verification and login to backends in any language: a versioned
JSON API (GET /v1/openapi.json documents it): POST /v1/signatures/verify,
POST /v1/certificates/verify, GET /v1/certificates/{thumbprint},
POST /v1/login/challenges, POST /v1/login/verify, GET /v1/trust, and /healthz,
/readyz, /metrics (Prometheus).

Settings come from --config FILE (JSON), then the KEP_SERVE_* environment
variables (` + strings.Join(serve.EnvNames(), ", ") + `),
then the flags. Callers authenticate with a bearer key from --api-keys FILE
("NAME KEY" lines) or a client certificate issued by --client-ca (with TLS);
the server does not start without one of them unless --no-auth. SIGINT or
SIGTERM stop it after the requests in flight finish.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cfg serve.Config
			if configFile != "" {
				var err error
				if cfg, err = serve.LoadConfig(configFile); err != nil {
					return usageErr("--config: %v", err)
				}
			}
			if err := cfg.ApplyEnv(os.LookupEnv); err != nil {
				return usageErr("%v", err)
			}
			f := cmd.Flags()
			set := func(name string, apply func()) {
				if f.Changed(name) {
					apply()
				}
			}
			set("listen", func() { cfg.Listen = flags.Listen })
			set("api-keys", func() { cfg.APIKeys = flags.APIKeys })
			set("no-auth", func() { cfg.NoAuth = flags.NoAuth })
			set("tls-cert", func() { cfg.TLSCert = flags.TLSCert })
			set("tls-key", func() { cfg.TLSKey = flags.TLSKey })
			set("client-ca", func() { cfg.ClientCA = flags.ClientCA })
			set("trust", func() { cfg.Trust = trust })
			set("intermediate", func() { cfg.Intermediates = inter })
			set("crl", func() { cfg.CRLs = crls })
			set("trust-list", func() { cfg.TrustList = flags.TrustList })
			set("revocation", func() { cfg.Revocation = flags.Revocation })
			set("soft-fail", func() { cfg.SoftFail = flags.SoftFail })
			set("nonce-store", func() { cfg.NonceStore = flags.NonceStore })
			set("shared-cache", func() { cfg.SharedCache = flags.SharedCache })
			set("login-origin", func() { cfg.LoginOrigins = origins })
			set("max-concurrent", func() { cfg.MaxConcurrent = flags.MaxConcurrent })
			set("max-body", func() { cfg.MaxBodyBytes = flags.MaxBodyBytes })
			set("log-personal-data", func() { cfg.LogPersonalData = flags.LogPersonalData })
			set("log-level", func() { cfg.LogLevel = flags.LogLevel })

			var level slog.Level
			if cfg.LogLevel != "" {
				if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
					return usageErr("log level: %v", err)
				}
			}
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := serve.New(ctx, cfg, log)
			if err != nil {
				return usageErr("%v", err)
			}
			defer srv.Close()
			hs, err := srv.HTTPServer()
			if err != nil {
				return usageErr("%v", err)
			}
			ln, err := net.Listen("tcp", hs.Addr)
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			if err := srv.Serve(ctx, ln); err != nil {
				return &exitError{code: exitFail, err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "config file (JSON; see the README's kep serve section)")
	f.StringVar(&flags.Listen, "listen", "127.0.0.1:8780", "address to listen on")
	f.StringVar(&flags.APIKeys, "api-keys", "", `file of callers' bearer keys, "NAME KEY" per line`)
	f.BoolVar(&flags.NoAuth, "no-auth", false, "serve without authentication (behind a gateway that authenticates)")
	f.StringVar(&flags.TLSCert, "tls-cert", "", "TLS certificate (PEM); with --tls-key serves HTTPS and HTTP/2")
	f.StringVar(&flags.TLSKey, "tls-key", "", "TLS private key (PEM)")
	f.StringVar(&flags.ClientCA, "client-ca", "", "CA certificates (PEM) whose client certificates authenticate callers (mutual TLS)")
	f.StringArrayVar(&trust, "trust", nil, "trusted root certificate file (repeatable)")
	f.StringArrayVar(&inter, "intermediate", nil, "intermediate certificate file (repeatable)")
	f.StringArrayVar(&crls, "crl", nil, "CRL file used offline (repeatable)")
	f.StringVar(&flags.TrustList, "trust-list", "", "list of accredited CAs: a file or URL, reloaded on schedule (default: none)")
	f.StringVar(&flags.Revocation, "revocation", "auto", "default online revocation check: auto, ocsp, crl or off")
	f.BoolVar(&flags.SoftFail, "soft-fail", false, "accept certificates whose revocation data cannot be fetched (with a warning)")
	f.StringVar(&flags.NonceStore, "nonce-store", "", "login nonce store: redis://… for several instances, a directory, or memory (default $KEP_NONCE_DIR or the user cache dir)")
	f.StringVar(&flags.SharedCache, "shared-cache", "", "redis:// URL where instances share revocation answers and certificates seen")
	f.StringArrayVar(&origins, "login-origin", nil, "the only origin(s) logins are served for (repeatable; default any)")
	f.IntVar(&flags.MaxConcurrent, "max-concurrent", 0, "requests answered at once (default 4 × CPUs)")
	f.Int64Var(&flags.MaxBodyBytes, "max-body", 0, "largest request body in bytes (default 1 GiB; the content is streamed)")
	f.BoolVar(&flags.LogPersonalData, "log-personal-data", false, "log ФИО, СНИЛС, ИНН and thumbprints of logins")
	f.StringVar(&flags.LogLevel, "log-level", "", "debug, info, warn or error")
	return cmd
}
