package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/trustlist"
	"github.com/kepkit/kep/internal/atomicfile"
)

func newTrustCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "Keep the Минцифры list of accredited CAs (trust anchors and accreditation)",
	}
	var from string
	update := &cobra.Command{
		Use:   "update [--from FILE|URL]",
		Short: "Fetch the list of accredited CAs and keep it for kep verify and kep login verify",
		Long: `Read the list of accredited certification authorities that the Минцифры
publishes (default ` + trustlist.PortalURL + `), check that it parses, and store it
atomically as kep/trust/tsl.xml in the user's config directory. kep verify and kep
login verify then take the CAs' certificates as trust anchors and check that the
signer's CA was accredited.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var data []byte
			var l *trustlist.List
			var err error
			if strings.HasPrefix(from, "http://") || strings.HasPrefix(from, "https://") {
				data, l, err = trustlist.Fetch(cmd.Context(), nil, from)
			} else {
				if data, err = os.ReadFile(from); err == nil {
					l, err = trustlist.Parse(strings.NewReader(string(data)))
				}
			}
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			path, err := trustlist.DefaultFile()
			if err != nil {
				return usageErr("%v", err)
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return &exitError{code: exitFail, err: err}
			}
			if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
				return &exitError{code: exitFail, err: err}
			}
			active := 0
			for _, ca := range l.CAs {
				if ca.StatusAt(time.Now()).Status == trustlist.StatusActive {
					active++
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "list version %d of %s: %d CAs, %d accredited now; stored in %s\n",
				l.Version, l.Date.Format("2006-01-02"), len(l.CAs), active, path)
			return nil
		},
	}
	update.Flags().StringVar(&from, "from", trustlist.PortalURL, "file or URL of the list")
	var asJSON bool
	var file string
	list := &cobra.Command{
		Use:   "list [--file F] [--json]",
		Short: "Show the CAs on the stored list with their accreditation status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, _, err := loadTrustList(file)
			if err != nil {
				return err
			}
			if l == nil {
				return &exitError{code: exitFail, err: fmt.Errorf("no list stored: run kep trust update")}
			}
			type caJSON struct {
				Name      string                  `json:"name"`
				OGRN      string                  `json:"ogrn"`
				INN       string                  `json:"inn"`
				RegNumber string                  `json:"regNumber"`
				Status    trustlist.StatusEntry   `json:"status"`
				History   []trustlist.StatusEntry `json:"history"`
				Keys      int                     `json:"keys"`
			}
			var out []caJSON
			for _, ca := range l.CAs {
				out = append(out, caJSON{ca.Name, ca.OGRN, ca.INN, ca.RegNumber, ca.Status, ca.History, len(ca.Keys)})
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"version": l.Version, "date": l.Date, "cas": out})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "list version %d of %s\n", l.Version, l.Date.Format("2006-01-02"))
			for _, ca := range out {
				fmt.Fprintf(cmd.OutOrStdout(), "%-14s since %s  %s (ОГРН %s)\n", ca.Status.Status, ca.Status.From.Format("2006-01-02"), ca.Name, ca.OGRN)
			}
			return nil
		},
	}
	list.Flags().StringVar(&file, "file", "", "list file (default: the stored one)")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(update, list)
	return cmd
}

// loadTrustList loads the list named by a --trust-list flag: a file, "none",
// or "" for the stored list when there is one. It returns nil (and the path
// it tried) when there is no list to use.
func loadTrustList(flag string) (*trustlist.List, string, error) {
	if flag == "none" {
		return nil, "", nil
	}
	path, explicit := flag, flag != ""
	if !explicit {
		var err error
		if path, err = trustlist.DefaultFile(); err != nil {
			return nil, "", nil
		}
		if _, err := os.Stat(path); err != nil {
			return nil, path, nil
		}
	}
	l, err := trustlist.Load(path)
	if err != nil {
		return nil, path, usageErr("%v", err)
	}
	return l, path, nil
}

func trustlistFile() (string, error) { return trustlist.DefaultFile() }

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// withTrustList adds the list's CA certificates to roots and intermediates.
func withTrustList(l *trustlist.List, roots, inter []*certs.Certificate) ([]*certs.Certificate, []*certs.Certificate) {
	r, i := l.Certificates()
	return append(roots, r...), append(inter, i...)
}
