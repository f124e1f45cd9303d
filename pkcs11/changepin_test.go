package pkcs11

import (
	"context"
	"errors"
	"testing"

	ck "github.com/miekg/pkcs11"
)

func TestChangePINFake(t *testing.T) {
	f := newFakeModule()
	f.tokens[1] = newFakeToken("rt", 2)
	tok := openFakeToken(t, f, UI{})
	ctx := context.Background()
	if err := tok.ChangePIN(ctx, []byte("123456"), []byte("12")); !errors.Is(err, ErrPINLenRange) || f.calls["C_SetPIN"] != 0 {
		t.Fatalf("short new PIN: %v (%d calls)", err, f.calls["C_SetPIN"])
	}
	if err := tok.ChangePIN(ctx, []byte("000000"), []byte("654321")); !errors.Is(err, ErrPINIncorrect) {
		t.Fatalf("wrong old PIN: %v", err)
	}
	if err := tok.ChangePIN(ctx, []byte("123456"), []byte("654321")); err != nil {
		t.Fatal(err)
	}
	if f.tokens[1].pin != "654321" {
		t.Fatalf("PIN is %q", f.tokens[1].pin)
	}
	// Locked: nothing is sent.
	f.tokens[1].flags |= ck.CKF_USER_PIN_LOCKED
	calls := f.calls["C_SetPIN"]
	if err := tok.ChangePIN(ctx, []byte("654321"), []byte("111111")); !errors.Is(err, ErrPINLocked) || f.calls["C_SetPIN"] != calls {
		t.Fatalf("locked: %v", err)
	}
}
