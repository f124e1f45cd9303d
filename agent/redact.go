package agent

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
)

// A site's certs.list and tokens.list carry the keystore's errors (a module
// that failed, a container that could not be read) so that the portal can
// say why a token is missing. Their text names local files, and those paths
// hold the user's account name (/home/ivanov, /media/ivanov/FLASH,
// C:\Users\Ivanov\…): siteErrors shows them to the site with the home
// folder written "~" and every other path segment equal to the account name
// written "~" too. The agent's own log and kep doctor keep the full text.

// redactor rewrites local paths in error texts for sites.
type redactor struct {
	home string // the home folder, with no trailing separator
	name string // the account name as it appears in paths
}

func newRedactor() redactor {
	var r redactor
	if h, err := os.UserHomeDir(); err == nil && len(h) > 1 {
		r.home = strings.TrimRight(h, `/\`)
	}
	if u, err := user.Current(); err == nil {
		n := u.Username
		if i := strings.LastIndexByte(n, '\\'); i >= 0 { // DOMAIN\user on Windows
			n = n[i+1:]
		}
		r.name = n
	}
	if r.name == "" && r.home != "" {
		r.name = filepath.Base(r.home)
	}
	return r
}

// text returns s with the home folder and the account-name segments of
// paths replaced by "~".
func (r redactor) text(s string) string {
	if r.home != "" {
		s = strings.ReplaceAll(s, r.home, "~")
	}
	if len(r.name) < 2 { // a one-letter name would match too much
		return s
	}
	for _, sep := range []string{"/", `\`} {
		seg := sep + r.name
		var b strings.Builder
		for {
			i := strings.Index(s, seg)
			if i < 0 {
				b.WriteString(s)
				break
			}
			end := i + len(seg)
			if end == len(s) || s[end] == '/' || s[end] == '\\' || s[end] == ':' || s[end] == ' ' || s[end] == '"' {
				b.WriteString(s[:i] + sep + "~")
			} else {
				b.WriteString(s[:end])
			}
			s = s[end:]
		}
		s = b.String()
	}
	return s
}

// siteErrors is err as the list of texts a site is given: one per joined
// error, each redacted.
func (r redactor) siteErrors(err error) []string {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		if e != nil {
			out = append(out, r.text(e.Error()))
		}
	}
	return out
}
