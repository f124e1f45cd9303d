package login

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/trustlist"
	"github.com/kepkit/kep/gost/gost3410"
)

// TestAccreditedLogin: with the list of accredited CAs (testdata/trustlist)
// a login under the accredited CA passes and one under the CA whose
// accreditation was terminated is refused with ISSUER_NOT_ACCREDITED.
func TestAccreditedLogin(t *testing.T) {
	const dir = "../../testdata/trustlist/"
	list, err := trustlist.Load(dir + "tsl.xml")
	if err != nil {
		t.Fatal(err)
	}
	roots, inter := list.Certificates()
	ctx := context.Background()
	const origin = "https://portal.example.ru"
	store := NewMemoryStore()
	issuer := &Issuer{Store: store}
	v := &Verifier{Store: store, Roots: roots, Intermediates: inter, Accreditation: list}
	for _, tc := range []struct {
		ca   string
		want string
	}{{"active", ""}, {"terminated", ReasonNotAccredited}} {
		caPEM, _ := os.ReadFile(dir + tc.ca + ".pem")
		keyPEM, _ := os.ReadFile(dir + tc.ca + ".key")
		cas, err := certs.ParseCertificates(caPEM)
		if err != nil {
			t.Fatal(err)
		}
		caKey, err := certs.ParsePrivateKey(keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		key, _ := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
		now := time.Now()
		der, err := certs.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "user of " + tc.ca},
			NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, cas[0].Certificate, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := certs.ParseCertificate(der)
		ch, err := issuer.Challenge(ctx, origin)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := Sign(ctx, ch, FormatBound, key, leaf, nil)
		if err != nil {
			t.Fatal(err)
		}
		id, err := v.Verify(ctx, origin, resp)
		var r *RefusalError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.ca, err)
		case tc.want == "" && id.CommonName != "user of active":
			t.Errorf("%s: identity %+v", tc.ca, id)
		case tc.want != "" && (!errors.As(err, &r) || r.Reason != tc.want):
			t.Errorf("%s: %v, want %s", tc.ca, err, tc.want)
		}
	}
}
