package login

import "testing"

func TestNormalizeOrigin(t *testing.T) {
	good := map[string]string{
		"https://portal.example.ru":       "https://portal.example.ru",
		"HTTPS://Portal.Example.RU:443/":  "https://portal.example.ru",
		"https://portal.example.ru:8443":  "https://portal.example.ru:8443",
		"http://localhost:3000":           "http://localhost:3000",
		"http://LOCALHOST":                "http://localhost",
		"http://127.0.0.1:80":             "http://127.0.0.1",
		"http://[::1]:8080":               "http://[::1]:8080",
		"http://[0:0:0:0:0:0:0:1]:8080":   "http://[::1]:8080",
		"https://[2001:DB8::1]":           "https://[2001:db8::1]",
		"https://xn--80ak6aa92e.xn--p1ai": "https://xn--80ak6aa92e.xn--p1ai",
		"https://192.0.2.1":               "https://192.0.2.1",
	}
	for in, want := range good {
		got, err := NormalizeOrigin(in)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "null", "http://portal.example.ru", "ftp://x.ru", "https://", "https://a.ru/path",
		"https://a.ru?q", "https://a.ru#f", "https://u:p@a.ru", "https://a.ru:0", "https://a.ru:65536", "https://a.ru:",
		"https://почта.рф", "https://a..ru", "https://-a.ru", "http://127.0.0.2", "http://localhost.evil.ru", "portal.example.ru",
		"https://a.ru:08443", "https://a.ru.", "https://127.1", "http://2130706433"} {
		if got, err := NormalizeOrigin(bad); err == nil {
			t.Errorf("%q accepted as %q", bad, got)
		}
	}
}

func TestParseChallenge(t *testing.T) {
	ch, err := (&Issuer{Store: NewMemoryStore()}).Challenge(bg, "https://portal.example.ru")
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Nonce) != 43 || ch.Expires.Sub(ch.ServerTime) != DefaultTTL || ch.ServerTime.Nanosecond() != 0 {
		t.Fatalf("%+v", ch)
	}
	data := []byte(`{"nonce":"` + ch.Nonce + `","origin":"https://portal.example.ru","serverTime":"2026-01-02T15:04:05Z","expires":"2026-01-02T15:09:05Z"}`)
	if c, err := ParseChallenge(data); err != nil || c.Nonce != ch.Nonce {
		t.Fatal(c, err)
	}
	for _, bad := range []string{`{}`, `{"nonce":"short","origin":"https://a.ru","serverTime":"2026-01-02T15:04:05Z","expires":"2026-01-02T15:09:05Z"}`,
		`{"nonce":"` + ch.Nonce + `","origin":"HTTPS://a.ru","serverTime":"2026-01-02T15:04:05Z","expires":"2026-01-02T15:09:05Z"}`,
		`{"nonce":"` + ch.Nonce + `","origin":"https://a.ru"}`} {
		if _, err := ParseChallenge([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	if _, err := (&Issuer{Store: NewMemoryStore()}).Challenge(bg, "http://evil.example"); err == nil {
		t.Fatal("http origin accepted")
	}
}
