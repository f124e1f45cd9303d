package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/install"
)

func newInstallCmd() *cobra.Command {
	var env install.Env
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "install [--all-browsers] [--json]",
		Short: "Register kep for this user: the browser extension's native host in every browser found",
		Long: `Register kep with this user's session, without administrator rights: the
native-messaging host (kep native-host) of kep's browser extension, for every
browser found (Chrome, Chromium, Edge, Yandex Browser, Firefox). Running it
again changes nothing; it prints what it did. kep uninstall removes it all.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ch, err := install.Install(cmd.Context(), env)
			return reportChanges(cmd.OutOrStdout(), ch, err, asJSON)
		},
	}
	cmd.Flags().BoolVar(&env.AllBrowsers, "all-browsers", false, "register for every known browser, also those not found")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newUninstallCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "uninstall [--json]",
		Short: "Remove what kep install registered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ch, err := install.Uninstall(cmd.Context(), install.Env{})
			return reportChanges(cmd.OutOrStdout(), ch, err, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func reportChanges(w io.Writer, ch []install.Change, err error, asJSON bool) error {
	if asJSON {
		if ch == nil {
			ch = []install.Change{}
		}
		if jerr := writeJSON(w, ch); jerr != nil {
			return jerr
		}
	} else {
		for _, c := range ch {
			line := fmt.Sprintf("%-10s %s", c.Action, c.Step)
			if c.Path != "" {
				line += ": " + c.Path
			}
			if c.Detail != "" {
				line += " (" + c.Detail + ")"
			}
			fmt.Fprintln(w, line)
		}
	}
	if err != nil {
		return &exitError{code: exitFail, err: err}
	}
	return nil
}
