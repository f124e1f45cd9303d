package main

import (
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/keyfile/cryptopro"
)

// maxPasswordFile bounds what is read of a --password-file.
const maxPasswordFile = 64 << 10

// readPasswordFile returns the first line of a password file; the line may
// be empty (a container or PFX without password).
func readPasswordFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPasswordFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPasswordFile {
		return nil, fmt.Errorf("%s: longer than %d bytes, not a password file", name, maxPasswordFile)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return []byte(strings.TrimRight(line, "\r")), nil
}

// passwordSource gives a key file's password: --password-file when given,
// else the empty password first (most containers have none) and then a
// prompt without echo.
type passwordSource struct {
	file   string
	prompt string
	stderr io.Writer
}

// try calls open with each password in turn until it does not fail with
// wrong (the sentinel of a wrong password).
func (p passwordSource) try(wrong error, open func(password []byte) error) error {
	if p.file != "" {
		pw, err := readPasswordFile(p.file)
		if err != nil {
			return usageErr("%v", err)
		}
		err = open(pw)
		clear(pw)
		if errors.Is(err, wrong) {
			return &exitError{code: exitFail, err: fmt.Errorf("%w (the password from %s)", err, p.file)}
		}
		return err
	}
	err := open(nil)
	if !errors.Is(err, wrong) {
		return err
	}
	for range 3 {
		pw, perr := readPINPrompt(p.stderr, p.prompt, "--password-file FILE (its first line; an empty line for no password)")
		if perr != nil {
			return usageErr("the empty password is not this one's, and %v", perr)
		}
		err = open(pw)
		clear(pw)
		if !errors.Is(err, wrong) {
			return err
		}
		fmt.Fprintln(p.stderr, "kep: wrong password")
	}
	return &exitError{code: exitFail, err: err}
}

// searchRoots are where "auto" looks: $KEP_CRYPTOPRO_PATH (a list of
// folders, like PATH) when set, else CryptoPro's usual places.
func searchRoots() []string {
	if v := os.Getenv("KEP_CRYPTOPRO_PATH"); v != "" {
		return filepath.SplitList(v)
	}
	return cryptopro.Locations()
}

// openContainer opens the container named by arg: a folder, a zip of one,
// or "auto" for the one container found in the usual places.
func openContainer(arg string, stderr io.Writer) (*cryptopro.Container, error) {
	if arg == "auto" {
		found := cryptopro.Find(searchRoots()...)
		switch len(found) {
		case 0:
			return nil, usageErr("no CryptoPro container found in %s: name its folder or zip with --cryptopro", strings.Join(searchRoots(), ", "))
		case 1:
			fmt.Fprintf(stderr, "kep: using the container %s\n", found[0])
			arg = found[0]
		default:
			return nil, usageErr("several CryptoPro containers found, name one with --cryptopro:\n  %s", strings.Join(found, "\n  "))
		}
	}
	c, err := cryptopro.Open(arg)
	if err != nil {
		return nil, &exitError{code: exitFail, err: err}
	}
	return c, nil
}

// containerIdentity decrypts the container's primary key and returns it with
// its certificate: the container's own, else certFile's (PEM or DER). With
// neither the certificate is nil. A certificate whose key is not the
// container's is refused.
func containerIdentity(c *cryptopro.Container, certFile string, pw passwordSource) (*gost3410.PrivateKey, *certs.Certificate, []*certs.Certificate, error) {
	var key *gost3410.PrivateKey
	err := pw.try(cryptopro.ErrWrongPassword, func(password []byte) error {
		k, err := c.PrivateKey(cryptopro.Primary, password)
		key = k
		return err
	})
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, nil, nil, err
		}
		return nil, nil, nil, &exitError{code: exitFail, err: err}
	}
	var cert *certs.Certificate
	var rest []*certs.Certificate
	if certFile != "" {
		list, err := certs.ReadCertificateFiles([]string{certFile})
		if err != nil {
			return nil, nil, nil, usageErr("%v", err)
		}
		cert, rest = list[0], list[1:]
	} else if der := c.Certificate(cryptopro.Primary); der != nil {
		if cert, err = certs.ParseCertificate(der); err != nil {
			return nil, nil, nil, &exitError{code: exitFail, err: fmt.Errorf("%s: the container's certificate: %w", c.Source, err)}
		}
	}
	if cert != nil && !key.PublicKey().Equal(cert.PublicKey) {
		return nil, nil, nil, &exitError{code: exitFail, err: fmt.Errorf("the certificate %s is not the container's key's", cert.SubjectString())}
	}
	return key, cert, rest, nil
}

// describeContainer says in one line what a container holds.
func describeContainer(c *cryptopro.Container) string {
	p := c.Params(cryptopro.Primary)
	curve := p.Curve.String()
	if ps, err := c.ParamSet(cryptopro.Primary); err == nil {
		curve = ps.Name
	}
	kind := "GOST R 34.10-2012"
	switch {
	case p.Algorithm.Equal(cryptopro.OIDAgreement2001):
		kind = "GOST R 34.10-2001"
	case p.Algorithm.Equal(cryptopro.OIDAgreement512):
		kind += " 512-bit"
	default:
		kind += " 256-bit"
	}
	exp := "exportable"
	if !p.Exportable() {
		exp = "marked NON-EXPORTABLE by CryptoPro"
	}
	name := c.Name
	if name == "" {
		name = "(no name.key)"
	}
	return fmt.Sprintf("container %q at %s: %s key on %s, %s", name, c.Source, kind, curve, exp)
}

