package pkcs11

import (
	"encoding/binary"
	"fmt"

	ck "github.com/miekg/pkcs11"
)

// cryptoki is the part of the PKCS#11 C API this package calls, one method
// per C function (FindObjects runs Init, the loop and Final). The cgo build
// implements it over github.com/miekg/pkcs11; the tests also drive the
// package through a fake token. Errors from C functions are *Error values.
//
// Implementations may be called concurrently for different sessions (the
// module is initialised with CKF_OS_LOCKING_OK); this package never uses one
// session from two goroutines at once.
type cryptoki interface {
	Initialize() error
	Finalize() error
	Destroy()
	GetInfo() (LibraryInfo, error)
	GetSlotList(tokenPresent bool) ([]uint, error)
	GetSlotInfo(slot uint) (SlotInfo, error)
	GetTokenInfo(slot uint) (TokenInfo, error)
	GetMechanismList(slot uint) ([]uint, error)
	OpenSession(slot, flags uint) (uint, error)
	CloseSession(session uint) error
	GetSessionState(session uint) (uint, error)
	Login(session, userType uint, pin []byte) error
	Logout(session uint) error
	SetPIN(session uint, oldPIN, newPIN []byte) error
	FindObjects(session uint, template []attribute) ([]uint, error)
	GetAttributeValue(session, object, typ uint) ([]byte, error)
	GenerateKeyPair(session uint, m mechanism, public, private []attribute) (pub, priv uint, err error)
	SignInit(session uint, m mechanism, key uint) error
	Sign(session uint, data []byte) ([]byte, error)
}

// attribute is a template entry. Value is a bool, a uint (CK_ULONG), a
// string or a []byte, the types github.com/miekg/pkcs11 converts.
type attribute struct {
	Type  uint
	Value any
}

// mechanism is a CK_MECHANISM: either raw parameter bytes or RSA-PSS
// parameters, which the implementation lays out as CK_RSA_PKCS_PSS_PARAMS.
type mechanism struct {
	Type  uint
	Param []byte
	PSS   *pssParams
}

type pssParams struct {
	Hash, MGF, SaltLen uint
}

// ulong decodes a CK_ULONG attribute value (native byte order, 4 or 8
// bytes depending on the platform's CK_ULONG).
func ulong(b []byte) (uint, error) {
	switch len(b) {
	case 8:
		return uint(binary.NativeEndian.Uint64(b)), nil
	case 4:
		return uint(binary.NativeEndian.Uint32(b)), nil
	}
	return 0, fmt.Errorf("pkcs11: CK_ULONG attribute of %d bytes", len(b))
}

// LibraryInfo describes a PKCS#11 module (C_GetInfo).
type LibraryInfo struct {
	Cryptoki     string // the PKCS#11 version the module implements, e.g. "2.40"
	Manufacturer string
	Description  string
	Version      string // the library's own version, e.g. "2.6"
}

// SlotInfo describes a slot (C_GetSlotInfo): a reader, or a virtual slot.
type SlotInfo struct {
	ID           uint
	Description  string
	Manufacturer string
	TokenPresent bool // CKF_TOKEN_PRESENT
	Removable    bool // CKF_REMOVABLE_DEVICE
	Hardware     bool // CKF_HW_SLOT
}

// TokenInfo describes the token in a slot (C_GetTokenInfo). The PIN fields
// mirror the token flags: warn the user while PINCountLow or PINFinalTry is
// set, before the PIN gets locked.
type TokenInfo struct {
	Slot         uint
	Label        string
	Manufacturer string
	Model        string
	Serial       string
	Flags        uint // the raw CKF_* token flags
	MinPINLen    uint // in bytes, as the token reports it
	MaxPINLen    uint

	LoginRequired      bool // CKF_LOGIN_REQUIRED
	UserPINInitialized bool // CKF_USER_PIN_INITIALIZED
	Initialized        bool // CKF_TOKEN_INITIALIZED
	WriteProtected     bool // CKF_WRITE_PROTECTED
	ProtectedAuthPath  bool // CKF_PROTECTED_AUTHENTICATION_PATH: PIN pad or biometrics, no PIN from the host

	PINCountLow    bool // CKF_USER_PIN_COUNT_LOW: a wrong PIN was entered since the last good one
	PINFinalTry    bool // CKF_USER_PIN_FINAL_TRY: one more wrong PIN locks it
	PINLocked      bool // CKF_USER_PIN_LOCKED: no login is possible (and none is attempted)
	PINToBeChanged bool // CKF_USER_PIN_TO_BE_CHANGED: default or expired PIN
}

// newTokenInfo fills the flag fields from flags.
func newTokenInfo(slot uint, label, manufacturer, model, serial string, flags, minPIN, maxPIN uint) TokenInfo {
	has := func(f uint) bool { return flags&f != 0 }
	return TokenInfo{
		Slot: slot, Label: label, Manufacturer: manufacturer, Model: model, Serial: serial,
		Flags: flags, MinPINLen: minPIN, MaxPINLen: maxPIN,
		LoginRequired:      has(ck.CKF_LOGIN_REQUIRED),
		UserPINInitialized: has(ck.CKF_USER_PIN_INITIALIZED),
		Initialized:        has(ck.CKF_TOKEN_INITIALIZED),
		WriteProtected:     has(ck.CKF_WRITE_PROTECTED),
		ProtectedAuthPath:  has(ck.CKF_PROTECTED_AUTHENTICATION_PATH),
		PINCountLow:        has(ck.CKF_USER_PIN_COUNT_LOW),
		PINFinalTry:        has(ck.CKF_USER_PIN_FINAL_TRY),
		PINLocked:          has(ck.CKF_USER_PIN_LOCKED),
		PINToBeChanged:     has(ck.CKF_USER_PIN_TO_BE_CHANGED),
	}
}

// pinState describes the PIN flags for messages ("" when none is set).
func (t TokenInfo) pinState() string {
	switch {
	case t.PINLocked:
		return "user PIN locked"
	case t.PINFinalTry:
		return "one try left before the user PIN locks"
	case t.PINCountLow:
		return "wrong PIN entered since the last good one"
	case t.PINToBeChanged:
		return "user PIN must be changed"
	}
	return ""
}

// String names the token for messages: label, model and serial.
func (t TokenInfo) String() string {
	return fmt.Sprintf("%q (%s %s, serial %s, slot %d)", t.Label, t.Manufacturer, t.Model, t.Serial, t.Slot)
}
