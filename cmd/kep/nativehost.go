package main

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/agent"
	"github.com/kepkit/kep/agent/nativehost"
	"github.com/kepkit/kep/extension"
)

// envNoStart: set to 1, kep native-host does not start an agent when none
// answers (tests, and users who start kep agent themselves).
const envNoStart = "KEP_NATIVE_HOST_NO_START"

func newNativeHostCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "native-host [BROWSER ARGUMENTS]",
		Short: "The browser extension's native-messaging host (started by the browser, not by hand)",
		Long: `The program the browser starts for kep's extension: it relays one page to the
user's kep agent over the agent's relay socket (starting «kep agent» when none
answers) and speaks native messaging on stdin/stdout. «kep install» registers it.`,
		// The browser's arguments (chrome-extension://ID/, --parent-window=N,
		// Firefox's manifest path and extension ID) are not kep's flags.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			sock, err := agent.DefaultRelaySocket()
			if err != nil {
				return &exitError{code: exitFail, err: err}
			}
			o := nativehost.Options{In: cmd.InOrStdin(), Out: cmd.OutOrStdout(), Args: args, Socket: sock,
				Allowed: []string{extension.ChromeOrigin, extension.FirefoxID},
				Logger:  slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))}
			if os.Getenv(envNoStart) != "1" {
				if exe, err := os.Executable(); err == nil {
					logFile := ""
					if dir, err := os.UserCacheDir(); err == nil && os.MkdirAll(filepath.Join(dir, "kep"), 0o700) == nil {
						logFile = filepath.Join(dir, "kep", "agent.log")
					}
					o.StartAgent = func() error { return nativehost.StartDetached(exe, []string{"agent"}, logFile) }
				}
			}
			if err := nativehost.Run(cmd.Context(), o); err != nil {
				return &exitError{code: exitFail, err: err}
			}
			return nil
		},
	}
}
