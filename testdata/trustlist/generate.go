//go:build ignore

// generate writes the sample list of accredited CAs (tsl.xml) in the format
// the e-trust portal publishes, with a test head CA and three CAs: one
// accredited, one whose accreditation was terminated on 2024-07-01, one
// suspended on 2025-01-15. It also writes each CA's certificate and GOST key
// (PKCS#8) so that tests can issue certificates under them. Run it with
// generate.sh; the output replaces the files beside it.
package main

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"log"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
)

type ca struct {
	file, name, short, inn, ogrn, reg string
	statuses                          [][2]string // status, from
	tmpl                              *x509.Certificate
	key                               *gost3410.PrivateKey
	der                               []byte
}

func main() {
	dir := os.Args[1]
	from := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(c *ca, parent *ca) {
		key, err := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
		if err != nil {
			log.Fatal(err)
		}
		c.key = key
		c.tmpl = &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()),
			Subject:   pkix.Name{CommonName: c.name, Organization: []string{c.name}, Country: []string{"RU"}},
			NotBefore: from, NotAfter: until, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature}
		p, pk := c.tmpl, key
		if parent != nil {
			p, pk = parent.tmpl, parent.key
		}
		c.der, err = certs.CreateCertificate(rand.Reader, c.tmpl, p, key.Public(), pk)
		if err != nil {
			log.Fatal(err)
		}
		parsed, _ := x509.ParseCertificate(c.der)
		c.tmpl.SubjectKeyId = parsed.SubjectKeyId
	}
	root := &ca{file: "root", name: "Тестовый Головной УЦ", short: "ГУЦ (тест)", inn: "7710474375", ogrn: "1047702026701", reg: "000",
		statuses: [][2]string{{"Действует", "2020-01-01T00:00:00"}}}
	cas := []*ca{
		{file: "active", name: "УЦ Действующий (тест)", short: "Действующий", inn: "7701234560", ogrn: "1027700123450", reg: "101",
			statuses: [][2]string{{"Действует", "2021-03-01T00:00:00"}}},
		{file: "terminated", name: "УЦ Прекращённый (тест)", short: "Прекращённый", inn: "7707083893", ogrn: "1027700132195", reg: "102",
			statuses: [][2]string{{"Действует", "2021-01-01T00:00:00"}, {"Прекращена", "2024-07-01T00:00:00"}}},
		{file: "suspended", name: "УЦ Приостановленный (тест)", short: "Приостановленный", inn: "7736207543", ogrn: "1027700229193", reg: "103",
			statuses: [][2]string{{"Действует", "2021-01-01T00:00:00"}, {"Приостановлена", "2025-01-15T12:00:00"}}},
	}
	mk(root, nil)
	for _, c := range cas {
		mk(c, root)
	}
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<АккредитованныеУдостоверяющиеЦентры>\n  <Версия>4242</Версия>\n  <Дата>2026-11-01T09:00:00</Дата>\n")
	for _, c := range append([]*ca{root}, cas...) {
		cert, _ := certs.ParseCertificate(c.der)
		last := c.statuses[len(c.statuses)-1]
		fmt.Fprintf(&b, `  <УдостоверяющийЦентр>
    <Название>%s</Название>
    <ЭлектроннаяПочта>ca@example.ru</ЭлектроннаяПочта>
    <КраткоеНазвание>%s</КраткоеНазвание>
    <АдресСИнформациейПоУЦ>https://ca.example.ru</АдресСИнформациейПоУЦ>
    <Адрес><Страна>RU</Страна><Индекс>101000</Индекс><Город>Москва</Город><УлицаДом>ул. Тестовая, 1</УлицаДом></Адрес>
    <ПрограммноАппаратныеКомплексы>
      <ПрограммноАппаратныйКомплекс>
        <Псевдоним>%s</Псевдоним>
        <КлассСредствЭП>КС1</КлассСредствЭП>
        <Адрес><Страна>RU</Страна><Индекс>101000</Индекс><Город>Москва</Город><УлицаДом>ул. Тестовая, 1</УлицаДом></Адрес>
        <СредстваУЦ>kep testdata</СредстваУЦ>
        <КлючиУполномоченныхЛиц>
          <Ключ>
            <ИдентификаторКлюча>%s</ИдентификаторКлюча>
            <АдресаСписковОтзыва><Адрес>http://ca.example.ru/%s.crl</Адрес></АдресаСписковОтзыва>
            <Сертификаты>
              <ДанныеСертификата>
                <Отпечаток>%s</Отпечаток>
                <КемВыдан>%s</КемВыдан>
                <КомуВыдан>%s</КомуВыдан>
                <СерийныйНомер>%s</СерийныйНомер>
                <ПериодДействияС>%s</ПериодДействияС>
                <ПериодДействияДо>%s</ПериодДействияДо>
                <Данные>%s</Данные>
              </ДанныеСертификата>
            </Сертификаты>
          </Ключ>
        </КлючиУполномоченныхЛиц>
      </ПрограммноАппаратныйКомплекс>
    </ПрограммноАппаратныеКомплексы>
    <ИНН>%s</ИНН>
    <ОГРН>%s</ОГРН>
    <РеестровыйНомер>%s</РеестровыйНомер>
    <СтатусАккредитации><Статус>%s</Статус><ДействуетС>%s</ДействуетС></СтатусАккредитации>
    <ИсторияСтатусовАккредитации>
`, c.name, c.short, c.file, hex.EncodeToString(cert.SubjectKeyId), c.file, cert.Thumbprint(), cert.Issuer.CommonName, cert.Subject.CommonName,
			cert.SerialHex(), from.Format(time.RFC3339), until.Format(time.RFC3339), base64.StdEncoding.EncodeToString(c.der),
			c.inn, c.ogrn, c.reg, last[0], last[1])
		for _, s := range c.statuses {
			fmt.Fprintf(&b, "      <СтатусАккредитации><Статус>%s</Статус><ДействуетС>%s</ДействуетС></СтатусАккредитации>\n", s[0], s[1])
		}
		b.WriteString("    </ИсторияСтатусовАккредитации>\n  </УдостоверяющийЦентр>\n")
		pkcs8, err := gostkey.MarshalPKCS8PrivateKey(c.key)
		if err != nil {
			log.Fatal(err)
		}
		write(filepath.Join(dir, c.file+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.der}))
		write(filepath.Join(dir, c.file+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	}
	b.WriteString("</АккредитованныеУдостоверяющиеЦентры>\n")
	write(filepath.Join(dir, "tsl.xml"), []byte(b.String()))
}

func write(path string, data []byte) {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		log.Fatal(err)
	}
}
