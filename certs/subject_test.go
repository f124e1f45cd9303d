package certs_test

import (
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
)

func TestSubjectMarshal(t *testing.T) {
	s := certs.Subject{Country: "RU", Region: "77 г. Москва", Surname: "Иванов", GivenName: "Иван Иванович",
		CommonName: "Иванов Иван Иванович", Email: "ivanov@example.ru", SNILS: "11223344595", INN: "500100732259"}
	der, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), RawSubject: der, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	certDER, err := certs.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.ParseCertificate(certDER)
	if err != nil {
		t.Fatal(err)
	}
	q := c.Qualified
	if q.SNILS != s.SNILS || q.INN != s.INN || q.Surname != s.Surname || q.GivenName != s.GivenName || q.Email != s.Email || len(q.Problems) != 0 {
		t.Fatalf("parsed back: %+v", q)
	}
	for _, bad := range []certs.Subject{{SNILS: "11223344596"}, {INN: "500100732258"}, {OGRN: "1027700132196"}, {Email: "иванов@example.ru"}, {}} {
		if _, err := bad.Marshal(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
