package cryptopro_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kepkit/kep/keyfile/cryptopro"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	mk := func(p string, header bool) string {
		d := filepath.Join(root, p)
		os.MkdirAll(d, 0o700)
		if header {
			os.WriteFile(filepath.Join(d, "header.key"), []byte{0x30, 0}, 0o600)
		}
		return d
	}
	a := mk("user/FLASH1/abcdefgh.000", true) // /media/<user>/<drive>/<container>: too deep from /media
	b := mk("drive/ijklmnop.000", true)
	c := mk("qrstuvwx.001", true)
	mk("drive/empty.000", false)
	mk("drive/deeper/x/y.000", true)
	if got, want := cryptopro.Find(root), []string{b, c}; !reflect.DeepEqual(got, want) {
		t.Errorf("Find(root) = %v, want %v", got, want)
	}
	if got, want := cryptopro.Find(filepath.Join(root, "user")), []string{a}; !reflect.DeepEqual(got, want) {
		t.Errorf("Find(user) = %v, want %v", got, want)
	}
	if got := cryptopro.Find(filepath.Join(root, "missing")); len(got) != 0 {
		t.Errorf("Find(missing) = %v", got)
	}
	if len(cryptopro.Locations()) == 0 {
		t.Error("no usual locations")
	}
}
