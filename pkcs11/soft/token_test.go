package soft

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/streebog"
	"github.com/kepkit/kep/pkcs11"
)

var testPIN = []byte("123456")

// newToken makes a token in a temporary directory and returns it logged in.
func newToken(t *testing.T) (string, *Token) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "token")
	if err := Init(dir, testPIN, "test token"); err != nil {
		t.Fatal(err)
	}
	tok, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tok.Close() })
	if err := tok.Login(testPIN); err != nil {
		t.Fatal(err)
	}
	return dir, tok
}

func mustInfo(t *testing.T, tok *Token) Info {
	t.Helper()
	info, err := tok.Info()
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestInitOpenLogin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tok")
	if err := Init(dir, []byte("12"), "x"); !errors.Is(err, pkcs11.ErrPINLenRange) {
		t.Fatalf("short PIN: %v", err)
	}
	if err := Init(dir, testPIN, ""); err == nil {
		t.Fatal("empty label accepted")
	}
	if err := Init(dir, testPIN, "label"); err != nil {
		t.Fatal(err)
	}
	if err := Init(dir, testPIN, "label"); !errors.Is(err, ErrExists) {
		t.Fatalf("second Init: %v", err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("directory mode: %v %v", fi.Mode(), err)
	}
	tok, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	info := mustInfo(t, tok)
	if info.Label != "label" || len(info.Serial) != 16 || info.LoggedIn || info.PINCountLow {
		t.Fatalf("info %+v", info)
	}
	if err := tok.Login([]byte("000")); !errors.Is(err, pkcs11.ErrPINLenRange) {
		t.Fatalf("short PIN: %v", err)
	}
	if info := mustInfo(t, tok); info.Failures != 0 {
		t.Fatalf("a PIN refused for its length was counted: %+v", info)
	}
	if err := tok.Login([]byte("654321")); !errors.Is(err, pkcs11.ErrPINIncorrect) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if info := mustInfo(t, tok); info.Failures != 1 || !info.PINCountLow || info.PINFinalTry || info.LoggedIn {
		t.Fatalf("after a wrong PIN: %+v", info)
	}
	if err := tok.Login(testPIN); err != nil {
		t.Fatal(err)
	}
	if info := mustInfo(t, tok); info.Failures != 0 || info.PINCountLow || !info.LoggedIn {
		t.Fatalf("after the right PIN: %+v", info)
	}
	tok.Logout()
	if tok.LoggedIn() {
		t.Fatal("logged in after Logout")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none")); !errors.Is(err, pkcs11.ErrTokenNotPresent) {
		t.Fatalf("Open of an empty place: %v", err)
	}
	tok.Close()
	if _, err := tok.Info(); !errors.Is(err, pkcs11.ErrClosed) {
		t.Fatalf("Info after Close: %v", err)
	}
}

func TestPINLockPersists(t *testing.T) {
	dir, tok := newToken(t)
	tok.Logout()
	wrong := []byte("999999")
	for i := 1; i < MaxPINTries; i++ {
		if err := tok.Login(wrong); !errors.Is(err, pkcs11.ErrPINIncorrect) {
			t.Fatalf("try %d: %v", i, err)
		}
	}
	// Another process (another Open) sees the same count.
	tok2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tok2.Close()
	if info := mustInfo(t, tok2); !info.PINFinalTry || info.PINLocked || info.Failures != MaxPINTries-1 {
		t.Fatalf("before the last try: %+v", info)
	}
	if err := tok2.Login(wrong); !errors.Is(err, pkcs11.ErrPINIncorrect) {
		t.Fatalf("last try: %v", err)
	}
	for _, tk := range []*Token{tok, tok2} {
		if err := tk.Login(testPIN); !errors.Is(err, pkcs11.ErrPINLocked) {
			t.Fatalf("right PIN on a locked token: %v", err)
		}
	}
	tok3, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tok3.Close()
	if info := mustInfo(t, tok3); !info.PINLocked || info.LoggedIn {
		t.Fatalf("locked token after Open: %+v", info)
	}
	if n, _ := readFailures(dir); n != MaxPINTries {
		t.Fatalf("a locked login was counted: %d", n)
	}
}

// TestCountBeforeCheck: when the try cannot be recorded, the PIN is not
// checked, so a crash or a full disk cannot give free tries.
func TestCountBeforeCheck(t *testing.T) {
	dir, tok := newToken(t)
	tok.Logout()
	pin := filepath.Join(dir, pinName)
	if err := os.Remove(pin); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(pin, "x"), 0o700); err != nil { // rename over it fails
		t.Fatal(err)
	}
	if err := tok.Login(testPIN); err == nil || tok.LoggedIn() {
		t.Fatalf("logged in without recording the try: %v", err)
	}
}

