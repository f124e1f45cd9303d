package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error is the one error value the service answers with: an HTTP status, a
// stable code and a message in Russian and in English. It is rendered in one
// place (writeError) as
//
//	{"error":{"code":"…","message":"…","messageRu":"…"}}
//
// with, for a signature that could not be read, the verification report
// beside it. Internal errors never show their cause to the caller (it is
// logged with the request ID).
type Error struct {
	Status    int    `json:"-"`
	Code      string `json:"code"`
	Message   string `json:"message"`
	MessageRu string `json:"messageRu"`
	// Report is the verification report of a signature the service could
	// not read (code SIGNATURE_MALFORMED), as kep verify --json prints it.
	Report any `json:"-"`
	// Err is the cause, for the log only.
	Err error `json:"-"`
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Code + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Codes (stable; the OpenAPI document lists them).
const (
	CodeUnauthorized       = "UNAUTHORIZED"        // 401: no or unknown API key / client certificate
	CodeNotFound           = "NOT_FOUND"           // 404: no such endpoint, or certificate not seen
	CodeMethodNotAllowed   = "METHOD_NOT_ALLOWED"  // 405
	CodeUnsupportedMedia   = "UNSUPPORTED_MEDIA"   // 415: wrong Content-Type
	CodeBadRequest         = "BAD_REQUEST"         // 400: unreadable JSON, multipart or field
	CodeBadOptions         = "BAD_OPTIONS"         // 400: an option that kep verify would refuse
	CodeNotCMS             = "NOT_CMS"             // 422: the signature part is not a CMS signature at all
	CodeSignatureMalformed = "SIGNATURE_MALFORMED" // 422: a CMS that does not parse (truncated …); report attached
	CodeCertMalformed      = "CERTIFICATE_MALFORMED"
	CodeBadOrigin          = "BAD_ORIGIN"         // 400: origin is not scheme://host[:port]
	CodeOriginNotAllowed   = "ORIGIN_NOT_ALLOWED" // 403: origin not in the configured list
	CodeTooLarge           = "TOO_LARGE"          // 413: the body passed the limit
	CodeTimeout            = "TIMEOUT"            // 408: the client did not send the body in time
	CodeBusy               = "BUSY"               // 503: every slot taken for longer than the queue wait
	CodeUnavailable        = "UNAVAILABLE"        // 503: nonce store or another dependency unreachable
	CodeInternal           = "INTERNAL"           // 500
	CodeShuttingDown       = "SHUTTING_DOWN"      // 503
)

func newError(status int, code, en, ru string) *Error {
	return &Error{Status: status, Code: code, Message: en, MessageRu: ru}
}

func errBadRequest(en, ru string, err error) *Error {
	e := newError(http.StatusBadRequest, CodeBadRequest, en, ru)
	e.Err = err
	if err != nil {
		e.Message += ": " + err.Error()
	}
	return e
}

func errBadOptions(en, ru string) *Error {
	return newError(http.StatusBadRequest, CodeBadOptions, en, ru)
}

var (
	errUnauthorized = newError(http.StatusUnauthorized, CodeUnauthorized,
		"authentication required: send Authorization: Bearer <API key> (or a client certificate)",
		"нужна аутентификация: передайте Authorization: Bearer <ключ API> (или клиентский сертификат)")
	errNotFound = newError(http.StatusNotFound, CodeNotFound,
		"no such endpoint", "такого адреса нет")
	errMethod = newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
		"method not allowed", "метод не поддерживается")
	errBusy = newError(http.StatusServiceUnavailable, CodeBusy,
		"the server is busy, try again", "сервер занят, повторите запрос")
	errShuttingDown = newError(http.StatusServiceUnavailable, CodeShuttingDown,
		"the server is shutting down", "сервер останавливается")
)

func errTooLarge(limit int64) *Error {
	return newError(http.StatusRequestEntityTooLarge, CodeTooLarge,
		fmt.Sprintf("the request is larger than the limit of %d bytes", limit),
		fmt.Sprintf("запрос больше допустимого (%d байт)", limit))
}

func errUnsupportedMedia(got string, want ...string) *Error {
	return newError(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
		fmt.Sprintf("Content-Type %q is not accepted here; use %v", got, want),
		fmt.Sprintf("тип содержимого %q здесь не принимается; нужен %v", got, want))
}

func errInternal(err error) *Error {
	e := newError(http.StatusInternalServerError, CodeInternal, "internal error", "внутренняя ошибка сервера")
	e.Err = err
	return e
}

func errUnavailable(what string, err error) *Error {
	e := newError(http.StatusServiceUnavailable, CodeUnavailable,
		what+" is unavailable, try again later", "сервис временно недоступен ("+what+"), повторите позже")
	e.Err = err
	return e
}

// asError turns any error into an *Error: errors from reading the body
// (limit, timeout) get their own codes, anything unknown is INTERNAL.
func asError(err error, limit int64) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return errTooLarge(mb.Limit)
	}
	if isTimeout(err) {
		e := newError(http.StatusRequestTimeout, CodeTimeout,
			"the request body did not arrive in time", "тело запроса не пришло вовремя")
		e.Err = err
		return e
	}
	return errInternal(err)
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error  *Error `json:"error"`
	Report any    `json:"report,omitempty"`
}

// writeError is the one place errors are rendered.
func writeError(w http.ResponseWriter, e *Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	if e.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="kep"`)
	}
	w.WriteHeader(e.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(errorBody{Error: e, Report: e.Report})
}
