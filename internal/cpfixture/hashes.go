package cpfixture

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
)

// Hashes returns the SHA-256 of every file under dir, by path: what tests
// take before using a container, to show afterwards that it was only read.
func Hashes(dir string) (map[string][32]byte, error) {
	out := map[string][32]byte{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = sha256.Sum256(b)
		return err
	})
	return out, err
}

// Changes compares the files under dir with before (from Hashes) and
// describes each difference: another number of files, a file modified or
// gone. None means the tree is as it was.
func Changes(dir string, before map[string][32]byte) ([]string, error) {
	after, err := Hashes(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	if len(after) != len(before) {
		out = append(out, fmt.Sprintf("%d files under %s, were %d", len(after), dir, len(before)))
	}
	for p, h := range before {
		if after[p] != h {
			out = append(out, p+" changed")
		}
	}
	return out, nil
}
