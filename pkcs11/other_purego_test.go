//go:build (!cgo || pkcs11purego) && (linux || darwin || windows) && (amd64 || arm64)

package pkcs11

import (
	"strings"
	"testing"
)

// otherCode is another library in the process using the same PKCS#11
// module through its own context: here a second load through the cgo-free
// loader (the same library, loaded twice).
type otherCode struct{ *pureModule }

func newOtherCode(t *testing.T, path string) otherCode {
	t.Helper()
	c, err := loadCryptoki(path)
	if err != nil {
		t.Fatal(err)
	}
	return otherCode{c.(*pureModule)}
}

// InitToken calls C_InitToken(slot, pin, len, label): the label is 32
// blank-padded bytes.
func (o otherCode) InitToken(slot uint, soPIN, label string) error {
	var c cbuf
	defer c.done()
	l := []byte(label + strings.Repeat(" ", 32-len(label)))
	pin := []byte(soPIN)
	return o.call("C_InitToken", 9, uintptr(slot), c.of(pin), uintptr(len(pin)), c.of(l))
}
