package cryptopro

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// maxScan bounds the folder entries Find looks at, so that a huge drive does
// not stall it.
const maxScan = 20000

// Find returns the container folders (folders holding header.key) in roots
// and up to two levels below each, sorted. Unreadable folders are skipped.
// With no roots it searches Locations().
func Find(roots ...string) []string {
	if len(roots) == 0 {
		roots = Locations()
	}
	seen := map[string]bool{}
	budget := maxScan
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if budget <= 0 {
			return
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range ents {
			if e.Type().IsRegular() && strings.EqualFold(e.Name(), "header.key") {
				seen[dir] = true
				return
			}
		}
		if depth == 0 {
			return
		}
		for _, e := range ents {
			if budget--; budget <= 0 {
				return
			}
			if e.IsDir() {
				walk(filepath.Join(dir, e.Name()), depth-1)
			}
		}
	}
	for _, r := range roots {
		walk(r, 2)
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}
