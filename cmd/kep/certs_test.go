package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/internal/ossltest"
)

// certsFixture makes a GOST root and two leaves with OpenSSL: one for
// signing and login, one with keyEncipherment only.
type certsFixture struct {
	root, leaf, encLeaf, other string
}

func makeCertsFixture(t *testing.T) certsFixture {
	t.Helper()
	o := ossltest.New(t)
	key := func(name string) string {
		p := o.Path(name + ".key")
		o.MustRun(t, nil, "genpkey", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", p)
		return p
	}
	root := func(name, subj string) string {
		p := o.Path(name + ".pem")
		o.MustRun(t, nil, "req", "-x509", "-new", "-utf8", "-key", key(name), "-subj", subj, "-md_gost12_256", "-days", "30",
			"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", p)
		return p
	}
	leaf := func(name, subj, ku string) string {
		csr := o.Path(name + ".csr")
		o.MustRun(t, nil, "req", "-new", "-utf8", "-key", key(name), "-subj", subj, "-out", csr)
		ext := o.WriteFile(t, name+".ext", []byte("[e]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,"+ku+"\nextendedKeyUsage=clientAuth\n"+
			"1.2.643.100.114=ASN1:INTEGER:0\n"))
		p := o.Path(name + ".pem")
		o.MustRun(t, nil, "x509", "-req", "-in", csr, "-CA", o.Path("root.pem"), "-CAkey", o.Path("root.key"), "-md_gost12_256",
			"-days", "10", "-extfile", ext, "-extensions", "e", "-out", p)
		return p
	}
	f := certsFixture{root: root("root", "/CN=Тестовый УЦ/O=kep")}
	f.leaf = leaf("leaf", "/CN=Иванов Иван Иванович/SN=Иванов/GN=Иван Иванович/SNILS=11223344595/INN=500100732259", "digitalSignature,nonRepudiation")
	f.encLeaf = leaf("enc", "/CN=Encipherment", "keyEncipherment")
	f.other = root("other", "/CN=Other root")
	return f
}

func TestCertsShow(t *testing.T) {
	f := makeCertsFixture(t)
	out, stderr, code := execute(t, nil, "certs", "show", "--lang", "en", f.leaf)
	if code != 0 {
		t.Fatalf("show: code %d: %s", code, stderr)
	}
	for _, want := range []string{"Subject:", "CN=Иванов Иван Иванович", "SNILS:", "11223344595", "INN:", "500100732259", "Identification:", "in person", "GOST R 34.10-2012 256 (cryptopro-a)"} {
		if !strings.Contains(out, want) {
			t.Errorf("show does not print %q:\n%s", want, out)
		}
	}
	out, _, code = execute(t, nil, "certs", "show", "--lang", "ru", f.leaf)
	if code != 0 || !strings.Contains(out, "СНИЛС:") || !strings.Contains(out, "при личном присутствии") {
		t.Errorf("show --lang ru: code %d\n%s", code, out)
	}

	leafPEM, err := os.ReadFile(f.leaf)
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, err := os.ReadFile(f.root)
	if err != nil {
		t.Fatal(err)
	}
	bundle := append(leafPEM, rootPEM...)
	out, _, code = execute(t, bundle, "certs", "show", "--json", "-")
	if code != 0 {
		t.Fatalf("show --json -: code %d", code)
	}
	var got []struct {
		Subject    string `json:"subject"`
		Thumbprint string `json:"thumbprint"`
		IsCA       bool   `json:"isCA"`
		Qualified  struct {
			Surname            string `json:"surname"`
			GivenName          string `json:"givenName"`
			SNILS              string `json:"snils"`
			INN                string `json:"inn"`
			IdentificationKind *int   `json:"identificationKind"`
			KeyUsage           []string
			Problems           []any `json:"problems"`
		} `json:"qualified"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if len(got) != 2 || got[0].Qualified.SNILS != "11223344595" || got[0].Qualified.Surname != "Иванов" ||
		got[0].Qualified.GivenName != "Иван Иванович" || got[0].Qualified.IdentificationKind == nil ||
		*got[0].Qualified.IdentificationKind != 0 || got[0].Qualified.Problems == nil || !got[1].IsCA || len(got[0].Thumbprint) != 40 {
		t.Errorf("JSON shape:\n%s", out)
	}

	for _, args := range [][]string{
		{"certs", "show"},
		{"certs", "show", f.leaf + ".missing"},
		{"certs", "show", f.leaf + ".csr"}, // not a certificate
	} {
		if _, _, code := execute(t, nil, args...); code != exitUsage {
			t.Errorf("%v: code %d, want %d", args, code, exitUsage)
		}
	}
}

func TestCertsVerify(t *testing.T) {
	f := makeCertsFixture(t)
	at := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"valid", []string{"--trust", f.root, "--at", at, f.leaf}, exitOK, "TOTAL_PASSED"},
		{"valid for login", []string{"--trust", f.root, "--purpose", "login", f.leaf}, exitOK, "TOTAL_PASSED"},
		{"wrong key usage", []string{"--trust", f.root, f.encLeaf}, exitIndeterminate, "CHAIN_CONSTRAINTS_FAILURE"},
		{"any purpose", []string{"--trust", f.root, "--purpose", "any", f.encLeaf}, exitOK, "TOTAL_PASSED"},
		{"not yet valid", []string{"--trust", f.root, "--at", "2000-01-01T00:00:00Z", f.leaf}, exitFail, "NOT_YET_VALID"},
		{"expired", []string{"--trust", f.root, "--at", time.Now().AddDate(0, 0, 20).Format(time.RFC3339), f.leaf}, exitIndeterminate, "OUT_OF_BOUNDS_NO_POE"},
		{"unknown root", []string{"--trust", f.other, f.leaf}, exitIndeterminate, "NO_CERTIFICATE_CHAIN_FOUND"},
		{"no --trust", []string{f.leaf}, exitUsage, "--trust"},
		{"bad --at", []string{"--trust", f.root, "--at", "yesterday", f.leaf}, exitUsage, "--at"},
		{"bad --purpose", []string{"--trust", f.root, "--purpose", "encrypt", f.leaf}, exitUsage, "purpose"},
		{"missing file", []string{"--trust", f.root, f.leaf + ".missing"}, exitUsage, "missing"},
		{"bad CRL", []string{"--trust", f.root, "--crl", f.leaf, f.leaf}, exitUsage, "CRL"},
	} {
		out, stderr, code := execute(t, nil, append([]string{"certs", "verify", "--revocation", "off", "--lang", "en"}, tc.args...)...)
		if code != tc.code || !strings.Contains(out+stderr, tc.want) {
			t.Errorf("%s: code %d (want %d), output does not say %q:\n%s%s", tc.name, code, tc.code, tc.want, out, stderr)
		}
	}

	out, _, code := execute(t, nil, "certs", "verify", "--revocation", "off", "--json", "--trust", f.root, "--purpose", "login", f.encLeaf)
	if code != exitIndeterminate {
		t.Fatalf("--json: code %d", code)
	}
	var r struct {
		Indication    string `json:"indication"`
		SubIndication string `json:"subIndication"`
		Chain         []struct {
			Subject string `json:"subject"`
		} `json:"chain"`
		Checks []struct {
			Code, Status, Subject, Detail string
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	failed := ""
	for _, c := range r.Checks {
		if c.Status == "failed" {
			failed += c.Code
		}
	}
	if r.Indication != "INDETERMINATE" || r.SubIndication != "CHAIN_CONSTRAINTS_FAILURE" || len(r.Chain) != 2 || failed != "KEY_USAGE" {
		t.Errorf("JSON shape:\n%s", out)
	}
	out, _, _ = execute(t, nil, "certs", "verify", "--revocation", "off", "--lang", "ru", "--trust", f.other, f.leaf)
	if !strings.Contains(out, "установить не удалось") {
		t.Errorf("--lang ru:\n%s", out)
	}
}
