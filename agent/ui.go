package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/keystore"
)

// UI is how the agent asks its user: a page the agent serves on its own
// origin (PageUI), a terminal, or a test's own implementation. The requesting
// page never takes part: it cannot see the PIN or answer for the user.
type UI interface {
	// Access asks whether origin may use the agent and which of the
	// certificates it may see: every one, or those the user picks.
	// ErrDenied when the user refuses.
	Access(ctx context.Context, req AccessRequest) (Grant, error)
	// Confirm shows op and waits for the user to approve it (with the PIN
	// when op.NeedPIN). ErrDenied when the user refuses.
	Confirm(ctx context.Context, op Operation) (Confirmation, error)
}

// Confirmation is an approved operation under way.
type Confirmation interface {
	// PIN answers the token's PIN requests: the PIN given with the approval
	// first, then, after a wrong PIN (req.Retry), a new one asked for.
	PIN(ctx context.Context, req keystore.PINRequest) ([]byte, error)
	// Done tells the user how the operation ended.
	Done(err error)
}

// AccessRequest is a site asking to use the agent.
type AccessRequest struct {
	Origin string
	// Certificates are the user's certificates now, to choose from.
	Certificates []*keystore.Entry
}

// Operation kinds.
const (
	OpSign  = "sign"
	OpLogin = "login"
)

// Operation is what the user is asked to approve.
type Operation struct {
	Kind   string // OpSign or OpLogin
	Origin string // from the browser's Origin header
	Entry  *keystore.Entry
	// Description is what the page says the document is; shown as the
	// site's words, never trusted.
	Description string
	Size        int64 // bytes of the document; -1 when only its hash was given
	DigestAlg   string
	Digest      []byte
	// Challenge is the login's nonce (OpLogin), shown to the user.
	Challenge string
	// NeedPIN is false for tokens with a PIN pad and when a PIN kept for
	// this site is used.
	NeedPIN bool
	// PINCachedUntil is when the PIN kept for this site and token expires
	// (zero when none is used); PINCacheFor, when positive, says the PIN
	// typed now will be kept that long for this site.
	PINCachedUntil time.Time
	PINCacheFor    time.Duration
}

// isContainer reports whether t is a CryptoPro container: what the user
// types for it is the container's password, which may be empty, and it
// counts no tries (it never locks).
func isContainer(t keystore.Token) bool { return t.Source == keystore.SourceCryptoPro }

// Russian texts for a container's password.
const (
	containerPINLabel = "Пароль контейнера"
	containerPINHint  = "Пароль контейнера CryptoPro; оставьте поле пустым, если пароля нет. У контейнера нет счётчика попыток: неверный пароль его не блокирует."
	wrongPasswordText = "Неверный пароль контейнера. Введите его ещё раз: у контейнера нет счётчика попыток, он не блокируется."
)

// wrongSecretText is wrongPINText, or for a container wrongPasswordText.
func wrongSecretText(t keystore.Token, err error) string {
	if isContainer(t) {
		return wrongPasswordText
	}
	return wrongPINText(err)
}

// pinWarning says, in Russian, how close the token is to locking its PIN.
func pinWarning(ti pkcs11.TokenInfo) string {
	switch {
	case ti.PINLocked:
		return "PIN-код заблокирован."
	case ti.PINFinalTry:
		return "Осталась последняя попытка: следующий неверный PIN-код заблокирует токен."
	case ti.PINCountLow:
		return "Ранее вводился неверный PIN-код: число попыток ограничено."
	}
	return ""
}

// wrongPINText says, in Russian, that the PIN was wrong and how many tries
// are left when the token tells.
func wrongPINText(err error) string {
	var te *pkcs11.PINTriesError
	if errors.As(err, &te) {
		if te.Left == 0 {
			return "Неверный PIN-код. Попыток не осталось: PIN-код заблокирован."
		}
		return "Неверный PIN-код. Осталось " + triesRU(te.Left) + "."
	}
	return "Неверный PIN-код."
}

// triesRU is "N попытка/попытки/попыток".
func triesRU(n int) string {
	word := "попыток"
	switch {
	case n%100 >= 11 && n%100 <= 14:
	case n%10 == 1:
		word = "попытка"
	case n%10 >= 2 && n%10 <= 4:
		word = "попытки"
	}
	return strconv.Itoa(n) + " " + word
}

// pagePIN is the compatibility mode for origins allowed to pass the PIN
// themselves (--page-pin-origin): the page's PIN is tried once; a wrong one
// is reported, never retried.
type pagePIN struct{ pin []byte }

func (p *pagePIN) PIN(_ context.Context, req keystore.PINRequest) ([]byte, error) {
	if req.Attempt > 1 || p.pin == nil {
		if req.Retry != nil {
			return nil, req.Retry
		}
		return nil, fmt.Errorf("%w: the page's PIN was used already", pkcs11.ErrPINIncorrect)
	}
	pin := append([]byte(nil), p.pin...)
	clear(p.pin)
	p.pin = nil
	return pin, nil
}

func (p *pagePIN) Done(error) { clear(p.pin) }

// waitAnswer waits for v on ch, ctx or the timeout.
func waitAnswer[T any](ctx context.Context, ch <-chan T, timeout time.Duration) (T, error) {
	var zero T
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-t.C:
		return zero, ErrPromptTimeout
	}
}

// userMessage is the Russian text shown for err in the agent's window.
func userMessage(err error) string {
	if err == nil {
		return "Готово."
	}
	if errors.Is(err, ErrDenied) {
		return "Отменено."
	}
	e := toRPCError(err)
	if e.Data != nil && e.Data.MessageRU != "" {
		return e.Data.MessageRU
	}
	return "Ошибка: " + e.Message
}
