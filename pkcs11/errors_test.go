package pkcs11

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	ck "github.com/miekg/pkcs11"
)

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		code uint
		want error // nil: no sentinel
	}{
		{ck.CKR_PIN_INCORRECT, ErrPINIncorrect},
		{ck.CKR_PIN_LOCKED, ErrPINLocked},
		{ck.CKR_PIN_EXPIRED, ErrPINExpired},
		{ck.CKR_PIN_LEN_RANGE, ErrPINLenRange},
		{ck.CKR_PIN_INVALID, ErrPINInvalid},
		{ck.CKR_USER_NOT_LOGGED_IN, ErrNotLoggedIn},
		{ck.CKR_TOKEN_NOT_PRESENT, ErrTokenNotPresent},
		{ck.CKR_TOKEN_NOT_RECOGNIZED, ErrTokenNotPresent},
		{ck.CKR_DEVICE_REMOVED, ErrTokenRemoved},
		{ck.CKR_SESSION_CLOSED, ErrTokenRemoved},
		{ck.CKR_SESSION_HANDLE_INVALID, ErrTokenRemoved},
		{ck.CKR_DEVICE_ERROR, ErrDeviceError},
		{ck.CKR_DEVICE_MEMORY, ErrDeviceError},
		{ck.CKR_MECHANISM_INVALID, ErrMechanismInvalid},
		{ck.CKR_MECHANISM_PARAM_INVALID, ErrMechanismInvalid},
		{ck.CKR_KEY_HANDLE_INVALID, ErrKeyNotFound},
		{ck.CKR_OBJECT_HANDLE_INVALID, ErrKeyNotFound},
		{ck.CKR_FUNCTION_CANCELED, ErrCanceled},
		{ck.CKR_CANCEL, ErrCanceled},
		{ck.CKR_CRYPTOKI_NOT_INITIALIZED, ErrClosed},
		{ck.CKR_GENERAL_ERROR, nil},
		{ck.CKR_DATA_LEN_RANGE, nil},
	} {
		err := fmt.Errorf("context: %w", &Error{Func: "C_Test", Code: tc.code})
		name := CodeName(tc.code)
		if !strings.HasPrefix(name, "CKR_") || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "C_Test") {
			t.Errorf("0x%X: message %q lacks %s", tc.code, err, name)
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != tc.code {
			t.Errorf("0x%X: errors.As gives %v", tc.code, pe)
		}
		if tc.want == nil {
			if u := errors.Unwrap(pe); u != nil {
				t.Errorf("%s wraps %v, want nothing", name, u)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s does not wrap %v", name, tc.want)
		}
	}
	for code, want := range map[uint]string{
		0xA0:                        "CKR_PIN_INCORRECT",
		0x191:                       "CKR_CRYPTOKI_ALREADY_INITIALIZED",
		ck.CKR_VENDOR_DEFINED + 0x1: "CKR_VENDOR_DEFINED+0x1",
		0x999:                       "CKR_0x999",
	} {
		if got := CodeName(code); got != want {
			t.Errorf("CodeName(0x%X) = %s, want %s", code, got, want)
		}
	}
}

func TestUlong(t *testing.T) {
	if v, err := ulong(ul(0xD4321003)); err != nil || v != 0xD4321003 {
		t.Fatalf("8 bytes: %x %v", v, err)
	}
	// Windows' CK_ULONG is 4 bytes.
	if v, err := ulong(binary.NativeEndian.AppendUint32(nil, 0x250)); err != nil || v != 0x250 {
		t.Fatalf("4 bytes: %x %v", v, err)
	}
	if _, err := ulong([]byte{1, 2}); err == nil {
		t.Fatal("2-byte CK_ULONG accepted")
	}
}
