package certs_test

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/internal/realworld"
)

const realworldCases = "../testdata/realworld/cases.txt"

// TestRealWorldCertificates parses every certificate-only case of the
// real-world corpus (testdata/realworld; SOURCES.md names each producer and
// source), checks its signature with the key of the certificate cases.txt
// names as issuer, validates its chain with the case's trust anchors at the
// case's time (revocation off) and compares each outcome with cases.txt.
func TestRealWorldCertificates(t *testing.T) {
	cases := realworldCertCases(t)
	tally := realworld.Count(t, "cert", cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			c := tally.Ready(t, c)
			leaf := readOne(t, c, c.Get("file"))
			if want := c.Get("sig"); want != "" {
				issuer := leaf
				if rel := c.Get("issuer"); rel != "self" {
					issuer = readOne(t, c, rel)
				}
				err := leaf.CheckSignatureFrom(issuer)
				got := "ok"
				switch {
				case errors.Is(err, certs.ErrUnsupportedAlgorithm):
					got = "unsupported"
				case err != nil:
					got = "fail"
				}
				if got != want {
					t.Errorf("line %d: signature check %s (%v), cases.txt expects %s", c.Line, got, err, want)
				}
			}
			at, err := c.At()
			if err != nil {
				t.Fatal(err)
			}
			opts := certs.VerifyOptions{At: at, Purpose: certs.PurposeAny}
			for _, rel := range c.List("trust") {
				if rel == "self" {
					opts.Roots = append(opts.Roots, leaf)
				} else {
					opts.Roots = append(opts.Roots, readOne(t, c, rel))
				}
			}
			for _, rel := range c.List("intermediates") {
				opts.Intermediates = append(opts.Intermediates, readOne(t, c, rel))
			}
			for _, rel := range c.List("crls") {
				b, err := c.Read(rel)
				if err != nil {
					t.Fatal(err)
				}
				crl, err := certs.ParseCRL(b)
				if err != nil {
					t.Fatalf("line %d: %s: %v", c.Line, rel, err)
				}
				opts.CRLs = append(opts.CRLs, crl)
			}
			r := certs.Verify(leaf, opts)
			got := r.Indication
			if r.SubIndication != "" {
				got += "/" + r.SubIndication
			}
			if got != c.Get("expect") {
				t.Errorf("line %d: chain %s, cases.txt expects %s; checks %+v", c.Line, got, c.Get("expect"), r.Checks)
			}
			for key, have := range map[string]string{"ogrn": leaf.Qualified.OGRN, "innle": leaf.Qualified.INNLE} {
				if want := c.Get(key); want != "" && have != want {
					t.Errorf("line %d: kep reads %s %q, cases.txt (from the certificate) says %q", c.Line, key, have, want)
				}
			}
		})
	}
}

// TestRealWorldCertificatesOpenSSL runs `openssl verify` (gost engine) on
// every certificate case with the command SOURCES.md gives: -check_ss_sig
// and the certificate itself as -CAfile when its issuer is itself, else the
// case's trust anchors (none: -no-CAfile -no-CApath -no-CAstore), -attime the
// case's time; and compares the outcome with the recorded openssl verdict.
func TestRealWorldCertificatesOpenSSL(t *testing.T) {
	o := ossltest.New(t)
	cases := realworldCertCases(t)
	tally := realworld.Count(t, "cert (openssl)", cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			c := tally.Ready(t, c)
			at, err := c.At()
			if err != nil {
				t.Fatal(err)
			}
			leaf := o.WriteFile(t, c.Name+".pem", toPEM(t, c, c.Get("file")))
			args := []string{"verify", "-attime", strconv.FormatInt(at.Unix(), 10)}
			switch trust := c.List("trust"); {
			case c.Get("issuer") == "self":
				args = append(args, "-check_ss_sig", "-CAfile", leaf)
			case len(trust) > 0:
				var all []byte
				for _, rel := range trust {
					all = append(all, toPEM(t, c, rel)...)
				}
				args = append(args, "-CAfile", o.WriteFile(t, c.Name+".trust.pem", all))
			default:
				args = append(args, "-no-CAfile", "-no-CApath", "-no-CAstore")
			}
			for i, rel := range c.List("crls") {
				b, err := c.Read(rel)
				if err != nil {
					t.Fatal(err)
				}
				args = append(args, "-crl_check", "-CRLfile", o.WriteFile(t, fmt.Sprintf("%s.%d.crl", c.Name, i), crlPEM(b)))
			}
			args = append(args, leaf)
			out, err := o.Run(nil, args...)
			// openssl verify reports some failures on standard output only.
			if err == nil && !bytes.Contains(out, []byte(": OK")) {
				err = fmt.Errorf("no OK: %s", out)
			} else if err != nil {
				err = fmt.Errorf("%w %s", err, out)
			}
			want := c.Get("openssl")
			w, sub, _ := strings.Cut(want, " ")
			switch {
			case w == "ok" && err != nil:
				t.Errorf("line %d: openssl %s: fails, cases.txt says ok: %v", c.Line, strings.Join(args, " "), err)
			case w == "fail" && err == nil:
				t.Errorf("line %d: openssl %s: succeeds, cases.txt says %s", c.Line, strings.Join(args, " "), want)
			case w == "fail" && !strings.Contains(err.Error(), sub):
				t.Errorf("line %d: openssl %s: fails without %q: %v", c.Line, strings.Join(args, " "), sub, err)
			case w != "ok" && w != "fail":
				t.Errorf("line %d: bad openssl verdict %q", c.Line, want)
			}
		})
	}
}

