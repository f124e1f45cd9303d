package cades

import (
	"errors"
	"fmt"
)

// HRESULTs: the values CryptoAPI, the smart-card subsystem and COM define
// for these causes (their names are those of the Windows SDK headers
// winerror.h and scarderr.h, the same values pcsc-lite's pcsclite.h gives
// the SCARD_* ones). CryptoPro's plug-in reports the HRESULT of the failing
// CryptoAPI or COM call in the message of every rejection, e.g.
// "… (0x8010006E)" when the user cancelled, and portals compare those
// numbers.
const (
	HResultCancelled     uint32 = 0x8010006E // SCARD_W_CANCELLED_BY_USER
	HResultWrongPIN      uint32 = 0x8010006B // SCARD_W_WRONG_CHV
	HResultPINLocked     uint32 = 0x8010006C // SCARD_W_CHV_BLOCKED
	HResultNoSmartCard   uint32 = 0x8010000C // SCARD_E_NO_SMARTCARD
	HResultCardRemoved   uint32 = 0x80100069 // SCARD_W_REMOVED_CARD
	HResultNotFound      uint32 = 0x80092004 // CRYPT_E_NOT_FOUND
	HResultNoKeyProperty uint32 = 0x8009200B // CRYPT_E_NO_KEY_PROPERTY
	HResultNoKey         uint32 = 0x8009000D // NTE_NO_KEY
	HResultBadSignature  uint32 = 0x80090006 // NTE_BAD_SIGNATURE
	HResultBadAlgID      uint32 = 0x80090008 // NTE_BAD_ALGID
	HResultBadKeyset     uint32 = 0x80090016 // NTE_BAD_KEYSET
	HResultHashValue     uint32 = 0x80091007 // CRYPT_E_HASH_VALUE
	HResultNoSigner      uint32 = 0x8009100E // CRYPT_E_NO_SIGNER
	HResultASN1BadTag    uint32 = 0x8009310B // CRYPT_E_ASN1_BADTAG
	HResultChaining      uint32 = 0x800B010A // CERT_E_CHAINING
	HResultUntrustedRoot uint32 = 0x800B0109 // CERT_E_UNTRUSTEDROOT
	HResultExpired       uint32 = 0x800B0101 // CERT_E_EXPIRED
	HResultWrongUsage    uint32 = 0x800B0110 // CERT_E_WRONG_USAGE
	HResultRevoked       uint32 = 0x80092010 // CRYPT_E_REVOKED
	HResultNoRevocation  uint32 = 0x80092012 // CRYPT_E_NO_REVOCATION_CHECK
	HResultRevocationOff uint32 = 0x80092013 // CRYPT_E_REVOCATION_OFFLINE
	HResultInvalidArg    uint32 = 0x80070057 // E_INVALIDARG
	HResultNotImpl       uint32 = 0x80004001 // E_NOTIMPL
	HResultFail          uint32 = 0x80004005 // E_FAIL
	HResultAccessDenied  uint32 = 0x80070005 // E_ACCESSDENIED
	HResultOutOfMemory   uint32 = 0x8007000E // E_OUTOFMEMORY
	HResultTimeout       uint32 = 0x800705B4 // HRESULT_FROM_WIN32(ERROR_TIMEOUT)
	HResultBusy          uint32 = 0x800700AA // HRESULT_FROM_WIN32(ERROR_BUSY)
	HResultInvalidHandle uint32 = 0x80070006 // E_HANDLE
)

// Error is a CAdESCOM error: a Russian message and the HRESULT. Its text,
// "message (0x8XXXXXXX)", is what cadesplugin.getLastError returns and what
// wrappers cut at " (0x" (crypto-pro's _extractMeaningfulErrorMessage).
type Error struct {
	HRESULT uint32
	Message string // Russian, without the HRESULT
	Err     error  // the cause, when there is one
}

func (e *Error) Error() string { return fmt.Sprintf("%s (0x%08X)", e.Message, e.HRESULT) }

func (e *Error) Unwrap() error { return e.Err }

func newError(hr uint32, format string, args ...any) *Error {
	return &Error{HRESULT: hr, Message: fmt.Sprintf(format, args...)}
}

// ErrNotSupported is the cause of every "не поддерживается kep" error: a
// class, member or option kep does not build (E_NOTIMPL).
var ErrNotSupported = errors.New("cades: not supported by kep")

func notSupported(what string) *Error {
	return &Error{HRESULT: HResultNotImpl, Message: what + " не поддерживается kep", Err: ErrNotSupported}
}

func invalidArg(format string, args ...any) *Error {
	return newError(HResultInvalidArg, "Параметр задан неверно: "+format, args...)
}

// AsError returns err as an *Error, wrapping other errors as E_FAIL.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{HRESULT: HResultFail, Message: "Ошибка: " + err.Error(), Err: err}
}

// wrapErr gives a Backend's error to the page: the agent's errors already
// carry their HRESULT; anything else is E_FAIL.
func wrapErr(err error) *Error { return AsError(err) }
