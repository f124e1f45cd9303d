package verify_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/internal/realworld"
	"github.com/kepkit/kep/verify"
)

const realworldCases = "../testdata/realworld/cases.txt"

// TestRealWorld verifies every CMS file of the real-world corpus
// (testdata/realworld, SOURCES.md names each file's producer and source) and
// compares kep's verdict, and the listed checks, with the one cases.txt
// expects. Revocation is off (no case carries revocation values); the trust
// anchors and the validation time are the case's own.
func TestRealWorld(t *testing.T) {
	cases := loadRealWorld(t, "cms")
	tally := realworld.Count(t, "cms", cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			c := tally.Ready(t, c)
			rep, err := verifyCase(c)
			if err != nil {
				t.Fatal(err)
			}
			got := reportVerdict(rep)
			if got != c.Get("expect") {
				t.Errorf("line %d: kep says %s, cases.txt expects %s\n%s", c.Line, got, c.Get("expect"), rep.Summary("en"))
			}
			for _, want := range c.List("checks") {
				code, status, _ := strings.Cut(want, "=")
				if have := checkStatuses(rep, code); !contains(have, status) {
					t.Errorf("line %d: check %s is %v, cases.txt expects %s\n%s", c.Line, code, have, status, rep.Summary("en"))
				}
			}
		})
	}
}

// TestRealWorldOpenSSL runs OpenSSL with the gost engine on every CMS case
// with the command SOURCES.md gives and compares its verdict with the one
// recorded in cases.txt (openssl: the chain validated with the case's trust
// anchors at its time; openssl-sig: the same with -noverify).
func TestRealWorldOpenSSL(t *testing.T) {
	o := ossltest.New(t)
	cases := loadRealWorld(t, "cms")
	tally := realworld.Count(t, "cms (openssl)", cases)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			c := tally.Ready(t, c)
			for _, key := range []string{"openssl", "openssl-sig"} {
				want := c.Get(key)
				if want == "" {
					t.Fatalf("line %d: no %s verdict", c.Line, key)
				}
				args, err := opensslCMSArgs(t, o, c, key == "openssl-sig")
				if err != nil {
					t.Fatal(err)
				}
				_, err = o.Run(nil, args...)
				if msg := opensslMismatch(want, err); msg != "" {
					t.Errorf("line %d: %s: openssl %s: %s", c.Line, key, strings.Join(args, " "), msg)
				}
			}
		})
	}
}

func loadRealWorld(t *testing.T, kind string) []realworld.Case {
	t.Helper()
	all, err := realworld.Load(realworldCases)
	if err != nil {
		t.Fatal(err)
	}
	cases := realworld.Of(all, kind)
	if len(cases) == 0 {
		t.Fatalf("no %s case in %s", kind, realworldCases)
	}
	return cases
}

func verifyCase(c realworld.Case) (*verify.Report, error) {
	sig, err := c.Read(c.Get("file"))
	if err != nil {
		return nil, err
	}
	// The TC 26 files are PEM ("BEGIN CMS"); the library takes DER, and
	// kep verify unwraps PEM the same way before calling it.
	if b, _ := pem.Decode(sig); b != nil {
		sig = b.Bytes
	}
	at, err := c.At()
	if err != nil {
		return nil, fmt.Errorf("line %d: at: %w", c.Line, err)
	}
	opts := verify.Options{At: at}
	if opts.Roots, err = readCaseCerts(c, "trust"); err != nil {
		return nil, err
	}
	if opts.Intermediates, err = readCaseCerts(c, "intermediates"); err != nil {
		return nil, err
	}
	if rel := c.Get("content"); rel != "" {
		content, err := c.Read(rel)
		if err != nil {
			return nil, err
		}
		opts.Content = bytes.NewReader(content)
	}
	return verify.Verify(context.Background(), sig, opts)
}

func readCaseCerts(c realworld.Case, key string) ([]*certs.Certificate, error) {
	var out []*certs.Certificate
	for _, rel := range c.List(key) {
		b, err := c.Read(rel)
		if err != nil {
			return nil, err
		}
		cs, err := certs.ParseCertificates(b)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s %s: %w", c.Line, key, rel, err)
		}
		out = append(out, cs...)
	}
	return out, nil
}

