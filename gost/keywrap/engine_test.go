package keywrap

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/gost/gost28147"
	"github.com/kepkit/kep/gost/mode"
	"github.com/kepkit/kep/internal/ossltest"
)

// TestEngineDifferential compares kep with the key-wrap code of OpenSSL's
// gost engine itself: testdata/enginewrap.c (built here with cc, -lcrypto)
// calls the engine's exported keyDiversifyCryptoPro, keyWrapCryptoPro and
// gost_kexp15 on random inputs. The engine has no command line for them.
func TestEngineDifferential(t *testing.T) {
	o := ossltest.New(t)
	engine, err := ossltest.FindEngine()
	if err != nil {
		t.Fatal(err)
	}
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "cc"
	}
	bin := filepath.Join(t.TempDir(), "enginewrap")
	if out, err := exec.Command(cc, "-O1", "-o", bin, "testdata/enginewrap.c", "-lcrypto", "-ldl").CombinedOutput(); err != nil {
		t.Fatalf("building the engine helper (make deps installs gcc and libssl-dev): %v\n%s", err, out)
	}
	r := rand.New(rand.NewPCG(4357, 65))
	boxes := map[string]*gost28147.SBox{"A": gost28147.CryptoProA, "B": gost28147.CryptoProB, "C": gost28147.CryptoProC, "D": gost28147.CryptoProD, "Z": gost28147.TC26Z}
	names := []string{"A", "B", "C", "D", "Z"}
	var req bytes.Buffer
	type want struct {
		desc string
		got  []byte
	}
	var wants []want
	for i := 0; i < 300; i++ {
		h := func(n int) ([]byte, string) { b := rnd(r, n); return b, hex.EncodeToString(b) }
		switch i % 3 {
		case 0, 1:
			name := names[i%5]
			kek, kh := h(32)
			ukm, uh := h(8)
			if i%3 == 0 {
				fmt.Fprintf(&req, "divers %s %s %s\n", name, kh, uh)
				d, _ := DiversifyCryptoPro(boxes[name], kek, ukm)
				wants = append(wants, want{"diversify/" + name, d})
			} else {
				cek, ch := h(32)
				fmt.Fprintf(&req, "cpwrap %s %s %s %s\n", name, kh, uh, ch)
				w, _ := WrapCryptoPro(boxes[name], kek, ukm, cek)
				wants = append(wants, want{"cryptopro-wrap/" + name, w})
			}
		case 2:
			cipher, nb, ivl := "magma", mode.Magma, 4
			if i%2 == 0 {
				cipher, nb, ivl = "kuznyechik", mode.Kuznyechik, 8
			}
			key, k1 := h(32)
			kenc, k2 := h(32)
			kmac, k3 := h(32)
			iv, k4 := h(ivl)
			fmt.Fprintf(&req, "kexp15 %s %s %s %s %s\n", cipher, k1, k2, k3, k4)
			e, _ := KExp15(nb, kenc, kmac, iv, key)
			wants = append(wants, want{"kexp15/" + cipher, e})
		}
	}
	cmd := exec.Command(bin, engine)
	cmd.Env = append(os.Environ(), "OPENSSL_CONF="+o.Conf)
	cmd.Stdin = &req
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("engine helper: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	counts := map[string]int{}
	i := 0
	for ; sc.Scan(); i++ {
		if i >= len(wants) {
			t.Fatal("the helper printed more lines than requests")
		}
		got, err := hex.DecodeString(strings.TrimSpace(sc.Text()))
		if err != nil {
			t.Fatalf("request %d (%s): the helper printed %q", i, wants[i].desc, sc.Text())
		}
		if !bytes.Equal(got, wants[i].got) {
			t.Errorf("request %d %s: kep %x, engine %x", i, wants[i].desc, wants[i].got, got)
		}
		counts[strings.Split(wants[i].desc, "/")[0]]++
	}
	if i != len(wants) {
		t.Fatalf("the helper answered %d of %d requests", i, len(wants))
	}
	t.Logf("%d cases agree with the gost engine's own functions: %v", i, counts)
}