// openCryptoPro signs with a CryptoPro container in place: the key is
// decrypted into memory for this run and the container is only read.
func (s signerSource) openCryptoPro(stderr io.Writer) (crypto.Signer, *certs.Certificate, []*certs.Certificate, func(), error) {
	c, err := openContainer(s.cryptopro, stderr)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if c.Is2001(cryptopro.Primary) {
		return nil, nil, nil, nil, &exitError{code: exitFail, err: fmt.Errorf("%s holds a GOST R 34.10-2001 key: signing with such keys ended on 31.12.2019", c.Source)}
	}
	key, cert, rest, err := containerIdentity(c, s.cert, passwordSource{file: s.passwordFile, prompt: "password of container " + c.Name + ": ", stderr: stderr})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if cert == nil {
		return nil, nil, nil, nil, usageErr("%s holds no certificate: give it with --cert FILE", c.Source)
	}
	return key, cert, rest, func() {}, nil
}

// containerJSON is what kep certs list --cryptopro --json prints.
type containerJSON struct {
	Source      string             `json:"source"`
	Name        string             `json:"name"`
	Algorithm   string             `json:"algorithm"`
	Curve       string             `json:"curve"`
	Exportable  bool               `json:"exportable"`
	Fingerprint string             `json:"fingerprint,omitempty"`
	Thumbprint  string             `json:"thumbprint,omitempty"`
	Certificate *certs.Certificate `json:"certificate,omitempty"`
}

// listContainer shows a container's key and certificate; it needs no
// password. With "auto" it shows every container found in the usual places.
func listContainer(w, stderr io.Writer, arg string, asJSON bool) error {
	if arg == "auto" {
		found := cryptopro.Find(searchRoots()...)
		if len(found) == 0 {
			return usageErr("no CryptoPro container found in %s: name its folder or zip with --cryptopro", strings.Join(searchRoots(), ", "))
		}
		var list []containerJSON
		for _, d := range found {
			c, err := cryptopro.Open(d)
			if err != nil {
				fmt.Fprintf(stderr, "kep: %v\n", err)
				continue
			}
			if asJSON {
				list = append(list, containerInfo(c))
			} else if err := printContainer(w, c); err != nil {
				fmt.Fprintf(stderr, "kep: %v\n", err)
			}
		}
		if asJSON {
			return writeJSON(w, list)
		}
		return nil
	}
	c, err := openContainer(arg, stderr)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, containerInfo(c))
	}
	return printContainer(w, c)
}

// containerInfo is a container's JSON description (the certificate is left
// out when it does not parse).
func containerInfo(c *cryptopro.Container) containerJSON {
	p := c.Params(cryptopro.Primary)
	out := containerJSON{Source: c.Source, Name: c.Name, Algorithm: p.Algorithm.String(), Curve: p.Curve.String(),
		Exportable: p.Exportable(), Fingerprint: hex.EncodeToString(c.Header.PrimaryFP)}
	if ps, err := c.ParamSet(cryptopro.Primary); err == nil {
		out.Curve = ps.Name
	}
	if der := c.Certificate(cryptopro.Primary); der != nil {
		if cert, err := certs.ParseCertificate(der); err == nil {
			out.Certificate, out.Thumbprint = cert, cert.Thumbprint()
		}
	}
	return out
}

func printContainer(w io.Writer, c *cryptopro.Container) error {
	var cert *certs.Certificate
	var err error
	if der := c.Certificate(cryptopro.Primary); der != nil {
		if cert, err = certs.ParseCertificate(der); err != nil {
			return &exitError{code: exitFail, err: fmt.Errorf("%s: the container's certificate: %w", c.Source, err)}
		}
	}
	fmt.Fprintln(w, describeContainer(c))
	if cert == nil {
		fmt.Fprintln(w, "  no certificate in the container (give one with --cert when importing or signing)")
		return nil
	}
	q := cert.Qualified
	fmt.Fprintf(w, "%s\n  %s\n", cert.Thumbprint(), cert.SubjectString())
	for _, f := range []struct{ name, v string }{{"СНИЛС", q.SNILS}, {"ИНН", q.INN}, {"ИНН ЮЛ", q.INNLE}, {"ОГРН", q.OGRN}, {"ОГРНИП", q.OGRNIP}} {
		if f.v != "" {
			fmt.Fprintf(w, "  %s: %s\n", f.name, f.v)
		}
	}
	state, now := "valid", time.Now()
	switch {
	case now.After(cert.NotAfter):
		state = "EXPIRED"
	case now.Before(cert.NotBefore):
		state = "not yet valid"
	}
	fmt.Fprintf(w, "  %s, %s – %s (%s), issuer %s\n", cert.KeyAlgorithm, cert.NotBefore.Format("2006-01-02"), cert.NotAfter.Format("2006-01-02"), state, cert.Issuer.CommonName)
	return nil
}
