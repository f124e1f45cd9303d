package agent

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/pkcs11/keystore"
)

func TestRedactorText(t *testing.T) {
	lin := redactor{home: "/home/ivanov", name: "ivanov"}
	win := redactor{home: `C:\Users\Ivanov`, name: "Ivanov"}
	short := redactor{home: "/home/a", name: "a"}
	for _, c := range []struct {
		r       redactor
		in, out string
	}{
		{lin, "module /home/ivanov/lib/rtpkcs11ecp.so: not found", "module ~/lib/rtpkcs11ecp.so: not found"},
		{lin, "container /media/ivanov/FLASH/abcdefgh.000: damaged", "container /media/~/FLASH/abcdefgh.000: damaged"},
		{lin, "/run/media/ivanov: gone; /media/ivanov", "/run/media/~: gone; /media/~"},
		{lin, "container /media/ivanovich/x.000 and /srv/ivanov2", "container /media/ivanovich/x.000 and /srv/ivanov2"}, // another name
		{lin, "module /usr/lib/librtpkcs11ecp.so: CKR_DEVICE_ERROR", "module /usr/lib/librtpkcs11ecp.so: CKR_DEVICE_ERROR"},
		{win, `container C:\Users\Ivanov\AppData\Local\Crypto Pro\x.000: wrong`, `container ~\AppData\Local\Crypto Pro\x.000: wrong`},
		{win, `E:\Ivanov\key.000 "D:\Ivanov"`, `E:\~\key.000 "D:\~"`},
		{short, "/home/a/x and /media/a/b and /var/a", "~/x and /media/a/b and /var/a"}, // one letter: only the home folder
		{redactor{}, "/home/x/y", "/home/x/y"},
	} {
		if got := c.r.text(c.in); got != c.out {
			t.Errorf("%+v.text(%q) = %q, want %q", c.r, c.in, got, c.out)
		}
	}
}

func TestSiteErrorsSplitsJoined(t *testing.T) {
	r := redactor{home: "/home/ivanov", name: "ivanov"}
	got := r.siteErrors(errors.Join(errors.New("module /home/ivanov/a.so: x"), nil, errors.New("container /media/ivanov/b.000: y")))
	if len(got) != 2 || got[0] != "module ~/a.so: x" || got[1] != "container /media/~/b.000: y" {
		t.Errorf("siteErrors = %q", got)
	}
	if got := r.siteErrors(errors.New("one")); len(got) != 1 || got[0] != "one" {
		t.Errorf("siteErrors(one) = %q", got)
	}
}

// TestListErrorsRedacted: a CryptoPro container in the user's home folder
// that cannot be read (a damaged header.key) is reported to the site in
// certs.list and tokens.list without the home folder's path.
func TestListErrorsRedacted(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	dir := filepath.Join(home, "keys", "abcdefgh.000")
	os.MkdirAll(dir, 0o700)
	for _, name := range []string{"header.key", "masks.key", "primary.key", "name.key"} {
		os.WriteFile(filepath.Join(dir, name), []byte("damaged"), 0o600)
	}
	f := newFixtureKeys(t, Config{AllowOrigins: []string{siteOrigin}}, func(*testpki.PKI) keystore.Config {
		return keystore.Config{CryptoPro: []string{dir}}
	})
	c := f.dial(t, siteOrigin)
	for _, m := range []string{"certs.list", "tokens.list"} {
		res := mustCall[struct {
			Errors []string `json:"errors"`
		}](t, c, m, nil)
		all := strings.Join(res.Errors, "\n")
		if !strings.Contains(all, filepath.Join("~", "keys", "abcdefgh.000")) || strings.Contains(all, home) {
			t.Errorf("%s errors %q: want the container named as ~/keys/abcdefgh.000, not under %s", m, res.Errors, home)
		}
	}
}
