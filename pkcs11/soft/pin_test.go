package soft

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/kepkit/kep/pkcs11"
)

func TestChangePIN(t *testing.T) {
	dir, tok := newToken(t)
	obj, err := tok.GenerateKey(pkcs11.KeyOptions{Type: pkcs11.KeyECDSA})
	if err != nil {
		t.Fatal(err)
	}
	newPIN := []byte("a-new-PIN")
	if err := tok.ChangePIN([]byte("wrong-old"), newPIN); !errors.Is(err, pkcs11.ErrPINIncorrect) {
		t.Fatalf("wrong old PIN: %v", err)
	}
	if n := mustInfo(t, tok).Failures; n != 1 {
		t.Fatalf("a wrong old PIN counted %d tries, want 1", n)
	}
	if err := tok.ChangePIN(testPIN, []byte("12")); !errors.Is(err, pkcs11.ErrPINLenRange) {
		t.Fatalf("short new PIN: %v", err)
	}
	if err := tok.ChangePIN(testPIN, newPIN); err != nil {
		t.Fatal(err)
	}
	if mustInfo(t, tok).LoggedIn {
		t.Error("still logged in after ChangePIN")
	}
	// Another Token opened before the change sees the new PIN too.
	other, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Login(testPIN); !errors.Is(err, pkcs11.ErrPINIncorrect) {
		t.Fatalf("old PIN after the change: %v", err)
	}
	if err := tok.Login(newPIN); err != nil {
		t.Fatalf("new PIN: %v", err)
	}
	// The key is the same key.
	k, err := tok.Signer(obj.ID)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	if _, err := k.Sign(rand.Reader, d[:], nil); err != nil {
		t.Fatalf("signing after the PIN change: %v", err)
	}
}
