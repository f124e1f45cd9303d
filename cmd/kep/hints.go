package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/demopki"
	"github.com/kepkit/kep/internal/hint"
	"github.com/kepkit/kep/pkcs11"
)

// demoManifests are the demo PKIs on this computer: $KEP_DEMO_DIR (as make
// run uses it) and kep/demo in the user's config directory.
func demoManifests() []*demopki.Manifest {
	var dirs []string
	if d := os.Getenv("KEP_DEMO_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	if d, err := defaultDemoDir(); err == nil {
		dirs = append(dirs, d)
	}
	var out []*demopki.Manifest
	seen := map[string]bool{}
	for _, d := range dirs {
		if seen[filepath.Clean(d)] {
			continue
		}
		seen[filepath.Clean(d)] = true
		if m, err := demopki.Load(d); err == nil {
			out = append(out, m)
		}
	}
	return out
}

// crlHint says what to do when the CRLs of the chains could not be fetched:
// name them and the --crl and --revocation off flags, and the file where the
// demo keeps a demo CRL. It is empty when no CRL is at issue.
func crlHint(chains ...*certs.ChainResult) string {
	urls := hint.CRLURLs(chains...)
	if len(urls) == 0 {
		return ""
	}
	var files []string
	for _, u := range urls {
		for _, m := range demoManifests() {
			if f, ok := m.CRLFile(u); ok {
				files = append(files, f)
				break
			}
		}
	}
	what := "the CRL at " + strings.Join(urls, ", ") + " could not be fetched: pass --crl FILE"
	if len(files) > 0 {
		what += " (the demo writes " + strings.Join(files, ", ") + "; kep demo serves it only while it runs)"
	}
	return what + ", or --revocation off"
}

// notCMS is the usage error for a file given as a signature that is none.
func notCMS(name string, data []byte) error {
	k := hint.Detect(data)
	if k == hint.CMS {
		return nil
	}
	return usageErr("%s is not a CMS signature (it looks like %s): give the .sig file as SIG and the signed document with --content FILE", name, k.Describe())
}

// softHint adds to a software-token error the directory the user probably
// meant: the token/ folder of a demo directory.
func softHint(dir string, err error) error {
	if err == nil || dir == "" || !errors.Is(err, pkcs11.ErrTokenNotPresent) {
		return err
	}
	if m, lerr := demopki.Load(dir); lerr == nil {
		return fmt.Errorf("%w: %s is a demo directory; its software token is %s: give --soft %s", err, dir, m.Path(m.Token), m.Path(m.Token))
	}
	if sub := filepath.Join(dir, demopki.TokenDir); isSoftToken(sub) {
		return fmt.Errorf("%w: the software token is in %s: give --soft %s", err, sub, sub)
	}
	return err
}

// isSoftToken reports whether dir holds a software token.
func isSoftToken(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "token.json"))
	return err == nil
}
