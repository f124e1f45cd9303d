package certs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadCertificateFiles: every certificate of every file, in order; an
// unreadable or unparsable file is an error that names it.
func TestReadCertificateFiles(t *testing.T) {
	root, leaf := "../testdata/pki/root.pem", "../testdata/pki/inter.pem"
	got, err := ReadCertificateFiles([]string{root, leaf})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, p := range []string{root, leaf} {
		data, _ := os.ReadFile(p)
		cs, err := ParseCertificates(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if want >= len(got) || got[want].Thumbprint() != c.Thumbprint() {
				t.Fatalf("certificate %d of %s not in place %d", want, p, want)
			}
			want++
		}
	}
	if len(got) != want {
		t.Fatalf("%d certificates, want %d", len(got), want)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	for _, p := range []string{bad, bad + ".missing"} {
		if _, err := ReadCertificateFiles([]string{root, p}); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want an error naming the file", p, err)
		}
	}
}
