package verify_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/verify"
)

const ca2001Conf = `[ca]
default_ca = CA_default
[CA_default]
database = index.txt
new_certs_dir = .
serial = serial
default_md = md_gost94
policy = pol
unique_subject = no
email_in_dn = no
[pol]
commonName = supplied
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_leaf]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[req]
distinguished_name = dn
[dn]
`

func readCert(t *testing.T, path string) *certs.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := certs.ParseCertificates(b)
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

// TestGOST2001CMS: the gost engine makes a GOST R 34.10-2001 CA and signer
// (valid 2015–2030, as `openssl ca -startdate` allows) and CMS signatures
// with GOST R 34.11-94 (`openssl cms -sign -md md_gost94`); kep verifies them
// at a 2019 validation time, reports them INDETERMINATE /
// CRYPTO_CONSTRAINTS_FAILURE_NO_POE now, and fails a changed content.
func TestGOST2001CMS(t *testing.T) {
	o := ossltest.New(t)
	conf := o.WriteFile(t, "ca.cnf", []byte(ca2001Conf))
	o.WriteFile(t, "index.txt", nil)
	o.WriteFile(t, "serial", []byte("01\n"))
	ca := func(args ...string) {
		o.MustRun(t, nil, append([]string{"ca", "-config", conf, "-batch", "-startdate", "20150101000000Z", "-enddate", "20300101000000Z"}, args...)...)
	}
	for _, set := range []string{"A", "B", "C"} {
		rootKey, leafKey := o.Path("root"+set+".key"), o.Path("leaf"+set+".key")
		o.MustRun(t, nil, "genpkey", "-algorithm", "gost2001", "-pkeyopt", "paramset:"+set, "-out", rootKey)
		o.MustRun(t, nil, "genpkey", "-algorithm", "gost2001", "-pkeyopt", "paramset:"+set, "-out", leafKey)
		o.MustRun(t, nil, "req", "-new", "-key", rootKey, "-subj", "/CN=root 2001 "+set, "-config", conf, "-out", o.Path("root.csr"))
		ca("-selfsign", "-keyfile", rootKey, "-in", o.Path("root.csr"), "-extensions", "v3_ca", "-out", o.Path("root"+set+".pem"))
		o.MustRun(t, nil, "req", "-new", "-key", leafKey, "-subj", "/CN=signer 2001 "+set, "-config", conf, "-out", o.Path("leaf.csr"))
		ca("-cert", o.Path("root"+set+".pem"), "-keyfile", rootKey, "-in", o.Path("leaf.csr"), "-extensions", "v3_leaf", "-out", o.Path("leaf"+set+".pem"))
		root := readCert(t, o.Path("root"+set+".pem"))
		content := []byte(strings.Repeat("налоговая отчётность 2018 ", 40) + set)
		contentFile := o.WriteFile(t, "content", content)
		for _, attrs := range []bool{true, false} {
			args := []string{"cms", "-sign", "-binary", "-md", "md_gost94", "-signer", o.Path("leaf" + set + ".pem"), "-inkey", leafKey, "-in", contentFile, "-outform", "DER"}
			if !attrs {
				args = append(args, "-noattr")
			}
			sig := o.MustRun(t, nil, args...)
			run := func(at time.Time, content []byte) *verify.Report {
				rep, err := verify.Verify(context.Background(), sig, verify.Options{Roots: []*certs.Certificate{root}, At: at, Content: bytes.NewReader(content)})
				if err != nil {
					t.Fatal(err)
				}
				return rep
			}
			name := set + map[bool]string{true: "/attrs", false: "/noattr"}[attrs]
			in2019 := time.Date(2019, 6, 1, 12, 0, 0, 0, time.UTC)
			if rep := run(in2019, content); rep.Indication != verify.TotalPassed {
				t.Fatalf("%s at 2019: %s/%s\n%s", name, rep.Indication, rep.SubIndication, rep.Summary("en"))
			} else if c := signerCheck(rep, certs.CheckAlgConstraint); c == nil || c.Status != verify.Passed || c.Reason != certs.ReasonGOST2001 {
				t.Fatalf("%s at 2019: constraint check %+v", name, c)
			}
			rep := run(time.Now(), content)
			s := rep.Signers[0]
			if rep.Indication != verify.Indeterminate || s.SubIndication != verify.CryptoConstraintsFailureNoPOE {
				t.Fatalf("%s now: %s / %s\n%s", name, rep.Indication, s.SubIndication, rep.Summary("en"))
			}
			c := signerCheck(rep, certs.CheckAlgConstraint)
			if c == nil || c.Status != verify.Failed || c.Reason != certs.ReasonGOST2001 ||
				!strings.Contains(c.Detail, "GOST R 34.10-2001 with GOST R 34.11-94 is acceptable only for signatures whose existence is proven before 2020-01-01") ||
				!strings.Contains(c.Detail, "the validation time") {
				t.Fatalf("%s now: constraint check %+v", name, c)
			}
			changed := append(bytes.Clone(content), '!')
			if rep := run(in2019, changed); rep.Indication != verify.TotalFailed {
				t.Fatalf("%s: changed content gives %s/%s", name, rep.Indication, rep.SubIndication)
			}
		}
	}
}

func signerCheck(rep *verify.Report, code string) *verify.Check {
	for _, s := range rep.Signers {
		for i := range s.Checks {
			if s.Checks[i].Code == code {
				return &s.Checks[i]
			}
		}
	}
	return nil
}
