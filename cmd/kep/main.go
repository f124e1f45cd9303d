// Command kep signs and verifies Russian qualified electronic signatures (КЭП),
// inspects tokens and certificates, and runs the local agent browsers use.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes shared by every verb.
const (
	exitOK    = 0
	exitFail  = 1 // the operation ran and the answer is negative (or some inputs failed)
	exitUsage = 2 // bad flags or arguments, unreadable input
	// exitIndeterminate: the answer could not be reached (e.g. no chain to a
	// trusted root, revocation unknown).
	exitIndeterminate = 3
)

// exitError carries an exit code with the error shown to the user.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "kep",
		Short:         "kep — qualified electronic signatures (КЭП) with GOST, without plug-ins",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		if msg := err.Error(); msg == "unknown flag: --pin" || strings.HasPrefix(msg, "unknown flag: --pin ") {
			// A PIN on the command line is seen by every user in the process list.
			err = fmt.Errorf("%w: kep takes no PIN on the command line; use --pin-file FILE or the KEP_PIN environment variable (or type it when asked)", err)
		}
		return &exitError{code: exitUsage, err: err}
	})
	root.AddCommand(newVersionCmd(), newHashCmd(), newSignCmd(), newVerifyCmd(), newTokensCmd(), newSoftCmd(), newCertsCmd(), newLoginCmd(), newAgentCmd(), newDemoCmd(), newDoctorCmd(), newTrustCmd(), newServeCmd())
	root.AddCommand(newNativeHostCmd(), newInstallCmd(), newUninstallCmd())
	return root
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the command line args with the given streams and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "kep:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}
