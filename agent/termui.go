package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/kepkit/kep/pkcs11/keystore"
)

// TerminalUI asks in the terminal the agent runs in: for a user who started
// `kep agent` by hand, or a server without a desktop. Prompts take turns.
type TerminalUI struct {
	// TTY is the terminal; nil opens /dev/tty (CONIN$/CONOUT$ on Windows)
	// at each prompt.
	TTY io.ReadWriter
	// ReadPIN reads a PIN without echo; nil uses the terminal's no-echo mode
	// when TTY is an *os.File.
	ReadPIN func() ([]byte, error)

	mu     sync.Mutex
	reader *bufio.Reader // of TTY, kept across prompts
}

func (ui *TerminalUI) open() (io.ReadWriter, func(), error) {
	if ui.TTY != nil {
		return ui.TTY, func() {}, nil
	}
	f, err := os.OpenFile(ttyPath(), os.O_RDWR, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("agent: no terminal to ask in: %w", err)
	}
	return f, func() { f.Close() }, nil
}

func ttyPath() string {
	if os.PathSeparator == '\\' {
		return "CONIN$"
	}
	return "/dev/tty"
}

// ask runs fn with the terminal, one prompt at a time, giving up when ctx ends.
func (ui *TerminalUI) ask(ctx context.Context, fn func(tty io.ReadWriter, r *bufio.Reader) error) error {
	ui.mu.Lock()
	defer ui.mu.Unlock()
	tty, closeTTY, err := ui.open()
	if err != nil {
		return err
	}
	r := bufio.NewReader(tty)
	if ui.TTY != nil {
		if ui.reader == nil {
			ui.reader = r
		}
		r = ui.reader
	}
	done := make(chan error, 1)
	go func() { done <- fn(tty, r) }()
	select {
	case err := <-done:
		closeTTY()
		return err
	case <-ctx.Done():
		closeTTY()
		return ctx.Err()
	}
}

func (ui *TerminalUI) yes(tty io.ReadWriter, r *bufio.Reader, question string) (bool, error) {
	fmt.Fprintf(tty, "%s [y/N] ", question)
	line, err := r.ReadString('\n')
	if err != nil && line == "" {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes", "д", "да":
		return true, nil
	}
	return false, nil
}

func (ui *TerminalUI) pin(tty io.ReadWriter, r *bufio.Reader, prompt string) ([]byte, error) {
	fmt.Fprint(tty, prompt)
	defer fmt.Fprintln(tty)
	if ui.ReadPIN != nil {
		return ui.ReadPIN()
	}
	if f, ok := tty.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return term.ReadPassword(int(f.Fd()))
	}
	line, err := r.ReadString('\n')
	if err != nil && line == "" {
		return nil, err
	}
	return []byte(strings.TrimRight(line, "\r\n")), nil
}

// Access implements UI.
func (ui *TerminalUI) Access(ctx context.Context, req AccessRequest) (Grant, error) {
	var g Grant
	err := ui.ask(ctx, func(tty io.ReadWriter, r *bufio.Reader) error {
		fmt.Fprintf(tty, "\nkep: сайт %s просит доступ к сертификатам и подписи.\n", limitText(req.Origin))
		for i, e := range req.Certificates {
			fmt.Fprintf(tty, "  %d. %s (до %s), токен %s\n", i+1, limitText(e.Certificate.Subject.CommonName),
				e.Certificate.NotAfter.Format("02.01.2006"), limitText(e.Token.Info.Label))
		}
		ok, err := ui.yes(tty, r, "Разрешить этому сайту пользоваться kep?")
		if err != nil {
			return err
		}
		if !ok {
			return ErrDenied
		}
		g.All = true
		if len(req.Certificates) < 2 {
			return nil
		}
		fmt.Fprint(tty, "Какие сертификаты показать сайту: Enter — все, или номера через запятую: ")
		line, err := r.ReadString('\n')
		if err != nil && line == "" {
			return err
		}
		line = strings.TrimSpace(line)
		if line == "" {
			return nil
		}
		g.All = false
		for _, f := range strings.Split(line, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > len(req.Certificates) {
				fmt.Fprintf(tty, "kep: нет сертификата с номером %q: доступ не разрешён.\n", limitText(f))
				return ErrDenied
			}
			g.Certificates = append(g.Certificates, req.Certificates[n-1].ID)
		}
		return nil
	})
	return g, err
}

