package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/internal/ossltest"
)

func execute(t *testing.T, stdin []byte, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, bytes.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func TestVersion(t *testing.T) {
	out, _, code := execute(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "kep ") {
		t.Fatalf("version: code %d, %q", code, out)
	}
}

// TestHashMatchesOpenSSL compares `kep hash` with `openssl dgst -r` on files
// around the block size and a multi-megabyte one, for both digests.
func TestHashMatchesOpenSSL(t *testing.T) {
	o := ossltest.New(t)
	var files []string
	for _, n := range []int{0, 1, 63, 64, 65, 127, 128, 129, 1000, 3<<20 + 17} {
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		files = append(files, o.WriteFile(t, fmt.Sprintf("f%d.bin", n), b))
	}
	for _, alg := range []struct{ kep, openssl string }{{"streebog256", "-md_gost12_256"}, {"streebog512", "-md_gost12_512"}} {
		out, stderr, code := execute(t, nil, append([]string{"hash", "-a", alg.kep}, files...)...)
		if code != 0 {
			t.Fatalf("kep hash: code %d: %s", code, stderr)
		}
		want := o.MustRun(t, nil, append([]string{"dgst", alg.openssl, "-r"}, files...)...)
		// openssl -r prints "HEX *FILE"; kep prints "HEX  FILE".
		if got, exp := out, strings.ReplaceAll(string(want), " *", "  "); got != exp {
			t.Fatalf("%s:\nkep:\n%s\nopenssl:\n%s", alg.kep, got, exp)
		}
	}
}

func TestHashStdinAndErrors(t *testing.T) {
	out, _, code := execute(t, []byte("abc"), "hash", "-")
	if code != 0 || out != "4e2919cf137ed41ec4fb6270c61826cc4fffb660341e0af3688cd0626d23b481  -\n" {
		t.Fatalf("stdin: code %d, %q", code, out)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := execute(t, nil, "hash", filepath.Join(dir, "missing"), good, dir)
	if code != exitFail {
		t.Fatalf("missing file: code %d", code)
	}
	if !strings.Contains(stderr, "missing") || !strings.Contains(stderr, "is a directory") {
		t.Fatalf("stderr does not name the failures: %q", stderr)
	}
	if !strings.Contains(out, "  "+good+"\n") {
		t.Fatalf("the good file was not hashed: %q", out)
	}
	if _, stderr, code := execute(t, nil, "hash", "-a", "sha1", good); code != exitUsage || !strings.Contains(stderr, "streebog256") {
		t.Fatalf("unknown algorithm: code %d, %q", code, stderr)
	}
	if _, _, code := execute(t, nil, "hash", "--no-such-flag"); code != exitUsage {
		t.Fatalf("bad flag: code %d", code)
	}
}
