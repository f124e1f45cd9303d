package main

import (
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/gost/streebog"
	"github.com/kepkit/kep/internal/progress"
)

// progressThreshold is the file size above which a terminal gets a progress bar.
const progressThreshold = 64 << 20

func newHashCmd() *cobra.Command {
	var alg string
	cmd := &cobra.Command{
		Use:   "hash [-a streebog256|streebog512] [FILE...]",
		Short: "Print Streebog (GOST R 34.11-2012) digests of files",
		Long: `Print "HEXDIGEST  FILE" for each FILE, with the digest bytes exactly as
openssl dgst -md_gost12_256 (or -md_gost12_512) prints them. "-" or no FILE
reads standard input. Files of any size hash in constant memory; on a terminal,
large files show a progress bar.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			newHash, err := hashByName(alg)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if len(args) == 0 {
				args = []string{"-"}
			}
			failed := 0
			for _, name := range args {
				sum, err := hashFile(name, newHash(), cmd.InOrStdin(), cmd.ErrOrStderr())
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "kep: hash: %v\n", err)
					failed++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s\n", hex.EncodeToString(sum), name)
			}
			if failed > 0 {
				return &exitError{code: exitFail, err: fmt.Errorf("%d of %d inputs could not be hashed", failed, len(args))}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&alg, "algorithm", "a", "streebog256", "digest: streebog256 or streebog512")
	return cmd
}

func hashByName(name string) (func() hash.Hash, error) {
	switch name {
	case "streebog256", "gost12-256", "md_gost12_256":
		return streebog.New256, nil
	case "streebog512", "gost12-512", "md_gost12_512":
		return streebog.New512, nil
	}
	return nil, fmt.Errorf("unknown algorithm %q: use streebog256 or streebog512", name)
}

// hashFile streams the file (or stdin for "-") through h.
func hashFile(name string, h hash.Hash, stdin io.Reader, errOut io.Writer) ([]byte, error) {
	r := stdin
	var size int64
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			return nil, fmt.Errorf("%s: is a directory", name)
		}
		r, size = f, st.Size()
	}
	if errFile, ok := errOut.(*os.File); ok && size > progressThreshold && progress.IsTerminal(errFile) {
		bar := progress.NewBar(errOut, name, size)
		defer bar.Finish()
		r = bar.Reader(r)
	}
	buf := make([]byte, 1<<20)
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{r}, buf); err != nil {
		return nil, fmt.Errorf("%s: read: %w", name, err)
	}
	return h.Sum(nil), nil
}