func verify(t *testing.T, pub crypto.PublicKey, digest, sig []byte) {
	t.Helper()
	var ok bool
	switch p := pub.(type) {
	case *gost3410.PublicKey:
		ok = gost3410.Verify(p, digest, sig)
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(p, crypto.SHA256, digest, sig) == nil
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(p, digest, sig)
	}
	if !ok {
		t.Fatalf("%T signature does not verify", pub)
	}
}

// digestFor returns a digest of msg and the opts to sign it with.
func digestFor(pub crypto.PublicKey, msg []byte) ([]byte, crypto.SignerOpts) {
	if p, ok := pub.(*gost3410.PublicKey); ok {
		h := streebog.New256()
		if p.Params().BitSize() == 512 {
			h = streebog.New512()
		}
		h.Write(msg)
		return h.Sum(nil), crypto.Hash(0)
	}
	d := sha256.Sum256(msg)
	return d[:], crypto.SHA256
}

func TestGenerateSign(t *testing.T) {
	dir, tok := newToken(t)
	cases := []pkcs11.KeyOptions{
		{Type: pkcs11.KeyGOST, Label: "gost256"},
		{Type: pkcs11.KeyGOST, ParamSet: gost3410.TC26512A, Label: "gost512", ID: []byte{0x51, 0x2}},
		{Type: pkcs11.KeyRSA},
		{Type: pkcs11.KeyECDSA, Curve: elliptic.P384()},
	}
	var ids [][]byte
	for _, opts := range cases {
		obj, err := tok.GenerateKey(opts)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, obj.ID)
		key, err := tok.Signer(obj.ID)
		if err != nil {
			t.Fatal(err)
		}
		d, o := digestFor(key.Public(), []byte("message"))
		sig, err := key.Sign(nil, d, o)
		if err != nil {
			t.Fatal(err)
		}
		verify(t, obj.Public, d, sig)
	}
	if _, err := tok.GenerateKey(cases[1]); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate ID: %v", err)
	}
	if _, err := tok.GenerateKey(pkcs11.KeyOptions{Type: pkcs11.KeyRSA, RSABits: 1024}); !errors.Is(err, pkcs11.ErrUnsupportedKey) {
		t.Fatalf("RSA-1024: %v", err)
	}
	if _, err := tok.GenerateKey(pkcs11.KeyOptions{Type: pkcs11.KeyECDSA, Curve: elliptic.P224()}); !errors.Is(err, pkcs11.ErrUnsupportedKey) {
		t.Fatalf("ECDSA P-224: %v", err)
	}

	tok2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tok2.Close()
	objs, err := tok2.Objects()
	if err != nil || len(objs) != len(cases) {
		t.Fatalf("Objects: %d, %v", len(objs), err)
	}
	labels := map[string]bool{}
	for _, o := range objs {
		labels[o.Label] = true
	}
	if !labels["gost256"] || !labels["gost512"] {
		t.Fatalf("labels %v", labels)
	}
	if _, err := tok2.Signer(ids[0]); !errors.Is(err, pkcs11.ErrNotLoggedIn) {
		t.Fatalf("Signer before Login: %v", err)
	}
	if _, err := tok2.GenerateKey(cases[0]); !errors.Is(err, pkcs11.ErrNotLoggedIn) {
		t.Fatalf("GenerateKey before Login: %v", err)
	}
	if err := tok2.Login(testPIN); err != nil {
		t.Fatal(err)
	}
	if _, err := tok2.Signer([]byte{1, 2, 3}); !errors.Is(err, pkcs11.ErrKeyNotFound) {
		t.Fatalf("unknown ID: %v", err)
	}
	key, err := tok2.Signer([]byte{0x51, 0x2})
	if err != nil {
		t.Fatal(err)
	}
	tok2.Logout()
	d, _ := digestFor(key.Public(), nil)
	if _, err := key.Sign(nil, d, crypto.Hash(0)); !errors.Is(err, pkcs11.ErrNotLoggedIn) {
		t.Fatalf("Sign after Logout: %v", err)
	}
}

