package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/sign"
)

const sampleList = "../../testdata/trustlist/"

// TestTrustCLI: kep trust update from a file and from a URL, kep trust list,
// and kep verify using the stored list: qualified under the accredited CA,
// refused with --qualified under the terminated one.
func TestTrustCLI(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	data, err := os.ReadFile(sampleList + "tsl.xml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	defer srv.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>")) }))
	defer bad.Close()

	if out, stderr, code := execute(t, nil, "trust", "update", "--from", srv.URL); code != 0 || !strings.Contains(out, "version 4242") || !strings.Contains(out, "4 CAs, 2 accredited now") {
		t.Fatalf("update from URL: %d %s %s", code, out, stderr)
	}
	stored := filepath.Join(dir, "config", "kep", "trust", "tsl.xml")
	if _, _, code := execute(t, nil, "trust", "update", "--from", bad.URL); code != exitFail {
		t.Errorf("update from a bad URL: exit %d", code)
	}
	if now, _ := os.ReadFile(stored); !bytes.Equal(now, data) {
		t.Error("a failed update replaced the stored list")
	}
	if _, _, code := execute(t, nil, "trust", "update", "--from", sampleList+"tsl.xml"); code != 0 {
		t.Error("update from a file failed")
	}
	out, _, code := execute(t, nil, "trust", "list", "--json")
	var listed struct {
		Version int64
		CAs     []struct{ Name string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil || listed.Version != 4242 || len(listed.CAs) != 4 {
		t.Fatalf("list: %d %s", code, out)
	}

	doc := filepath.Join(dir, "doc.txt")
	os.WriteFile(doc, []byte("qualified?"), 0o644)
	signUnder := func(ca string) string {
		t.Helper()
		caCert, _ := certs.ParseCertificates(mustReadFile(t, sampleList+ca+".pem"))
		caKey, _ := certs.ParsePrivateKey(mustReadFile(t, sampleList+ca+".key"))
		key, _ := gost3410.GenerateKey(gost3410.TC26256A, rand.Reader)
		now := time.Now()
		der, err := certs.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "signer"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}, caCert[0].Certificate, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := certs.ParseCertificate(der)
		sig, err := sign.Sign(context.Background(), bytes.NewReader(mustReadFile(t, doc)), key, leaf, sign.Options{})
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, ca+".sig")
		os.WriteFile(file, sig, 0o644)
		return file
	}
	active, terminated := signUnder("active"), signUnder("terminated")
	base := []string{"verify", "--revocation", "off", "--content", doc}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--qualified", active}, exitOK},
		{[]string{terminated}, exitOK},
		{[]string{"--qualified", terminated}, exitFail},
		{[]string{"--trust-list", "none", "--qualified", active}, exitUsage},
		{[]string{"--trust-list", "none", active}, exitIndeterminate},
	} {
		out, _, code := execute(t, nil, append(base, tc.args...)...)
		if code != tc.want {
			t.Errorf("verify %v: exit %d, want %d\n%s", tc.args, code, tc.want, out)
		}
	}
	out, _, _ = execute(t, nil, append(base, "--json", terminated)...)
	if !strings.Contains(out, `"ISSUER_ACCREDITED"`) || !strings.Contains(out, "Прекращена") {
		t.Errorf("the report does not show the accreditation:\n%s", out)
	}
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
