package pfx

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kepkit/kep/gost/gost3410"
)

// FuzzDecode: no input panics; whatever decodes re-encodes, in both forms
// Encode writes, and decodes again to the same key and certificates. Seeds:
// Encode's two forms, RFC 9548's example files, a CryptoPro-shaped file
// from the test-only writer of cryptopro_test.go, an OpenSSL file in
// CryptoPro's outer shape (HMAC-SHA-1 MAC, 3DES certificate safe:
// testdata/openssl-sha1-3des.pfx, made by testdata/generate.sh) and, when
// present, the real CryptoPro CSP file pycades-test.pfx (not in the
// repository; see testdata/cryptopro-samples.txt).
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"cryptopro-a", "tc26-512-b"} {
		ps, _ := gost3410.ParamSetByName(name)
		key, err := gost3410.NewPrivateKey(ps, bytes.Repeat([]byte{3}, ps.Size()))
		if err != nil {
			f.Fatal(err)
		}
		for _, format := range []Format{FormatOpenSSL, FormatRFC9548} {
			data, err := Encode(key, nil, []byte("p"), Options{Format: format, Iterations: 1})
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data, []byte("p"))
		}
	}
	vectors, err := os.ReadFile("testdata/rfc9548.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^pfx:\n((?:   .*\n)+)`).FindAllSubmatch(vectors, -1) {
		data, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(m[1])), ""))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, []byte("Пароль для PFX"))
	}
	ps, _ := gost3410.ParamSetByName("tc26-256-a")
	key, _ := gost3410.NewPrivateKey(ps, seq(33)[1:])
	f.Add(cryptoProPFX(f, key, vectorCert(f), []byte("p"), false, cpReal), []byte("p"))
	seed, err := os.ReadFile("testdata/openssl-sha1-3des.pfx")
	if err != nil {
		f.Fatal(err)
	}
	if _, err := Decode(seed, []byte("p")); err != nil {
		f.Fatalf("the OpenSSL seed: %v", err)
	}
	f.Add(seed, []byte("p"))
	if dir := pfxSamplesDir(); dir != "" {
		if real, err := os.ReadFile(filepath.Join(dir, "pycades-test.pfx")); err == nil {
			f.Add(real, []byte{})
		}
	}
	f.Fuzz(func(t *testing.T, data, password []byte) {
		file, err := Decode(data, password)
		if err != nil {
			return
		}
		var ders [][]byte
		for _, c := range file.Certificates {
			ders = append(ders, c.Raw)
		}
		for _, format := range []Format{FormatOpenSSL, FormatRFC9548} {
			again, err := Encode(file.Key, ders, password, Options{Format: format, Iterations: 1, FriendlyName: file.FriendlyName})
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(again, password)
			if err != nil || !back.Key.Equal(file.Key) || len(back.Certificates) != len(file.Certificates) || back.FriendlyName != file.FriendlyName {
				t.Fatalf("%s round trip: %v", format, err)
			}
		}
	})
}

// vectorCert is RFC 9548's test certificate.
func vectorCert(tb testing.TB) []byte {
	vectors, err := os.ReadFile("testdata/rfc9548.txt")
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^certificate:\n((?:   .*\n)+)`).FindSubmatch(vectors)
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(m[1])), ""))
	if err != nil {
		tb.Fatal(err)
	}
	return der
}
