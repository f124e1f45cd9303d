package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/verify/login"
)

// Error is a JSON-RPC error object. Code is the JSON-RPC code (the
// protocol's own −32700…−32600 range, or 1000 and above for the agent's);
// Data.Reason is the stable name clients should test.
type Error struct {
	Code    int        `json:"code"`
	Message string     `json:"message"`
	Data    *ErrorData `json:"data,omitempty"`
}

// ErrorData says why, in a form programs can rely on.
type ErrorData struct {
	Reason string `json:"reason"`
	// CKR is the PKCS#11 return value's name when a token call failed, e.g.
	// "CKR_PIN_INCORRECT".
	CKR string `json:"ckr,omitempty"`
	// MessageRU is the message in Russian, for pages that show it as is.
	MessageRU string `json:"messageRu,omitempty"`
	// Details holds reason-specific fields (e.g. "skewSeconds").
	Details map[string]any `json:"details,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Reasons: the stable part of every error the agent returns.
const (
	ReasonParse             = "PARSE_ERROR"
	ReasonInvalidRequest    = "INVALID_REQUEST"
	ReasonMethodNotFound    = "METHOD_NOT_FOUND"
	ReasonInvalidParams     = "INVALID_PARAMS"
	ReasonInternal          = "INTERNAL_ERROR"
	ReasonOriginNotApproved = "ORIGIN_NOT_APPROVED"
	ReasonConsentDenied     = "CONSENT_DENIED"
	ReasonUserCancelled     = "USER_CANCELLED"
	ReasonPromptTimeout     = "PROMPT_TIMEOUT"
	ReasonCertNotFound      = "CERT_NOT_FOUND"
	ReasonKeyUnusable       = "KEY_UNUSABLE"
	ReasonKeyMismatch       = "KEY_CERT_MISMATCH"
	ReasonPINIncorrect      = "PIN_INCORRECT"
	ReasonPINLocked         = "PIN_LOCKED"
	ReasonPINExpired        = "PIN_EXPIRED"
	ReasonPINLength         = "PIN_LEN_RANGE"
	ReasonTokenNotPresent   = "TOKEN_NOT_PRESENT"
	ReasonTokenRemoved      = "TOKEN_REMOVED"
	ReasonDevice            = "DEVICE_ERROR"
	ReasonMechanism         = "MECHANISM_INVALID"
	ReasonUnsupportedKey    = "ALGORITHM_UNSUPPORTED"
	ReasonPKCS11            = "PKCS11_ERROR"
	ReasonOriginMismatch    = "ORIGIN_MISMATCH"
	ReasonClockSkew         = "CLOCK_SKEW"
	ReasonBusy              = "BUSY"
	ReasonLimit             = "LIMIT_EXCEEDED"
	ReasonUploadUnknown     = "UPLOAD_UNKNOWN"
	ReasonPINFromPage       = "PAGE_PIN_NOT_ALLOWED"
)

// JSON-RPC codes of the reasons.
var reasonCodes = map[string]int{
	ReasonParse:             -32700,
	ReasonInvalidRequest:    -32600,
	ReasonMethodNotFound:    -32601,
	ReasonInvalidParams:     -32602,
	ReasonInternal:          -32603,
	ReasonOriginNotApproved: 1001,
	ReasonConsentDenied:     1002,
	ReasonUserCancelled:     1003,
	ReasonPromptTimeout:     1004,
	ReasonCertNotFound:      1010,
	ReasonKeyUnusable:       1011,
	ReasonKeyMismatch:       1012,
	ReasonUnsupportedKey:    1013,
	ReasonPINIncorrect:      1020,
	ReasonPINLocked:         1021,
	ReasonPINExpired:        1022,
	ReasonPINLength:         1023,
	ReasonPINFromPage:       1024,
	ReasonTokenNotPresent:   1030,
	ReasonTokenRemoved:      1031,
	ReasonDevice:            1032,
	ReasonMechanism:         1033,
	ReasonPKCS11:            1034,
	ReasonOriginMismatch:    1040,
	ReasonClockSkew:         1041,
	ReasonBusy:              1050,
	ReasonLimit:             1051,
	ReasonUploadUnknown:     1052,
}

// Russian messages of the reasons users meet.
var reasonRU = map[string]string{
	ReasonOriginNotApproved: "Сайт не получил доступа к kep: разрешите его в окне kep",
	ReasonConsentDenied:     "Доступ сайту к kep не разрешён",
	ReasonUserCancelled:     "Операция отменена пользователем",
	ReasonPromptTimeout:     "Не дождались подтверждения в окне kep",
	ReasonCertNotFound:      "Сертификат не найден: проверьте, что токен подключён",
	ReasonKeyUnusable:       "Закрытый ключ этого сертификата недоступен",
	ReasonKeyMismatch:       "Сертификат на токене не соответствует закрытому ключу",
	ReasonUnsupportedKey:    "Алгоритм ключа не поддерживается (ключи ГОСТ Р 34.10-2001 отменены с 2019 года)",
	ReasonPINIncorrect:      "Неверный PIN-код",
	ReasonPINLocked:         "PIN-код заблокирован: разблокируйте его PIN-кодом администратора токена",
	ReasonPINExpired:        "Срок действия PIN-кода истёк: смените PIN-код",
	ReasonPINLength:         "PIN-код неверной длины",
	ReasonTokenNotPresent:   "Токен не подключён",
	ReasonTokenRemoved:      "Токен был отключён во время операции",
	ReasonDevice:            "Ошибка устройства (токена)",
	ReasonMechanism:         "Токен не поддерживает нужный алгоритм подписи",
	ReasonOriginMismatch:    "Запрос на вход выдан другому сайту",
	ReasonClockSkew:         "Часы компьютера расходятся с часами сайта: установите точное время",
	ReasonBusy:              "kep занят другими запросами, повторите позже",
	ReasonLimit:             "Превышен предел размера или числа запросов",
}

// rpcError makes an Error with the reason's code.
func rpcError(reason, format string, args ...any) *Error {
	code, ok := reasonCodes[reason]
	if !ok {
		code = reasonCodes[ReasonInternal]
	}
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Data: &ErrorData{Reason: reason, MessageRU: reasonRU[reason]}}
}

// Sentinels of the agent's own decisions.
var (
	// ErrDenied: the user refused in the agent's window.
	ErrDenied = errors.New("agent: the user refused")
	// ErrPromptTimeout: nobody answered the agent's window in time.
	ErrPromptTimeout = errors.New("agent: no answer in the agent's window")
)

// errorReasons maps sentinel errors to reasons; the first match wins.
var errorReasons = []struct {
	err    error
	reason string
}{
	{ErrDenied, ReasonUserCancelled},
	{ErrPromptTimeout, ReasonPromptTimeout},
	{context.Canceled, ReasonUserCancelled},
	{context.DeadlineExceeded, ReasonUserCancelled},
	{keystore.ErrNotFound, ReasonCertNotFound},
	{pkcs11.ErrPINIncorrect, ReasonPINIncorrect},
	{pkcs11.ErrPINLocked, ReasonPINLocked},
	{pkcs11.ErrPINExpired, ReasonPINExpired},
	{pkcs11.ErrPINLenRange, ReasonPINLength},
	{pkcs11.ErrPINInvalid, ReasonPINLength},
	{pkcs11.ErrTokenNotPresent, ReasonTokenNotPresent},
	{pkcs11.ErrTokenNotFound, ReasonTokenNotPresent},
	{pkcs11.ErrTokenRemoved, ReasonTokenRemoved},
	{pkcs11.ErrDeviceError, ReasonDevice},
	{pkcs11.ErrMechanismInvalid, ReasonMechanism},
	{pkcs11.ErrKeyMismatch, ReasonKeyMismatch},
	{pkcs11.ErrUnsupportedKey, ReasonUnsupportedKey},
	{pkcs11.ErrKeyNotFound, ReasonKeyUnusable},
	{pkcs11.ErrNotLoggedIn, ReasonKeyUnusable},
	{pkcs11.ErrNoPublicKey, ReasonKeyUnusable},
}

// toRPCError maps any error of an operation to an Error.
func toRPCError(err error) *Error {
	var re *Error
	if errors.As(err, &re) {
		return re
	}
	reason := ReasonInternal
	for _, m := range errorReasons {
		if reason == ReasonInternal && errors.Is(err, m.err) {
			reason = m.reason
		}
	}
	var pe *pkcs11.Error
	if reason == ReasonInternal && errors.As(err, &pe) {
		reason = ReasonPKCS11
	}
	e := rpcError(reason, "%v", err)
	if errors.As(err, &pe) {
		e.Data.CKR = pkcs11.CodeName(pe.Code)
	}
	var skew *login.SkewError
	if errors.As(err, &skew) {
		e = rpcError(ReasonClockSkew, "%v", err)
		e.Data.Details = map[string]any{"skewSeconds": int64(skew.Skew.Seconds()), "maxSkewSeconds": int64(skew.MaxSkew.Seconds())}
	}
	return e
}
