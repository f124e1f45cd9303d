package trustlist

import (
	"bytes"
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
