package streebog

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/internal/ossltest"
)

// TestOpenSSLDifferential compares a few hundred inputs with OpenSSL and the
// gost engine. The inputs are written to files and hashed by one openssl
// process per digest size.
func TestOpenSSLDifferential(t *testing.T) {
	o := ossltest.New(t)
	r := rand.New(rand.NewPCG(7, 8))
	sizes := []int{0, 1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 191, 192, 193, 255, 256, 257, 1023, 1024, 1025, 4095, 4096, 4097}
	for len(sizes) < 300 {
		sizes = append(sizes, r.IntN(5000))
	}
	sizes = append(sizes, 3<<20+5) // a multi-MB input
	msgs := make([][]byte, len(sizes))
	files := make([]string, len(sizes))
	for i, n := range sizes {
		msg := make([]byte, n)
		for j := range msg {
			msg[j] = byte(r.Uint32())
		}
		if i%25 == 24 { // runs of 0xff for the carries in Σ
			for j := range msg {
				msg[j] = 0xff
			}
		}
		msgs[i] = msg
		files[i] = fmt.Sprintf("m%03d", i)
		o.WriteFile(t, files[i], msg)
	}
	for _, alg := range []int{256, 512} {
		args := append([]string{"dgst", fmt.Sprintf("-md_gost12_%d", alg), "-r"}, files...)
		got := parseDgst(t, o.MustRun(t, nil, args...))
		if len(got) != len(files) {
			t.Fatalf("openssl gave %d digests for %d files", len(got), len(files))
		}
		for i, name := range files {
			want, ok := got[name]
			if !ok {
				t.Fatalf("openssl gave no digest for %s", name)
			}
			if d := sum(alg, msgs[i]); !bytes.Equal(d, want) {
				t.Errorf("%d, %d bytes (%s): got %x, openssl %x", alg, len(msgs[i]), name, d, want)
			}
		}
	}
}

// parseDgst parses the lines "HEX *NAME" of `openssl dgst -r` into a map from
// the base name of NAME to the digest.
func parseDgst(t *testing.T, out []byte) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		hx, name, ok := strings.Cut(line, " *")
		if !ok {
			t.Fatalf("unexpected openssl dgst line %q", line)
		}
		d, err := hex.DecodeString(hx)
		if err != nil {
			t.Fatalf("openssl dgst line %q: %v", line, err)
		}
		m[filepath.Base(name)] = d
	}
	return m
}

// TestOpenSSLBinary checks the byte order of `openssl dgst -binary`, the form
// the package documents, on input given through standard input.
func TestOpenSSLBinary(t *testing.T) {
	o := ossltest.New(t)
	msg := []byte("The byte order of the digest is OpenSSL's.")
	for _, alg := range []int{256, 512} {
		want := o.MustRun(t, msg, "dgst", fmt.Sprintf("-md_gost12_%d", alg), "-binary")
		if got := sum(alg, msg); !bytes.Equal(got, want) {
			t.Errorf("%d: got %x, openssl -binary %x", alg, got, want)
		}
	}
}
