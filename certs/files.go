package certs

import (
	"fmt"
	"os"
)

// ReadCertificateFiles parses every certificate in the named PEM or DER
// files, in order; an error names the file it came from.
func ReadCertificateFiles(paths []string) ([]*Certificate, error) {
	var out []*Certificate
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		cs, err := ParseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, cs...)
	}
	return out, nil
}