// Confirm implements UI.
func (ui *TerminalUI) Confirm(ctx context.Context, op Operation) (Confirmation, error) {
	c := &termConfirmation{ui: ui}
	err := ui.ask(ctx, func(tty io.ReadWriter, r *bufio.Reader) error {
		what := "Подписать документ"
		if op.Kind == OpLogin {
			what = "Войти на сайт"
		}
		fmt.Fprintf(tty, "\nkep: %s — запрос сайта %s\n", what, limitText(op.Origin))
		if e := op.Entry; e != nil {
			fmt.Fprintf(tty, "  сертификат: %s (до %s), токен %s\n", limitText(e.Certificate.Subject.CommonName), e.Certificate.NotAfter.Format("02.01.2006"), limitText(e.Token.Info.Label))
		}
		if op.Kind == OpLogin && op.Challenge != "" {
			fmt.Fprintf(tty, "  одноразовый запрос сайта: %s\n", limitText(op.Challenge))
		}
		if t := pinCacheText(op); t != "" {
			fmt.Fprintf(tty, "  %s\n", t)
		}
		if op.Kind == OpSign {
			if op.Description != "" {
				fmt.Fprintf(tty, "  документ (со слов сайта): %s\n", limitText(op.Description))
			}
			if op.Size >= 0 {
				fmt.Fprintf(tty, "  размер: %d байт\n", op.Size)
			}
			fmt.Fprintf(tty, "  хэш %s: %X\n", op.DigestAlg, op.Digest)
		}
		if op.Entry != nil {
			if w := pinWarning(op.Entry.Token.Info); w != "" {
				fmt.Fprintf(tty, "  ВНИМАНИЕ: %s\n", w)
			}
		}
		ok, err := ui.yes(tty, r, what+"?")
		if err != nil {
			return err
		}
		if !ok {
			return ErrDenied
		}
		if op.NeedPIN {
			prompt := "PIN-код токена: "
			if op.Entry != nil && isContainer(op.Entry.Token) {
				prompt = containerPrompt
			}
			if c.first, err = ui.pin(tty, r, prompt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// containerPrompt asks for a CryptoPro container's password.
const containerPrompt = "Пароль контейнера (Enter, если пароля нет): "

type termConfirmation struct {
	ui    *TerminalUI
	first []byte
	used  bool
}

func (c *termConfirmation) PIN(ctx context.Context, req keystore.PINRequest) ([]byte, error) {
	if !c.used && req.Retry == nil && req.Key == "" && c.first != nil {
		c.used = true
		pin := c.first
		c.first = nil
		return pin, nil
	}
	c.used = true
	var pin []byte
	err := c.ui.ask(ctx, func(tty io.ReadWriter, r *bufio.Reader) error {
		prompt := "PIN-код токена: "
		if isContainer(req.Token) {
			prompt = containerPrompt
		}
		if req.Retry != nil {
			fmt.Fprintln(tty, "kep: "+wrongSecretText(req.Token, req.Retry))
		}
		if req.Key != "" {
			prompt = "PIN-код ключа " + req.Key + ": "
		}
		if w := pinWarning(req.Token.Info); w != "" {
			fmt.Fprintf(tty, "  ВНИМАНИЕ: %s\n", w)
		}
		again := "Ввести PIN-код ещё раз?"
		if isContainer(req.Token) {
			again = "Ввести пароль контейнера?"
		}
		ok, err := c.ui.yes(tty, r, again)
		if err != nil {
			return err
		}
		if !ok {
			return ErrDenied
		}
		pin, err = c.ui.pin(tty, r, prompt)
		return err
	})
	return pin, err
}

func (c *termConfirmation) Done(err error) {
	clear(c.first)
	if tty, closeTTY, oerr := c.ui.open(); oerr == nil {
		fmt.Fprintf(tty, "kep: %s\n", userMessage(err))
		closeTTY()
	}
}
