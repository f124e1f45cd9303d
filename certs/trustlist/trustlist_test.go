package trustlist

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
)

const sampleDir = "../../testdata/trustlist/"

func loadSample(t testing.TB) *List {
	t.Helper()
	f, err := os.Open(sampleDir + "tsl.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func sampleCert(t testing.TB, name string) *certs.Certificate {
	t.Helper()
	data, err := os.ReadFile(sampleDir + name + ".pem")
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.ParseCertificates(data)
	if err != nil {
		t.Fatal(err)
	}
	return c[0]
}

func TestSample(t *testing.T) {
	l := loadSample(t)
	if l.Version != 4242 || len(l.CAs) != 4 || l.Date.UTC().Format("2006-01-02T15") != "2026-11-01T06" {
		t.Fatalf("version %d, %d CAs, date %v", l.Version, len(l.CAs), l.Date)
	}
	roots, inter := l.Certificates()
	if len(roots) != 1 || len(inter) != 3 || roots[0].Subject.CommonName != "Тестовый Головной УЦ" {
		t.Errorf("%d roots, %d intermediates", len(roots), len(inter))
	}
	msk := time.FixedZone("MSK", 3*3600)
	for _, tc := range []struct {
		ca     string
		at     time.Time
		ok     bool
		status string
	}{
		{"active", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), true, StatusActive},
		{"active", time.Date(2021, 2, 28, 0, 0, 0, 0, time.UTC), false, ""},
		{"terminated", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), true, StatusActive},
		{"terminated", time.Date(2024, 6, 30, 23, 0, 0, 0, msk), true, StatusActive},
		{"terminated", time.Date(2024, 7, 1, 0, 0, 0, 0, msk), false, StatusTerminated},
		{"terminated", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), false, StatusTerminated},
		{"suspended", time.Date(2025, 1, 15, 11, 59, 0, 0, msk), true, StatusActive},
		{"suspended", time.Date(2025, 1, 15, 12, 0, 0, 0, msk), false, StatusSuspended},
		{"root", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), true, StatusActive},
	} {
		a := l.Accredited(sampleCert(t, tc.ca), tc.at)
		if a.Accredited != tc.ok || a.Status.Status != tc.status || a.CA == nil {
			t.Errorf("%s at %v: %+v", tc.ca, tc.at, a)
		}
	}
	// A CA that is not on the list.
	if a := l.Accredited(sampleCert(t, "active"), time.Now()); !a.Accredited {
		t.Fatal("the active CA is not accredited now")
	}
	stranger := &certs.Certificate{Certificate: sampleCert(t, "active").Certificate}
	stranger.Raw = append([]byte(nil), stranger.Raw...)
	stranger.Raw[len(stranger.Raw)-1] ^= 1 // another thumbprint
	stranger.SubjectKeyId = []byte{1, 2, 3}
	if a := l.Accredited(stranger, time.Now()); a.Accredited || a.CA != nil || !strings.Contains(a.Detail, "not on the list") {
		t.Errorf("unlisted CA: %+v", a)
	}
}

func TestMalformed(t *testing.T) {
	good, err := os.ReadFile(sampleDir + "tsl.xml")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"empty":            nil,
		"other root":       []byte("<TrustServiceStatusList/>"),
		"not XML":          []byte("%PDF-1.4"),
		"truncated":        good[:len(good)/2],
		"windows-1251":     []byte(`<?xml version="1.0" encoding="windows-1251"?><a/>`),
		"bad version":      bytes.Replace(good, []byte("<Версия>4242"), []byte("<Версия>x"), 1),
		"bad date":         bytes.Replace(good, []byte("<ДействуетС>2021-03-01T00:00:00"), []byte("<ДействуетС>вчера"), 1),
		"bad certificate":  bytes.Replace(good, []byte("<Данные>MII"), []byte("<Данные>!!!"), 1),
		"wrong thumbprint": bytes.Replace(good, []byte("<Отпечаток>"), []byte("<Отпечаток>00"), 1),
	} {
		if _, err := Parse(bytes.NewReader(data)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
	// Over the size limit: refused without reading it all.
	big := &repeat{prefix: []byte("<АккредитованныеУдостоверяющиеЦентры><Название>"), n: 1<<20 + 10}
	if _, err := parse(big, 1<<20); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "over") {
		t.Errorf("huge input: %v", err)
	}
}

// repeat is a reader of a prefix and then n bytes of "a".
type repeat struct {
	prefix []byte
	n      int
}

func (r *repeat) Read(p []byte) (int, error) {
	if len(r.prefix) > 0 {
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, nil
	}
	if r.n <= 0 {
		return 0, os.ErrClosed
	}
	n := min(len(p), r.n)
	for i := range p[:n] {
		p[i] = 'a'
	}
	r.n -= n
	return n, nil
}