func TestConcurrentSigners(t *testing.T) {
	dir, tok := newToken(t)
	obj, err := tok.GenerateKey(pkcs11.KeyOptions{Type: pkcs11.KeyGOST})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() { // a process of its own: another Token, logging in and signing
			defer wg.Done()
			tk, err := Open(dir)
			if err != nil {
				errs <- err
				return
			}
			defer tk.Close()
			if err := tk.Login(testPIN); err != nil {
				errs <- err
				return
			}
			key, err := tk.Signer(obj.ID)
			if err != nil {
				errs <- err
				return
			}
			for i := 0; i < 10; i++ {
				d, _ := digestFor(key.Public(), []byte{byte(g), byte(i)})
				sig, err := key.Sign(nil, d, crypto.Hash(0))
				if err != nil {
					errs <- err
					return
				}
				if !gost3410.Verify(obj.Public.(*gost3410.PublicKey), d, sig) {
					errs <- errors.New("bad signature")
					return
				}
			}
		}()
		wg.Add(1)
		go func() { // and writers beside them
			defer wg.Done()
			if _, err := tok.GenerateKey(pkcs11.KeyOptions{Type: pkcs11.KeyECDSA}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if objs, err := tok.Objects(); err != nil || len(objs) != 5 {
		t.Fatalf("Objects: %d %v", len(objs), err)
	}
	if info := mustInfo(t, tok); info.Failures != 0 {
		t.Fatalf("failures %d", info.Failures)
	}
}

func TestRemoved(t *testing.T) {
	dir, tok := newToken(t)
	obj, err := tok.GenerateKey(pkcs11.KeyOptions{Type: pkcs11.KeyGOST})
	if err != nil {
		t.Fatal(err)
	}
	key, err := tok.Signer(obj.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	d, _ := digestFor(key.Public(), nil)
	if _, err := key.Sign(nil, d, crypto.Hash(0)); !errors.Is(err, pkcs11.ErrTokenRemoved) {
		t.Fatalf("Sign on a removed token: %v", err)
	}
	if _, err := tok.Objects(); !errors.Is(err, pkcs11.ErrTokenRemoved) {
		t.Fatalf("Objects on a removed token: %v", err)
	}
	// A new token in the same place is another token.
	if err := Init(dir, testPIN, "other"); err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Info(); !errors.Is(err, pkcs11.ErrTokenRemoved) {
		t.Fatalf("Info on a replaced token: %v", err)
	}
	if tok.LoggedIn() {
		t.Fatal("still logged in after removal")
	}
}

func TestCorruptFiles(t *testing.T) {
	type damage func(t *testing.T, dir string, id []byte)
	editJSON := func(name string, edit func(m map[string]any)) damage {
		return func(t *testing.T, dir string, id []byte) {
			if name == "" {
				name = filepath.Join(keysDir, hex.EncodeToString(id)+".json")
			}
			p := filepath.Join(dir, name)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			edit(m)
			data, _ = json.Marshal(m)
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	write := func(name, content string) damage {
		return func(t *testing.T, dir string, id []byte) {
			if name == "" {
				name = filepath.Join(keysDir, hex.EncodeToString(id)+".json")
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	flip := func(field string) func(m map[string]any) {
		return func(m map[string]any) {
			b, _ := base64.StdEncoding.DecodeString(m[field].(string))
			b[len(b)/2] ^= 1
			m[field] = b
		}
	}
	otherSPKI := func(m map[string]any) {
		k, _ := gost3410.GenerateKey(gost3410.CryptoProA, nil)
		spki, _, _ := marshalKey(k)
		m["publicKey"] = spki
	}
	cases := []struct {
		name  string
		harm  damage
		where string // the operation that must fail: open, login, objects, signer
	}{
		{"token not JSON", write(tokenName, "{"), "open"},
		{"token empty", write(tokenName, ""), "open"},
		{"token huge scrypt N", editJSON(tokenName, func(m map[string]any) { m["kdf"].(map[string]any)["N"] = 1 << 30 }), "open"},
		{"token wrong format", editJSON(tokenName, func(m map[string]any) { m["format"] = "v9" }), "open"},
		{"token short master key", editJSON(tokenName, func(m map[string]any) { m["masterKey"] = "AAAA" }), "open"},
		{"pin not JSON", write(pinName, "[]"), "login"},
		{"pin negative", write(pinName, `{"failures":-5}`), "login"},
		{"key not JSON", write("", "\x00\x01"), "objects"},
		{"key bad public key", editJSON("", func(m map[string]any) { m["publicKey"] = "AAAA" }), "objects"},
		{"key bad certificate", editJSON("", func(m map[string]any) { m["certificate"] = "MAA=" }), "objects"},
		{"key ID not its name", editJSON("", func(m map[string]any) { m["id"] = "AQI=" }), "objects"},
		{"key private flipped", editJSON("", flip("privateKey")), "signer"},
		{"key private truncated", editJSON("", func(m map[string]any) { m["privateKey"] = "AAAA" }), "signer"},
		{"key public swapped", editJSON("", otherSPKI), "signer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir, tok := newToken(t)
			obj, err := tok.GenerateKey(pkcs11.KeyOptions{Type: pkcs11.KeyGOST})
			if err != nil {
				t.Fatal(err)
			}
			tc.harm(t, dir, obj.ID)
			tk, err := Open(dir)
			if tc.where == "open" {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Open: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tk.Close()
			err = tk.Login(testPIN)
			if tc.where == "login" {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Login: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = tk.Objects()
			if tc.where == "objects" {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Objects: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tk.Signer(obj.ID); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Signer: %v", err)
			}
		})
	}
}
