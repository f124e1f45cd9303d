package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/agent"
	"github.com/kepkit/kep/agent/portal"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/demopki"
)

func defaultDemoDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kep", "demo"), nil
}

func newDemoCmd() *cobra.Command {
	var (
		port, agentPort int
		dir             string
	)
	cmd := &cobra.Command{
		Use:   "demo [--port 8090] [--agent-port N] [--dir DIR]",
		Short: "Serve the demo portal: log in, sign and verify with КЭП through the agent",
		Long: `Serve a relying-party portal on http://localhost:PORT whose page uses the kep
agent (kep.js) to log in with a certificate ("Войти по КЭП"), sign a file and
verify a signature, and whose backend checks them with kep's verification
against the demo PKI in DIR (made by "kep demo init"). Run "kep agent --soft
DIR/token" beside it; "make run" starts both.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				var err error
				if dir, err = defaultDemoDir(); err != nil {
					return usageErr("%v", err)
				}
			}
			m, err := demopki.Load(dir)
			if errors.Is(err, fs.ErrNotExist) {
				return usageErr("no demo PKI in %s: run `kep demo init` first", dir)
			}
			if err != nil {
				return usageErr("%v", err)
			}
			roots, err := certs.ReadCertificateFiles([]string{m.Path(m.CA)})
			if err != nil {
				return usageErr("%v", err)
			}
			files := map[string][]byte{}
			var crls []*certs.CRL
			for _, name := range []string{m.CRL, m.RSACRL, m.CA} {
				data, err := os.ReadFile(m.Path(name))
				if err != nil {
					return usageErr("%v", err)
				}
				files[name] = data
				if name != m.CA {
					crl, err := certs.ParseCRL(data)
					if err != nil {
						return usageErr("%s: %v", name, err)
					}
					crls = append(crls, crl)
				}
			}
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			p := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
			h, err := portal.New(portal.Config{Origins: []string{"http://localhost:" + p, "http://127.0.0.1:" + p},
				Roots: roots, CRLs: crls, Files: files, AgentPort: agentPort})
			if err != nil {
				return usageErr("%v", err)
			}
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() {
				<-ctx.Done()
				srv.Close()
			}()
			fmt.Fprintf(cmd.ErrOrStderr(), "kep demo portal: http://localhost:%s/ (demo PKI %s, agent port %d)\n", p, dir, agentPort)
			if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				return &exitError{code: exitFail, err: err}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&port, "port", 8090, "port of the portal on 127.0.0.1")
	cmd.Flags().IntVar(&agentPort, "agent-port", agent.DefaultPort, "port of the kep agent")
	cmd.Flags().StringVar(&dir, "dir", "", "demo PKI directory (default kep/demo in the user's config directory)")
	cmd.AddCommand(newDemoInitCmd())
	return cmd
}

func newDemoInitCmd() *cobra.Command {
	var (
		force  bool
		crlURL string
	)
	cmd := &cobra.Command{
		Use:   "init [DIR] [--force] [--crl-url URL]",
		Short: "Make the demo PKI: a GOST CA and three certificates in a software token (PIN " + demopki.PIN + ")",
		Long: `Make the demo PKI in DIR (default kep/demo in the user's config directory): a
GOST R 34.10-2012 CA "Демо УЦ kep" with a CRL, a person's qualified-looking
GOST-256 certificate (Иванов Иван Иванович, with СНИЛС and ИНН), an
organisation's GOST-512 one (ООО «Ромашка», with ОГРН) and an RSA one under an
RSA CA, their keys in a software token at DIR/token with the demo PIN ` + demopki.PIN + `.
An existing demo is kept unless --force is given. The certificates certify
nobody: never trust DIR/ca.pem outside the demo.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := ""
			if len(args) == 1 {
				dir = args[0]
			} else {
				var err error
				if dir, err = defaultDemoDir(); err != nil {
					return usageErr("%v", err)
				}
			}
			m, err := demopki.Create(dir, demopki.Options{Force: force, CRLURL: crlURL})
			if errors.Is(err, demopki.ErrExists) {
				return &exitError{code: exitFail, err: fmt.Errorf("%w (give --force to replace it)", err)}
			}
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "demo PKI in %s\n  software token: %s (PIN %s)\n  trust anchors:  %s\n", dir, m.Path(m.Token), m.PIN, m.Path(m.CA))
			for _, id := range m.Identities {
				fmt.Fprintf(w, "  %-12s %s\n               %s\n", id.Role, id.Subject, id.Thumbprint)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing demo")
	cmd.Flags().StringVar(&crlURL, "crl-url", demopki.DefaultCRLURL, "CRL distribution point written into the certificates")
	return cmd
}
