package login

import (
	"strings"
	"testing"
)

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
		// The bounds: ports 1 and 65535, 63-character labels, 253-character
		// names; a default port only for its own scheme.
		"https://a.ru:1":             "https://a.ru:1",
		"https://a.ru:65535":         "https://a.ru:65535",
		"https://a.ru:80":            "https://a.ru:80",
		"http://localhost:443":       "http://localhost:443",
		"https://" + label63 + ".ru": "https://" + label63 + ".ru",
		"https://" + name253:         "https://" + name253,
		"https://a-b.ru":             "https://a-b.ru",
		"https://a_b.ru":             "https://a_b.ru",
		"https://a.1b":               "https://a.1b",
		"https://A.Z.ru":             "https://a.z.ru",
		"https://a09.ru":             "https://a09.ru",
		"https://[::1]":              "https://[::1]",
	}
	for in, want := range good {
		got, err := NormalizeOrigin(in)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
	// A non-ASCII host name is refused with the way out: its xn-- form.
	if _, err := NormalizeOrigin("https://почта.рф"); err == nil || !strings.Contains(err.Error(), "xn--") {
		t.Errorf("non-ASCII host: %v, want the advice to give the xn-- form", err)
	}
	for _, bad := range []string{"", "null", "http://portal.example.ru", "ftp://x.ru", "https://", "https://a.ru/path",
		"https://a.ru?q", "https://a.ru#f", "https://u:p@a.ru", "https://a.ru:0", "https://a.ru:65536", "https://a.ru:",
		"https://почта.рф", "https://a..ru", "https://-a.ru", "http://127.0.0.2", "http://localhost.evil.ru", "portal.example.ru",
		"https://a.ru:08443", "https://a.ru.", "https://127.1", "http://2130706433",
		"https://a-.ru", "https://a.123", "https://a!b.ru", "https://a..", "https://" + label63 + "x.ru", "https://x" + name253,
		"https://[::1", "http://[::2]", "http://[::ffff:127.0.0.1]",
		// IPv4-mapped IPv6 had no normal form: [::ffff:192.0.2.1] became
		// [192.0.2.1], which normalised again to 192.0.2.1, so a bound login
		// from such an origin could never pass ParseBoundDocument.
		"https://[::ffff:192.0.2.1]", "https://[::ffff:c000:201]",
		"https://" + strings.Repeat("a", 505) + ".ru"} {
		if got, err := NormalizeOrigin(bad); err == nil {
			t.Errorf("%q accepted as %q", bad, got)
		}
	}
}

// label63 is a host-name label of the longest length allowed, name253 a host
// name of the longest length allowed (RFC 1035 section 2.3.4).
var (
	label63 = strings.Repeat("b", 63)
	name253 = strings.Repeat(strings.Repeat("c", 49)+".", 5) + "rux"
)

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
