package cryptopro_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/cpfixture"
	"github.com/kepkit/kep/keyfile/cryptopro"
)

// sample is one line of testdata/cryptopro/samples.txt: a real container
// (the files themselves are kept outside the repository, see SOURCES.md).
type sample struct {
	name, password, curve, pubPrefix string
	exportable                       bool
}

func readSamples(t *testing.T) []sample {
	t.Helper()
	f, err := os.Open("../../testdata/cryptopro/samples.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// name | password (quoted) | curve OID | exportable | public key prefix (hex, X_LE)
		p := strings.Split(line, "|")
		if len(p) != 5 {
			t.Fatalf("samples.txt: bad line %q", line)
		}
		for i := range p {
			p[i] = strings.TrimSpace(p[i])
		}
		out = append(out, sample{name: p[0], password: strings.Trim(p[1], `"`), curve: p[2], exportable: p[3] == "yes", pubPrefix: p[4]})
	}
	return out
}

// samplesDir is where the real containers are: $KEP_CRYPTOPRO_SAMPLES, else
// the shared/ folder beside the repository (where CI's copy of shared/ is).
func samplesDir(t *testing.T) string {
	if d := os.Getenv("KEP_CRYPTOPRO_SAMPLES"); d != "" {
		return d
	}
	d, _ := filepath.Abs("../../../shared/samples/cryptopro")
	if _, err := os.Stat(d); err == nil {
		return d
	}
	t.Skipf("real CryptoPro containers not present: set KEP_CRYPTOPRO_SAMPLES or put them in %s (see testdata/cryptopro/SOURCES.md); the fixture tests still run", d)
	return ""
}

func TestRealContainers(t *testing.T) {
	list := readSamples(t)
	if len(list) == 0 {
		t.Fatal("samples.txt lists no container")
	}
	dir := samplesDir(t)
	for _, s := range list {
		t.Run(s.name, func(t *testing.T) {
			c, err := cryptopro.Open(filepath.Join(dir, s.name))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Params(cryptopro.Primary).Curve.String(); got != s.curve {
				t.Errorf("curve %s, want %s", got, s.curve)
			}
			if got := c.Params(cryptopro.Primary).Exportable(); got != s.exportable {
				t.Errorf("exportable %v, want %v", got, s.exportable)
			}
			key, err := c.PrivateKey(cryptopro.Primary, []byte(s.password))
			if err != nil {
				t.Fatal(err)
			}
			if got := hexs(key.PublicKey().Bytes()); !strings.HasPrefix(got, s.pubPrefix) {
				t.Errorf("public key %s…, want %s…", got[:len(s.pubPrefix)], s.pubPrefix)
			}
			if der := c.Certificate(cryptopro.Primary); der != nil {
				cert, err := certs.ParseCertificate(der)
				if err != nil {
					t.Fatal(err)
				}
				if !key.PublicKey().Equal(cert.PublicKey) {
					t.Error("the key does not match the container's certificate")
				}
			}
			if _, err := c.PrivateKey(cryptopro.Primary, []byte(s.password+"x")); !errors.Is(err, cryptopro.ErrWrongPassword) {
				t.Errorf("wrong password: %v, want ErrWrongPassword", err)
			}
			hb, err := os.ReadFile(filepath.Join(dir, s.name, "header.key"))
			if err != nil {
				t.Fatal(err)
			}
			if again, err := c.Header.Marshal(); err != nil || !bytes.Equal(again, hb) {
				t.Errorf("header.key does not re-encode to itself (%v)", err)
			}
			// The reserve copy (primary2.key, masks2.key) alone gives the same key.
			if _, err := os.Stat(filepath.Join(dir, s.name, "primary2.key")); err == nil && c.Header.Secondary == nil {
				files := readFiles(t, filepath.Join(dir, s.name))
				files["primary.key"] = []byte{0x30, 0x00} // primary.key unreadable…
				if _, err := cryptopro.Parse(files); !errors.Is(err, cryptopro.ErrFormat) {
					t.Fatalf("damaged primary.key: %v", err)
				}
				files = readFiles(t, filepath.Join(dir, s.name))
				files["masks.key"] = flip(files["masks.key"], 6) // …or masks.key damaged: the reserve is used
				c2, err := cryptopro.Parse(files)
				if err != nil {
					t.Fatal(err)
				}
				k2, err := c2.PrivateKey(cryptopro.Primary, []byte(s.password))
				if err != nil || !k2.Equal(key) {
					t.Errorf("reserve copy: %v", err)
				}
			}
		})
	}
}

func readFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 1
	return c
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 2*len(b))
	for i, c := range b {
		s[2*i], s[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(s)
}

func genKey(t *testing.T, name string) *gost3410.PrivateKey {
	t.Helper()
	ps, err := gost3410.ParamSetByName(name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := gost3410.GenerateKey(ps, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestFixtures writes containers with the test-only writer and reads them
// back: every curve CryptoPro uses, empty, ASCII and Cyrillic passwords.
func TestFixtures(t *testing.T) {
	for _, tc := range []struct{ curve, password string }{
		{"cryptopro-a", ""},
		{"cryptopro-b", "12345678"},
		{"cryptopro-c", "qawsqaws"},
		{"cryptopro-xcha", ""},
		{"cryptopro-xchb", "x"},
		{"tc26-256-a", "пароль"},
		{"tc26-512-a", "qawsqaws"},
		{"tc26-512-b", ""},
		{"tc26-512-c", "Пароль-2024"},
	} {
		t.Run(tc.curve+"/"+tc.password, func(t *testing.T) {
			key := genKey(t, tc.curve)
			files, err := cpfixture.Files(key, nil, cpfixture.Options{Password: tc.password, Name: "kep-" + tc.curve})
			if err != nil {
				t.Fatal(err)
			}
			c, err := cryptopro.Parse(files)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != "kep-"+tc.curve || !c.Params(cryptopro.Primary).Exportable() {
				t.Errorf("name %q exportable %v", c.Name, c.Params(cryptopro.Primary).Exportable())
			}
			got, err := c.PrivateKey(cryptopro.Primary, []byte(tc.password))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(key) {
				t.Fatal("decrypted another key")
			}
			for _, wrong := range []string{tc.password + "1", "", "12345678"} {
				if wrong == tc.password {
					continue
				}
				if _, err := c.PrivateKey(cryptopro.Primary, []byte(wrong)); !errors.Is(err, cryptopro.ErrWrongPassword) {
					t.Errorf("password %q: %v, want ErrWrongPassword", wrong, err)
				}
			}
			if _, err := c.PrivateKey(cryptopro.Secondary, nil); !errors.Is(err, cryptopro.ErrNoKey) {
				t.Errorf("secondary key: %v, want ErrNoKey", err)
			}
		})
	}
}

func TestDamage(t *testing.T) {
	key := genKey(t, "cryptopro-a")
	files, err := cpfixture.Files(key, nil, cpfixture.Options{Password: "p", Reserve: true, NonExportable: true})
	if err != nil {
		t.Fatal(err)
	}
	with := func(name string, b []byte) map[string][]byte {
		m := map[string][]byte{}
		for k, v := range files {
			m[k] = v
		}
		if b == nil {
			delete(m, name)
		} else {
			m[name] = b
		}
		return m
	}
	c, err := cryptopro.Parse(files)
	if err != nil {
		t.Fatal(err)
	}
	if c.Params(cryptopro.Primary).Exportable() {
		t.Error("a non-exportable key reads as exportable")
	}
	// masks.key damaged: the reserve copy gives the key.
	c, err = cryptopro.Parse(with("masks.key", flip(files["masks.key"], 10)))
	if err != nil {
		t.Fatal(err)
	}
	if k, err := c.PrivateKey(cryptopro.Primary, []byte("p")); err != nil || !k.Equal(key) {
		t.Errorf("reserve: %v", err)
	}
	// Both copies damaged: ErrDamaged, not a wrong password.
	both := with("masks.key", flip(files["masks.key"], 10))
	both["masks2.key"] = flip(files["masks2.key"], 10)
	if c, err = cryptopro.Parse(both); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PrivateKey(cryptopro.Primary, []byte("p")); !errors.Is(err, cryptopro.ErrDamaged) {
		t.Errorf("both copies damaged: %v, want ErrDamaged", err)
	}
	// primary.key damaged (it has no MAC), no reserve: the fingerprint refuses it.
	noReserve := with("primary2.key", nil)
	delete(noReserve, "masks2.key")
	noReserve["primary.key"] = flip(files["primary.key"], 8)
	if c, err = cryptopro.Parse(noReserve); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PrivateKey(cryptopro.Primary, []byte("p")); !errors.Is(err, cryptopro.ErrWrongPassword) {
		t.Errorf("damaged primary.key: %v, want ErrWrongPassword", err)
	}
	// header.key damaged: its MAC refuses it.
	if _, err := cryptopro.Parse(with("header.key", flip(files["header.key"], len(files["header.key"])-12))); !errors.Is(err, cryptopro.ErrDamaged) && !errors.Is(err, cryptopro.ErrFormat) {
		t.Errorf("damaged header.key: %v", err)
	}
	for _, n := range []string{"header.key", "masks.key", "primary.key"} {
		if _, err := cryptopro.Parse(with(n, nil)); !errors.Is(err, cryptopro.ErrNotContainer) {
			t.Errorf("without %s: %v, want ErrNotContainer", n, err)
		}
	}
	if _, err := cryptopro.Parse(with("masks.key", make([]byte, cryptopro.MaxFileSize+1))); !errors.Is(err, cryptopro.ErrTooLarge) {
		t.Errorf("huge masks.key: %v", err)
	}
}

// TestCertificateCheck: a header without fingerprint is checked against its
// certificate.
func TestCertificateCheck(t *testing.T) {
	key := genKey(t, "cryptopro-a")
	cert := selfSigned(t, key)
	files, err := cpfixture.Files(key, cert, cpfixture.Options{Password: "pin", NoFingerprint: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cryptopro.Parse(files)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := c.PrivateKey(cryptopro.Primary, []byte("pin")); err != nil || !k.Equal(key) {
		t.Fatalf("good password: %v", err)
	}
	if _, err := c.PrivateKey(cryptopro.Primary, []byte("pim")); !errors.Is(err, cryptopro.ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
	if !bytes.Equal(c.Certificate(cryptopro.Primary), cert) {
		t.Error("certificate not kept")
	}
	// Neither fingerprint nor certificate: refused, never returned unchecked.
	files, _ = cpfixture.Files(key, nil, cpfixture.Options{NoFingerprint: true})
	c, _ = cryptopro.Parse(files)
	if _, err := c.PrivateKey(cryptopro.Primary, nil); !errors.Is(err, cryptopro.ErrFormat) {
		t.Errorf("no check possible: %v", err)
	}
}

func TestZip(t *testing.T) {
	key := genKey(t, "cryptopro-b")
	files, err := cpfixture.Files(key, nil, cpfixture.Options{Password: "z", Name: "zipped"})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(dirs ...string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, d := range dirs {
			for n, b := range files {
				w, _ := zw.Create(strings.TrimPrefix(d+"/"+n, "/"))
				w.Write(b)
			}
		}
		zw.Close()
		return buf.Bytes()
	}
	for _, d := range []string{"", "abcdefgh.000", "Keys/abcdefgh.000"} {
		c, err := cryptopro.ReadZip(mk(d))
		if err != nil {
			t.Fatalf("%q: %v", d, err)
		}
		if k, err := c.PrivateKey(cryptopro.Primary, []byte("z")); err != nil || !k.Equal(key) || c.Name != "zipped" {
			t.Errorf("%q: %v", d, err)
		}
	}
	if _, err := cryptopro.ReadZip(mk("a.000", "b.000")); !errors.Is(err, cryptopro.ErrNotContainer) {
		t.Errorf("two containers: %v", err)
	}
	if _, err := cryptopro.ReadZip([]byte("not a zip")); !errors.Is(err, cryptopro.ErrNotContainer) {
		t.Errorf("not a zip: %v", err)
	}
	p := filepath.Join(t.TempDir(), "c.zip")
	os.WriteFile(p, mk("x.000"), 0o600)
	if c, err := cryptopro.Open(p); err != nil || c.Source != p {
		t.Errorf("Open zip: %v", err)
	}
	d := filepath.Join(t.TempDir(), "y.000")
	if err := cpfixture.Write(d, key, nil, cpfixture.Options{Password: "z"}); err != nil {
		t.Fatal(err)
	}
	before := readFiles(t, d)
	if c, err := cryptopro.Open(d); err != nil {
		t.Fatal(err)
	} else if _, err := c.PrivateKey(cryptopro.Primary, []byte("z")); err != nil {
		t.Fatal(err)
	}
	after := readFiles(t, d)
	for n := range before {
		if !bytes.Equal(before[n], after[n]) {
			t.Errorf("%s changed by reading", n)
		}
	}
	// Upper-case names, as a FAT flash drive may show them.
	up := filepath.Join(t.TempDir(), "UPPER.000")
	os.MkdirAll(up, 0o700)
	for n, b := range before {
		os.WriteFile(filepath.Join(up, strings.ToUpper(n)), b, 0o600)
	}
	if c, err := cryptopro.Open(up); err != nil {
		t.Fatalf("upper-case names: %v", err)
	} else if k, err := c.PrivateKey(cryptopro.Primary, []byte("z")); err != nil || !k.Equal(key) {
		t.Errorf("upper-case names: %v", err)
	}
	if got := cryptopro.Find(filepath.Dir(up)); len(got) != 1 || got[0] != up {
		t.Errorf("Find upper-case: %v", got)
	}
}

func selfSigned(t *testing.T, key *gost3410.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "kep container test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := certs.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestSecondAnd2001: a container with a second key (primary2.key described
// by the header) gives both keys; a key recorded as GOST R 34.10-2001 is
// decrypted with the 2001 KDF and S-box (only the fixture writer exercises
// this path: no real 2001 container was found).
func TestSecondAnd2001(t *testing.T) {
	k1, k2 := genKey(t, "cryptopro-a"), genKey(t, "tc26-512-c")
	files, err := cpfixture.Files(k1, nil, cpfixture.Options{Password: "two", Second: k2})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cryptopro.Parse(files)
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasKey(cryptopro.Secondary) {
		t.Fatal("no second key")
	}
	for i, want := range []*gost3410.PrivateKey{k1, k2} {
		got, err := c.PrivateKey(cryptopro.KeyIndex(i), []byte("two"))
		if err != nil || !got.Equal(want) {
			t.Errorf("key %d: %v", i, err)
		}
		if _, err := c.PrivateKey(cryptopro.KeyIndex(i), []byte("one")); !errors.Is(err, cryptopro.ErrWrongPassword) {
			t.Errorf("key %d, wrong password: %v", i, err)
		}
	}
	if _, err := c.PrivateKey(cryptopro.KeyIndex(2), nil); !errors.Is(err, cryptopro.ErrNoKey) {
		t.Errorf("key 2: %v", err)
	}

	old := genKey(t, "cryptopro-b")
	files, err = cpfixture.Files(old, nil, cpfixture.Options{Password: "2001", GOST2001: true})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = cryptopro.Parse(files); err != nil {
		t.Fatal(err)
	}
	if !c.Is2001(cryptopro.Primary) {
		t.Error("not seen as a 2001 key")
	}
	if got, err := c.PrivateKey(cryptopro.Primary, []byte("2001")); err != nil || !got.Equal(old) {
		t.Errorf("2001 key: %v", err)
	}
	if _, err := c.PrivateKey(cryptopro.Primary, []byte("2012")); !errors.Is(err, cryptopro.ErrWrongPassword) {
		t.Errorf("2001 key, wrong password: %v", err)
	}
	// The 2001 and 2012 derivations differ: the same files read as a 2012 key fail.
	c.Header.Primary.Algorithm = cryptopro.OIDAgreement256
	if _, err := c.PrivateKey(cryptopro.Primary, []byte("2001")); !errors.Is(err, cryptopro.ErrWrongPassword) {
		t.Errorf("2001 files read as 2012: %v", err)
	}
}
