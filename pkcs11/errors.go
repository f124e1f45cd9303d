package pkcs11

import (
	"errors"
	"fmt"

	ck "github.com/miekg/pkcs11"
)

// Sentinel errors. Test for them with errors.Is. An error that comes from a
// PKCS#11 function is an *Error carrying the CK_RV code and wrapping the
// sentinel the code maps to (see Error.Unwrap); errors this package decides
// on its own (a locked PIN seen in the token flags, a key that does not match
// its certificate) wrap the sentinel with an explanation.
var (
	// ErrCryptokiNeedsCgo is returned by Open and reported by Discover in a
	// binary built without cgo: PKCS#11 modules are C libraries.
	ErrCryptokiNeedsCgo = errors.New("pkcs11: PKCS#11 support needs a cgo build (CGO_ENABLED=1 and a C compiler)")
	// ErrModuleLoad: the module file is missing, cannot be loaded or is not a
	// PKCS#11 library; the error carries the loader's message.
	ErrModuleLoad = errors.New("pkcs11: cannot load the PKCS#11 module")
	// ErrClosed: the Module or Token was closed.
	ErrClosed = errors.New("pkcs11: module or token closed")

	// ErrTokenNotFound: no token matches the selector (or no token is present).
	ErrTokenNotFound = errors.New("pkcs11: no matching token")
	// ErrTokenAmbiguous: more than one token matches the selector.
	ErrTokenAmbiguous = errors.New("pkcs11: more than one token matches")
	// ErrTokenNotPresent: CKR_TOKEN_NOT_PRESENT, CKR_TOKEN_NOT_RECOGNIZED.
	ErrTokenNotPresent = errors.New("pkcs11: token not present")
	// ErrTokenRemoved: CKR_DEVICE_REMOVED, CKR_SESSION_CLOSED,
	// CKR_SESSION_HANDLE_INVALID; also returned once an operation failed and
	// the token turned out to be gone. The Token is then unusable: open it
	// again when it is back (the login is lost with it).
	ErrTokenRemoved = errors.New("pkcs11: token removed or session closed")
	// ErrDeviceError: CKR_DEVICE_ERROR, CKR_DEVICE_MEMORY.
	ErrDeviceError = errors.New("pkcs11: device error")

	// ErrPINIncorrect: CKR_PIN_INCORRECT. The token counted a failed try:
	// read TokenInfo.PINFinalTry before asking again.
	ErrPINIncorrect = errors.New("pkcs11: PIN incorrect")

	// ErrPINLocked: CKR_PIN_LOCKED, or the token reports CKF_USER_PIN_LOCKED
	// (then no login was attempted). Only the security officer can unlock it.
	ErrPINLocked = errors.New("pkcs11: PIN locked")
	// ErrPINExpired: CKR_PIN_EXPIRED; the PIN must be changed first.
	ErrPINExpired = errors.New("pkcs11: PIN expired")
	// ErrPINLenRange: CKR_PIN_LEN_RANGE, or a PIN outside the token's
	// [MinPINLen, MaxPINLen] or empty, refused before any login attempt.
	ErrPINLenRange = errors.New("pkcs11: PIN length out of range")
	// ErrPINInvalid: CKR_PIN_INVALID (characters the token does not accept).
	ErrPINInvalid = errors.New("pkcs11: PIN has invalid characters")
	// ErrNotLoggedIn: CKR_USER_NOT_LOGGED_IN; also set on an Identity whose
	// private key may be hidden until Login.
	ErrNotLoggedIn = errors.New("pkcs11: not logged in")
	// ErrNoUI: a PIN is needed and UI.RequestPIN is nil.
	ErrNoUI = errors.New("pkcs11: a PIN is needed and no UI.RequestPIN was given")
	// ErrCanceled: CKR_FUNCTION_CANCELED, CKR_CANCEL (e.g. cancelled on a PIN pad).
	ErrCanceled = errors.New("pkcs11: operation canceled")

	// ErrMechanismInvalid: CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID,
	// or the token does not list a mechanism the operation needs.
	ErrMechanismInvalid = errors.New("pkcs11: mechanism not supported by the token")
	// ErrKeyNotFound: CKR_KEY_HANDLE_INVALID, CKR_OBJECT_HANDLE_INVALID, or
	// no private key with the wanted CKA_ID.
	ErrKeyNotFound = errors.New("pkcs11: key not found")
	// ErrKeyMismatch: the certificate's public key is not the token's public
	// key for the same CKA_ID, or a signature made by the token does not
	// verify with the key's public key. Such a key is never used.
	ErrKeyMismatch = errors.New("pkcs11: certificate and key do not match")
	// ErrNoPublicKey: a private key with neither a public key object, public
	// attributes nor a certificate: its public key is unknown.
	ErrNoPublicKey = errors.New("pkcs11: public key unknown")
	// ErrUnsupportedKey: a key type, curve or parameter set kep does not
	// sign with (including GOST R 34.10-2001 keys, withdrawn in 2019).
	ErrUnsupportedKey = errors.New("pkcs11: unsupported key")
)