func realworldCertCases(t *testing.T) []realworld.Case {
	t.Helper()
	all, err := realworld.Load(realworldCases)
	if err != nil {
		t.Fatal(err)
	}
	cases := realworld.Of(all, "cert")
	if len(cases) == 0 {
		t.Fatalf("no cert case in %s", realworldCases)
	}
	return cases
}

func readOne(t *testing.T, c realworld.Case, rel string) *certs.Certificate {
	t.Helper()
	b, err := c.Read(rel)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := certs.ParseCertificates(b)
	if err != nil || len(cs) != 1 {
		t.Fatalf("line %d: %s: %d certificates, %v", c.Line, filepath.Base(rel), len(cs), err)
	}
	return cs[0]
}

func toPEM(t *testing.T, c realworld.Case, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(c.Path(rel))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("-----BEGIN")) {
		return b
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b})
}

// TestRealWorldCRLs parses every CRL case of the real-world corpus, checks
// its signature with the key of the named issuer and looks up the serials
// cases.txt lists as revoked (read from `openssl crl -text`); and runs
// `openssl crl -CAfile ISSUER -noout` on it (which prints "verify OK" or
// "verify failure" on standard error and exits 0 either way).
func TestRealWorldCRLs(t *testing.T) {
	all, err := realworld.Load(realworldCases)
	if err != nil {
		t.Fatal(err)
	}
	cases := realworld.Of(all, "crl")
	if len(cases) == 0 {
		t.Fatalf("no crl case in %s", realworldCases)
	}
	o := ossltest.New(t)
	tally := realworld.Count(t, "crl", cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			c := tally.Ready(t, c)
			b, err := c.Read(c.Get("file"))
			if err != nil {
				t.Fatal(err)
			}
			crl, err := certs.ParseCRL(b)
			if err != nil {
				t.Fatalf("line %d: %v", c.Line, err)
			}
			issuer := readOne(t, c, c.Get("issuer"))
			err = crl.CheckSignatureFrom(issuer)
			got := "ok"
			switch {
			case errors.Is(err, certs.ErrUnsupportedAlgorithm):
				got = "unsupported"
			case err != nil:
				got = "fail"
			}
			if got != c.Get("sig") {
				t.Errorf("line %d: CRL signature check %s (%v), cases.txt expects %s", c.Line, got, err, c.Get("sig"))
			}
			kind, serials, _ := strings.Cut(c.Get("expect"), " ")
			if kind != "revoked" {
				t.Fatalf("line %d: a crl case expects \"revoked SERIAL...\"", c.Line)
			}
			if n, err := strconv.Atoi(c.Get("entries")); err != nil {
				t.Fatalf("line %d: entries: %v", c.Line, err)
			} else if len(crl.RevokedCertificateEntries) != n {
				t.Errorf("line %d: kep reads %d revoked entries, the CRL has %d", c.Line, len(crl.RevokedCertificateEntries), n)
			}
			for _, hex := range strings.Fields(serials) {
				n, ok := new(big.Int).SetString(hex, 16)
				if !ok {
					t.Fatalf("line %d: serial %q", c.Line, hex)
				}
				if _, revoked := crl.Revoked(n); !revoked {
					t.Errorf("line %d: kep does not find serial %s in the CRL", c.Line, hex)
				}
			}

			der := o.WriteFile(t, c.Name+".crl", b)
			ca := o.WriteFile(t, c.Name+".ca.pem", toPEM(t, c, c.Get("issuer")))
			cmd := exec.Command(o.Bin, "crl", "-inform", "DER", "-in", der, "-CAfile", ca, "-noout")
			cmd.Env = append(os.Environ(), "OPENSSL_CONF="+o.Conf)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("openssl crl: %v\n%s", err, out)
			}
			ossl := "fail " + strings.TrimSpace(string(out))
			if bytes.Contains(out, []byte("verify OK")) {
				ossl = "ok"
			}
			if want := c.Get("openssl"); !strings.HasPrefix(ossl, want) {
				t.Errorf("line %d: openssl crl says %q, cases.txt says %q", c.Line, ossl, want)
			}
		})
	}
}

// crlPEM returns a DER or PEM CRL as PEM, which openssl verify -CRLfile reads.
func crlPEM(b []byte) []byte {
	if bytes.Contains(b, []byte("-----BEGIN")) {
		return b
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: b})
}
