package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/kepkit/kep/pkcs11"
)

// readPIN returns a PIN from --pin-file, then KEP_PIN, then a prompt without
// echo when standard input is a terminal. The PIN is never printed or logged.
func readPIN(pinFile string, stderr io.Writer, prompt string) ([]byte, error) {
	if pinFile != "" {
		b, err := os.ReadFile(pinFile)
		if err != nil {
			return nil, err
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return []byte(strings.TrimRight(line, "\r")), nil
	}
	if p, ok := os.LookupEnv("KEP_PIN"); ok {
		return []byte(p), nil
	}
	return readPINPrompt(stderr, prompt, "--pin-file FILE or set KEP_PIN")
}

// readPINPrompt asks on the terminal without echo; without a terminal it
// fails naming the other ways, alternatives ("--pin-file FILE or set KEP_PIN").
func readPINPrompt(stderr io.Writer, prompt, alternatives string) ([]byte, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, errors.New("a PIN is needed and standard input is not a terminal: give " + alternatives)
	}
	fmt.Fprint(stderr, prompt)
	pin, err := term.ReadPassword(fd)
	fmt.Fprintln(stderr)
	return pin, err
}

// pinUI asks readPIN for token logins, warning before the last tries.
func pinUI(pinFile string, stderr io.Writer) pkcs11.UI {
	return pkcs11.UI{RequestPIN: func(_ context.Context, req pkcs11.PINRequest) ([]byte, error) {
		switch {
		case req.Token.PINFinalTry:
			fmt.Fprintln(stderr, "WARNING: one more wrong PIN locks the token.")
		case req.Token.PINCountLow:
			fmt.Fprintln(stderr, "warning: a wrong PIN was entered since the last correct one.")
		}
		what := "token " + req.Token.Label
		if req.Key != "" {
			what = "key " + req.Key
		}
		return readPIN(pinFile, stderr, "PIN for "+what+": ")
	}}
}