// Error is a failed PKCS#11 function call.
type Error struct {
	Func string // the PKCS#11 function, e.g. "C_Login"
	Code uint   // the CK_RV value, e.g. 0xA0 (CKR_PIN_INCORRECT)
}

func (e *Error) Error() string {
	return fmt.Sprintf("pkcs11: %s failed: %s (0x%X)", e.Func, CodeName(e.Code), e.Code)
}

// Unwrap returns the sentinel error the code maps to, or nil:
//
//	CKR_PIN_INCORRECT                                  ErrPINIncorrect
//	CKR_PIN_LOCKED                                     ErrPINLocked
//	CKR_PIN_EXPIRED                                    ErrPINExpired
//	CKR_PIN_LEN_RANGE                                  ErrPINLenRange
//	CKR_PIN_INVALID                                    ErrPINInvalid
//	CKR_USER_NOT_LOGGED_IN                             ErrNotLoggedIn
//	CKR_TOKEN_NOT_PRESENT, CKR_TOKEN_NOT_RECOGNIZED    ErrTokenNotPresent
//	CKR_DEVICE_REMOVED, CKR_SESSION_CLOSED,
//	CKR_SESSION_HANDLE_INVALID                         ErrTokenRemoved
//	CKR_DEVICE_ERROR, CKR_DEVICE_MEMORY                ErrDeviceError
//	CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID ErrMechanismInvalid
//	CKR_KEY_HANDLE_INVALID, CKR_OBJECT_HANDLE_INVALID  ErrKeyNotFound
//	CKR_FUNCTION_CANCELED, CKR_CANCEL                  ErrCanceled
//	CKR_CRYPTOKI_NOT_INITIALIZED                       ErrClosed
func (e *Error) Unwrap() error {
	switch e.Code {
	case ck.CKR_PIN_INCORRECT:
		return ErrPINIncorrect
	case ck.CKR_PIN_LOCKED:
		return ErrPINLocked
	case ck.CKR_PIN_EXPIRED:
		return ErrPINExpired
	case ck.CKR_PIN_LEN_RANGE:
		return ErrPINLenRange
	case ck.CKR_PIN_INVALID:
		return ErrPINInvalid
	case ck.CKR_USER_NOT_LOGGED_IN:
		return ErrNotLoggedIn
	case ck.CKR_TOKEN_NOT_PRESENT, ck.CKR_TOKEN_NOT_RECOGNIZED:
		return ErrTokenNotPresent
	case ck.CKR_DEVICE_REMOVED, ck.CKR_SESSION_CLOSED, ck.CKR_SESSION_HANDLE_INVALID:
		return ErrTokenRemoved
	case ck.CKR_DEVICE_ERROR, ck.CKR_DEVICE_MEMORY:
		return ErrDeviceError
	case ck.CKR_MECHANISM_INVALID, ck.CKR_MECHANISM_PARAM_INVALID:
		return ErrMechanismInvalid
	case ck.CKR_KEY_HANDLE_INVALID, ck.CKR_OBJECT_HANDLE_INVALID:
		return ErrKeyNotFound
	case ck.CKR_FUNCTION_CANCELED, ck.CKR_CANCEL:
		return ErrCanceled
	case ck.CKR_CRYPTOKI_NOT_INITIALIZED:
		return ErrClosed
	}
	return nil
}

// hasCode reports whether err is an *Error with one of the codes.
func hasCode(err error, codes ...uint) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code == c {
			return true
		}
	}
	return false
}

// mayMeanRemoval reports whether err is a failure a vanished token causes,
// so that the token's presence is worth checking.
func mayMeanRemoval(err error) bool {
	return errors.Is(err, ErrTokenRemoved) || errors.Is(err, ErrTokenNotPresent) ||
		errors.Is(err, ErrDeviceError) || errors.Is(err, ErrKeyNotFound) ||
		hasCode(err, ck.CKR_SLOT_ID_INVALID, ck.CKR_GENERAL_ERROR, ck.CKR_FUNCTION_FAILED)
}

// PINTriesError is a wrong PIN on a token that says how many tries are
// left (kep's software token; PKCS#11 tokens tell only "count low" and
// "final try", in TokenInfo). It is ErrPINIncorrect for errors.Is.
type PINTriesError struct {
	Left int // 0: the PIN is now locked
}

func (e *PINTriesError) Error() string {
	if e.Left > 0 {
		return fmt.Sprintf("%v: %d tries left", ErrPINIncorrect, e.Left)
	}
	return fmt.Sprintf("%v: no tries left, the PIN is now locked", ErrPINIncorrect)
}

func (e *PINTriesError) Unwrap() error { return ErrPINIncorrect }