func FuzzParse(f *testing.F) {
	good, _ := os.ReadFile(sampleDir + "tsl.xml")
	f.Add(good)
	f.Add([]byte("<АккредитованныеУдостоверяющиеЦентры><Версия>1</Версия></АккредитованныеУдостоверяющиеЦентры>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Every CA's history is ordered, and its current status is in it.
		for _, ca := range l.CAs {
			for i := 1; i < len(ca.History); i++ {
				if ca.History[i].From.Before(ca.History[i-1].From) {
					t.Fatalf("%s: history out of order", ca.Name)
				}
			}
			if ca.Status.Status != "" && ca.StatusAt(ca.Status.From.Add(time.Nanosecond)).Status == "" {
				t.Fatalf("%s: current status not in the history", ca.Name)
			}
		}
	})
}

// TestPortalLayout reads a list laid out as the e-trust portal writes it,
// not as generate.go does: a byte-order mark, CRLF line ends, the xsi
// schema attribute on the root, times with a zone offset and seven-digit
// fractions, a history listed newest first that repeats the current status,
// the CA's and the complex's postal <Адрес> beside the CRL <Адрес> of a key,
// the elements this package skips (ЭлектроннаяПочта, Псевдоним,
// КлассСредствЭП, СредстваУЦ, КемВыдан, КомуВыдан, СерийныйНомер,
// ПериодДействияС/До), base64 broken into lines, and thumbprints and key
// identifiers in either case. See testdata/trustlist/README.md for where the
// layout comes from and what is not known of the real file.
func TestPortalLayout(t *testing.T) {
	f, err := os.Open(sampleDir + "etrust-layout.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	msk := time.FixedZone("MSK", 3*3600)
	if want := time.Date(2026, 8, 26, 14, 35, 7, 123456700, msk); l.Version != 16326 || !l.Date.Equal(want) || len(l.CAs) != 3 {
		t.Fatalf("version %d, date %v, %d CAs; want 16326, %v, 3", l.Version, l.Date, len(l.CAs), want)
	}
	active := l.CAs[1]
	if active.ShortName != "ООО «УЦ Действующий»" || active.INN != "6600000002" || active.OGRN != "1026600000002" || active.RegNumber != "1042" {
		t.Errorf("CA fields: %+v", active)
	}
	// The history, oldest first, without the repeated current status.
	var hist []string
	for _, h := range active.History {
		hist = append(hist, h.Status+"@"+h.From.UTC().Format(time.RFC3339))
	}
	if got, want := strings.Join(hist, " "), "Действует@2021-02-28T21:00:00Z Приостановлена@2021-05-12T12:30:00Z Действует@2021-06-30T21:00:00Z"; got != want {
		t.Errorf("history\n got %s\nwant %s", got, want)
	}
	if len(active.Keys) != 1 || len(active.Keys[0].CRLs) != 1 || active.Keys[0].CRLs[0] != "http://ca.example.invalid/cdp/645c9c59.crl" ||
		len(active.Keys[0].Certificates) != 1 || strings.ToUpper(hex.EncodeToString(active.Keys[0].ID)) != "645C9C59532EC7AD0AFE447BC950F04F5E4380EF" {
		t.Errorf("key: %+v", active.Keys)
	}
	if root := l.CAs[0]; len(root.Keys) != 1 || len(root.Keys[0].CRLs) != 2 || root.History[0].Status != StatusActive {
		t.Errorf("head CA: %+v", root)
	}
	if gone := l.CAs[2]; len(gone.Keys) != 1 || len(gone.Keys[0].CRLs) != 0 || gone.Status.Status != StatusTerminated {
		t.Errorf("terminated CA: %+v", gone)
	}
	roots, inter := l.Certificates()
	if len(roots) != 1 || len(inter) != 2 {
		t.Errorf("%d roots, %d intermediates; want 1, 2", len(roots), len(inter))
	}
	for _, tc := range []struct {
		ca     string
		at     time.Time
		ok     bool
		status string
	}{
		{"active", time.Date(2021, 2, 28, 23, 59, 0, 0, msk), false, ""},
		{"active", time.Date(2021, 3, 1, 0, 0, 0, 0, msk), true, StatusActive},
		{"active", time.Date(2021, 6, 1, 0, 0, 0, 0, msk), false, StatusSuspended},
		{"active", time.Date(2021, 7, 1, 0, 0, 0, 0, msk), true, StatusActive},
		{"terminated", time.Date(2024, 6, 30, 23, 59, 0, 0, msk), true, StatusActive},
		{"terminated", time.Date(2024, 7, 1, 0, 0, 0, 0, msk), false, StatusTerminated},
		{"root", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), true, StatusActive},
	} {
		a := l.Accredited(sampleCert(t, tc.ca), tc.at)
		if a.Accredited != tc.ok || a.Status.Status != tc.status || a.CA == nil {
			t.Errorf("%s at %v: %+v", tc.ca, tc.at, a)
		}
	}
}
