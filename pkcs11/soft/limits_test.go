package soft

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pad returns data followed by spaces up to n bytes (still the same JSON).
func pad(t *testing.T, data []byte, n int) []byte {
	t.Helper()
	if len(data) > n {
		t.Fatalf("%d bytes do not fit in %d", len(data), n)
	}
	return append(bytes.Clone(data), bytes.Repeat([]byte(" "), n-len(data))...)
}

// TestFileSizeLimits: each file is read up to its limit and refused, as
// ErrCorrupt, one byte beyond it.
func TestFileSizeLimits(t *testing.T) {
	fx := newFuzzFixture(t, filepath.Join(t.TempDir(), "t"))
	pinRaw, err := os.ReadFile(filepath.Join(fx.dir, pinName))
	if err != nil {
		t.Fatal(err)
	}
	files := []struct {
		path string
		raw  []byte
		max  int
		read func() error
	}{
		{filepath.Join(fx.dir, tokenName), fx.tokenRaw, maxTokenFile, func() error { _, err := readTokenFile(fx.dir); return err }},
		{filepath.Join(fx.dir, pinName), pinRaw, maxPINFile, func() error { _, err := readFailures(fx.dir); return err }},
		{fx.keyPath, fx.keyRaw, maxKeyFile, func() error { _, err := fx.tok.Objects(); return err }},
	}
	for _, f := range files {
		t.Run(filepath.Base(f.path), func(t *testing.T) {
			defer os.WriteFile(f.path, f.raw, 0o600)
			if err := os.WriteFile(f.path, pad(t, f.raw, f.max), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := f.read(); err != nil {
				t.Fatalf("a file of exactly %d bytes: %v", f.max, err)
			}
			if err := os.WriteFile(f.path, pad(t, f.raw, f.max+1), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := f.read(); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "larger than") {
				t.Fatalf("a file of %d bytes: %v, want ErrCorrupt for its size", f.max+1, err)
			}
		})
	}
	// Not a regular file: a directory in place of token.json.
	dir := filepath.Join(t.TempDir(), "d")
	fastToken(t, dir)
	os.Remove(filepath.Join(dir, tokenName))
	if err := os.Mkdir(filepath.Join(dir, tokenName), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a directory as token.json: %v", err)
	}
}

// TestScryptCost: parameters within the ranges but beyond the memory or
// work budget are refused before any key is derived.
func TestScryptCost(t *testing.T) {
	fx := newFuzzFixture(t, filepath.Join(t.TempDir(), "t"))
	var tf tokenFile
	if err := json.Unmarshal(fx.tokenRaw, &tf); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		n, r, p int
		ok      bool
	}{
		{1 << 15, 8, 1, true},    // Init's: 32 MiB
		{1 << 20, 2, 1, true},    // 256 MiB
		{1 << 15, 8, 16, true},   // 16 times Init's work
		{1 << 20, 32, 16, false}, // 4 GiB, each of 16 times
		{1 << 20, 8, 1, false},   // 1 GiB
		{1 << 18, 8, 1, true},    // 256 MiB, 8 times Init's work
		{1 << 18, 8, 4, false},   // 256 MiB but 32 times the work
		{1 << 15, 8, 32, false},  // p out of range
		{1 << 14, 16, 16, true},  // 2^22
		{1 << 14, 32, 16, false},
	} {
		k := tf.KDF
		k.N, k.R, k.P = c.n, c.r, c.p
		if got := k.valid(); got != c.ok {
			t.Errorf("N=%d r=%d p=%d: valid %v, want %v", c.n, c.r, c.p, got, c.ok)
		}
	}
	// And Open refuses such a file.
	tf.KDF.N, tf.KDF.R = 1<<20, 8
	if err := writeJSON(filepath.Join(fx.dir, tokenName), tf); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(fx.dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with N=2^20, r=8: %v", err)
	}
}

// TestCertificateOfAnotherKey: a key file whose certificate is not its
// public key's is damaged.
func TestCertificateOfAnotherKey(t *testing.T) {
	fx := newFuzzFixture(t, filepath.Join(t.TempDir(), "t"))
	var kf keyFile
	if err := json.Unmarshal(fx.keyRaw, &kf); err != nil {
		t.Fatal(err)
	}
	_, other := selfSigned(t, "Another key")
	kf.Certificate = other.Raw
	if err := writeJSON(fx.keyPath, kf); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.tok.Objects(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Objects: %v", err)
	}
	if _, err := fx.tok.Signer(fx.obj.ID); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Signer: %v", err)
	}
}