// reportVerdict is the report's indication with its sub-indication, or,
// when the report has none, the one signer's (every CMS case has one signer
// or none).
func reportVerdict(rep *verify.Report) string {
	sub := rep.SubIndication
	if sub == "" && len(rep.Signers) == 1 && rep.Signers[0].Indication == rep.Indication {
		sub = rep.Signers[0].SubIndication
	}
	return verdict(rep.Indication, sub)
}

func verdict(ind, sub string) string {
	if sub == "" {
		return ind
	}
	return ind + "/" + sub
}

// checkStatuses returns the statuses of every check named code, among the
// first signer's own checks and its chain's.
func checkStatuses(rep *verify.Report, code string) []string {
	var out []string
	for _, ch := range rep.Checks {
		if ch.Code == code {
			out = append(out, ch.Status)
		}
	}
	if len(rep.Signers) == 0 {
		return out
	}
	s := rep.Signers[0]
	for _, ch := range s.Checks {
		if ch.Code == code {
			out = append(out, ch.Status)
		}
	}
	if s.Chain != nil {
		for _, ch := range s.Chain.Checks {
			if ch.Code == code {
				out = append(out, ch.Status)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// opensslCMSArgs is the command of SOURCES.md for a CMS case: openssl cms
// -verify on the file (-inform PEM or DER), its detached content (-binary),
// its trust anchors as -CAfile (none: -no-CAfile -no-CApath -no-CAstore),
// -attime the case's time, the case's openssl-args; -noverify for the
// signature-only verdict.
func opensslCMSArgs(t testing.TB, o *ossltest.OpenSSL, c realworld.Case, noverify bool) ([]string, error) {
	sig, err := c.Read(c.Get("file"))
	if err != nil {
		return nil, err
	}
	at, err := c.At()
	if err != nil {
		return nil, err
	}
	abs := func(rel string) string { p, _ := filepath.Abs(c.Path(rel)); return p }
	inform := "DER"
	if bytes.HasPrefix(sig, []byte("-----BEGIN")) {
		inform = "PEM"
	}
	args := []string{"cms", "-verify", "-inform", inform, "-in", abs(c.Get("file")), "-out", os.DevNull}
	if rel := c.Get("content"); rel != "" {
		args = append(args, "-content", abs(rel), "-binary")
	}
	if noverify {
		args = append(args, "-noverify")
	}
	if trust := c.List("trust"); len(trust) > 0 {
		var pemCerts []byte
		for _, rel := range trust {
			b, err := c.Read(rel)
			if err != nil {
				return nil, err
			}
			pemCerts = append(pemCerts, toPEM(b)...)
		}
		args = append(args, "-CAfile", o.WriteFile(t, c.Name+".trust.pem", pemCerts))
	} else {
		args = append(args, "-no-CAfile", "-no-CApath", "-no-CAstore")
	}
	args = append(args, c.List("openssl-args")...)
	return append(args, "-attime", strconv.FormatInt(at.Unix(), 10)), nil
}

// toPEM returns b as PEM CERTIFICATE blocks (b may be DER or PEM already).
func toPEM(b []byte) []byte {
	if bytes.Contains(b, []byte("-----BEGIN")) {
		return b
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b})
}

// opensslMismatch compares OpenSSL's outcome (err from Run) with a recorded
// verdict "ok" or "fail [substring of the error]"; it returns "" when they agree.
func opensslMismatch(want string, err error) string {
	w, sub, _ := strings.Cut(want, " ")
	switch {
	case w == "ok" && err == nil:
		return ""
	case w == "ok":
		return "fails, cases.txt says ok: " + err.Error()
	case w == "fail" && err == nil:
		return "succeeds, cases.txt says " + want
	case w == "fail" && !strings.Contains(err.Error(), sub):
		return fmt.Sprintf("fails without %q: %v", sub, err)
	case w == "fail":
		return ""
	}
	return "bad verdict " + strconv.Quote(want)
}
