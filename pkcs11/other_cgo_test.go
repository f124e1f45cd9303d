//go:build cgo && !pkcs11purego

package pkcs11

import (
	"testing"

	ck "github.com/miekg/pkcs11"
)

// otherCode is another library in the process using the same PKCS#11
// module through its own context: here github.com/miekg/pkcs11 directly.
type otherCode struct{ *ckModule }

func newOtherCode(t *testing.T, path string) otherCode {
	t.Helper()
	c := ck.New(path)
	if c == nil {
		t.Fatalf("miekg/pkcs11 cannot load %s", path)
	}
	return otherCode{&ckModule{c: c}}
}

func (o otherCode) InitToken(slot uint, soPIN, label string) error {
	return fail("C_InitToken", o.c.InitToken(slot, soPIN, label))
}
