package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/pkcs11"
)

func newTokensCmd() *cobra.Command {
	var modules []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "tokens [--module M]... [--json]",
		Short: "List PKCS#11 modules and the tokens they see (Rutoken, JaCarta, eToken, …)",
		Long: `List the PKCS#11 modules kep finds (--module paths, the list in the user's
kep/modules.json, the vendors' usual install paths), which of them failed to
load and why, and the tokens each one sees with their PIN state.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			found := pkcs11.Discovery{Paths: modules}.Discover(cmd.Context())
			w := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(w, tokensJSON(found))
			}
			printTokens(w, found)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&modules, "module", nil, "PKCS#11 library to try first (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(newTokensKeygenCmd(), newTokensCSRCmd(), newTokensPINCmd())
	return cmd
}

type moduleJSON struct {
	Path   string             `json:"path"`
	Source string             `json:"source"`
	Vendor string             `json:"vendor,omitempty"`
	Loaded bool               `json:"loaded"`
	Error  string             `json:"error,omitempty"`
	Tokens []pkcs11.TokenInfo `json:"tokens"`
}

func tokensJSON(found []pkcs11.ModuleStatus) []moduleJSON {
	out := make([]moduleJSON, 0, len(found))
	for _, m := range found {
		j := moduleJSON{Path: m.Path, Source: string(m.Source), Vendor: m.Vendor, Loaded: m.Loaded, Tokens: m.Tokens}
		if m.Err != nil {
			j.Error = m.Err.Error()
		}
		if j.Tokens == nil {
			j.Tokens = []pkcs11.TokenInfo{}
		}
		out = append(out, j)
	}
	return out
}

func printTokens(w io.Writer, found []pkcs11.ModuleStatus) {
	if len(found) == 0 {
		fmt.Fprintln(w, "no PKCS#11 module found: install your token's driver (Rutoken, JaCarta, eToken) or give --module")
		return
	}
	for _, m := range found {
		if !m.Loaded {
			fmt.Fprintf(w, "module %s (%s): not usable: %v\n", m.Path, m.Source, m.Err)
			continue
		}
		fmt.Fprintf(w, "module %s (%s): %d token(s)\n", m.Path, m.Source, len(m.Tokens))
		for _, t := range m.Tokens {
			fmt.Fprintf(w, "  %s\n", t)
			switch {
			case t.PINLocked:
				fmt.Fprintln(w, "    PIN LOCKED: unlock it with the security officer PIN (the token vendor's utility)")
			case t.PINFinalTry:
				fmt.Fprintln(w, "    warning: one more wrong PIN locks the token")
			case t.PINCountLow:
				fmt.Fprintln(w, "    warning: a wrong PIN was entered since the last correct one")
			}
		}
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
