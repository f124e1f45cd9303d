package main

import (
	"bytes"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/pkcs11/soft"
)

// soPath is the module, built by TestMain with -buildmode=c-shared.
var soPath string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "kep-pkcs11-module-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		soPath = filepath.Join(dir, "kep-pkcs11.so")
		out, err := exec.Command("go", "build", "-buildmode=c-shared", "-o", soPath, ".").CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "building the module: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

const testPIN = "123456"

// fixture is a soft token with GOST-256 and GOST-512 keys and certificates
// from a test PKI.
type fixture struct {
	dir    string
	pki    *testpki.PKI
	leaves []*testpki.Identity // CryptoPro-A, tc26-512-A
	objs   []*soft.Object
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: filepath.Join(t.TempDir(), "token"), pki: testpki.New(t)}
	if err := soft.Init(f.dir, []byte(testPIN), "kep test"); err != nil {
		t.Fatal(err)
	}
	tok, err := soft.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	if err := tok.Login([]byte(testPIN)); err != nil {
		t.Fatal(err)
	}
	for _, k := range []testpki.Key{testpki.CryptoProA, testpki.TC26512A} {
		id := f.pki.Leaf(t, k, "Signer "+k.Name)
		key, _ := os.ReadFile(id.KeyFile)
		cert, _ := os.ReadFile(id.CertFile)
		obj, err := tok.ImportPEM(key, cert, "")
		if err != nil {
			t.Fatal(err)
		}
		f.leaves = append(f.leaves, id)
		f.objs = append(f.objs, obj)
	}
	return f
}

// tool runs pkcs11-tool on the module with the fixture's token.
func (f *fixture) tool(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("pkcs11-tool", append([]string{"--module", soPath}, args...)...)
	cmd.Env = append(os.Environ(), "KEP_SOFT_DIR="+f.dir)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (f *fixture) mustTool(t *testing.T, args ...string) string {
	t.Helper()
	out, err := f.tool(t, args...)
	if err != nil {
		t.Fatalf("pkcs11-tool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func TestPkcs11ToolLists(t *testing.T) {
	f := newFixture(t)
	mechs := f.mustTool(t, "-M")
	for _, m := range []string{"GOSTR3410-KEY-PAIR-GEN", "GOSTR3410-512-KEY-PAIR-GEN", "GOSTR3410,", "GOSTR3410_512,",
		"GOSTR3410-WITH-GOSTR3411-12-256", "GOSTR3410-WITH-GOSTR3411-12-512", "RSA-PKCS,", "ECDSA,"} {
		if !strings.Contains(mechs, m) {
			t.Errorf("-M lacks %s:\n%s", m, mechs)
		}
	}
	tok, err := soft.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	info, _ := tok.Info()
	list := f.mustTool(t, "-L")
	for _, s := range []string{"token label        : kep test", "serial num         : " + info.Serial,
		"login required", "token initialized", "PIN initialized", "pin min/max        : 4/256"} {
		if !strings.Contains(list, s) {
			t.Errorf("-L lacks %q:\n%s", s, list)
		}
	}
	objs := f.mustTool(t, "-O")
	if strings.Contains(objs, "Private Key Object") || !strings.Contains(objs, "Certificate Object") {
		t.Errorf("-O without login:\n%s", objs)
	}
	objs = f.mustTool(t, "-O", "--login", "--pin", testPIN)
	for _, s := range []string{"Private Key Object; GOSTR3410-2012-256", "Private Key Object; GOSTR3410-2012-512", "Signer cryptopro-a"} {
		if !strings.Contains(objs, s) {
			t.Errorf("-O --login lacks %q:\n%s", s, objs)
		}
	}

	// A wrong PIN is counted and shows in the token flags.
	if out, err := f.tool(t, "-O", "--login", "--pin", "000000"); err == nil || !strings.Contains(out, "CKR_PIN_INCORRECT") {
		t.Fatalf("wrong PIN: %v\n%s", err, out)
	}
	if list := f.mustTool(t, "-L"); !strings.Contains(list, "user PIN count low") {
		t.Errorf("-L after a wrong PIN:\n%s", list)
	}
}

func TestPkcs11ToolSignGOST(t *testing.T) {
	f := newFixture(t)
	o := f.pki.O
	msg := o.WriteFile(t, "msg.txt", []byte("Договор № 1\n"))
	for i, id := range f.leaves {
		obj := f.objs[i]
		bits := obj.Public.(*gost3410.PublicKey).Params().BitSize()
		md := fmt.Sprintf("-md_gost12_%d", bits)
		digest := o.Path(fmt.Sprintf("digest%d", bits))
		o.MustRun(t, nil, "dgst", md, "-binary", "-out", digest, msg)
		// The public key as the token shows it, exported to PEM for openssl.
		spki, err := gostkey.MarshalPKIXPublicKey(obj.Public.(*gost3410.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		pub := o.WriteFile(t, fmt.Sprintf("pub%d.pem", bits), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}))
		raw, withHash := "GOSTR3410", "GOSTR3410-WITH-GOSTR3411-12-256"
		if bits == 512 {
			raw, withHash = "GOSTR3410_512", "GOSTR3410-WITH-GOSTR3411-12-512"
		}
		for _, c := range []struct{ mech, in string }{{raw, digest}, {withHash, msg}} {
			sig := o.Path(fmt.Sprintf("sig-%s", c.mech))
			f.mustTool(t, "--login", "--pin", testPIN, "--sign", "--mechanism", c.mech,
				"--id", hex.EncodeToString(obj.ID), "-i", c.in, "-o", sig)
			if b, _ := os.ReadFile(sig); len(b) != bits/4 {
				t.Fatalf("%s: signature of %d bytes", c.mech, len(b))
			}
			for _, key := range [][]string{{"-pubin", "-inkey", pub}, {"-certin", "-inkey", id.CertFile}} {
				args := append([]string{"pkeyutl", "-verify", "-in", digest, "-sigfile", sig}, key...)
				if out := o.MustRun(t, nil, args...); !bytes.Contains(out, []byte("Signature Verified Successfully")) {
					t.Fatalf("%s: %s", c.mech, out)
				}
			}
			// A changed digest does not verify.
			bad := o.WriteFile(t, "bad", bytes.Repeat([]byte{7}, bits/8))
			if _, err := o.Run(nil, "pkeyutl", "-verify", "-in", bad, "-sigfile", sig, "-pubin", "-inkey", pub); err == nil {
				t.Fatalf("%s: a signature verifies another digest", c.mech)
			}
		}
		// A key-type mismatch is refused.
		if out, err := f.tool(t, "--login", "--pin", testPIN, "--sign", "--mechanism", "ECDSA",
			"--id", hex.EncodeToString(obj.ID), "-i", digest, "-o", o.Path("x")); err == nil {
			t.Fatalf("ECDSA with a GOST key: %s", out)
		}
	}
}
