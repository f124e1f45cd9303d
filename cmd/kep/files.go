package main

import (
	"fmt"
	"os"

	"github.com/kepkit/kep/certs"
)

// readCRLFiles parses the named CRL files.
func readCRLFiles(paths []string) ([]*certs.CRL, error) {
	var out []*certs.CRL
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		crl, err := certs.ParseCRL(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, crl)
	}
	return out, nil
}

func usageErr(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}
