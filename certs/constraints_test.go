package certs

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

func rsaCert(t *testing.T, bits int) *Certificate {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rsa"},
		NotBefore: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCheckAlgorithms runs every row of the table on both sides of its date.
func TestCheckAlgorithms(t *testing.T) {
	small, big := rsaCert(t, 1024), rsaCert(t, 2048)
	p := newTestPKI(t)
	g2001 := p.root("/CN=2001", "gost2001", extRoot).Certificate
	g2012 := p.root("/CN=2012", "gost256", extRoot).Certificate
	day := func(y, m, d int) POE {
		return POE{Time: time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), Source: "the test"}
	}
	for _, c := range []struct {
		name   string
		key    *Certificate
		d      *Digest
		poe    POE
		reason string // "" when no row applies
		ok     bool
	}{
		{"2001 in 2019", g2001, GOST341194, day(2019, 12, 31), ReasonGOST2001, true},
		{"2001 in 2020", g2001, GOST341194, day(2020, 1, 1), ReasonGOST2001, false},
		{"34.11-94 digest alone", g2012, GOST341194, day(2021, 1, 1), ReasonGOST2001, false},
		{"2012 now", g2012, Streebog256, day(2026, 1, 1), "", true},
		{"RSA 1024 in 2013", small, SHA256, day(2013, 12, 31), ReasonRSAKeySize, true},
		{"RSA 1024 in 2014", small, SHA256, day(2014, 1, 1), ReasonRSAKeySize, false},
		{"RSA 2048 now", big, SHA256, day(2026, 1, 1), "", true},
		{"SHA-1 in 2013", big, SHA1, day(2013, 6, 1), ReasonSHA1, true},
		{"SHA-1 now", big, SHA1, day(2026, 1, 1), ReasonSHA1, false},
	} {
		rs := CheckAlgorithms(c.key, c.d, c.poe)
		if c.reason == "" {
			if len(rs) != 0 {
				t.Errorf("%s: rows applied: %+v", c.name, rs)
			}
			continue
		}
		if len(rs) != 1 || rs[0].Constraint.Reason != c.reason || rs[0].Accepted != c.ok {
			t.Errorf("%s: got %+v, want one %s accepted=%v", c.name, rs, c.reason, c.ok)
			continue
		}
		msg := rs[0].Message()
		if want := "proven only at"; !c.ok && (!strings.Contains(msg, want) || !strings.Contains(msg, "the test")) {
			t.Errorf("%s: message %q", c.name, msg)
		}
	}
	if n := len(CheckAlgorithms(small, SHA1, day(2026, 1, 1))); n != 2 {
		t.Errorf("RSA 1024 with SHA-1: %d rows, want 2", n)
	}
}
