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
// calls the engine's exported keyDiversifyCryptoPro, keyWrapCryptoPro,
// gost_kexp15 and gost_kimp15 (which must also refuse damaged exports), and
// builds the plain RFC 4357 6.1 wrap from its gost_enc and gost_mac_iv, on
// random inputs. The engine has no command line for them.
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
		switch i % 5 {
		case 3: // the plain RFC 4357 6.1 wrap
			name := names[i%5]
			kek, kh := h(32)
			ukm, uh := h(8)
			cek, ch := h(32)
			fmt.Fprintf(&req, "wrap28147 %s %s %s %s\n", name, kh, uh, ch)
			w, _ := Wrap28147(boxes[name], kek, ukm, cek)
			wants = append(wants, want{"wrap28147/" + name, w})
		case 4: // KImp15 of kep's export by the engine
			cipher, nb, ivl := "magma", mode.Magma, 4
			if (i/10)%2 == 0 {
				cipher, nb, ivl = "kuznyechik", mode.Kuznyechik, 8
			}
			key, kenc, kmac, iv := rnd(r, 32), rnd(r, 32), rnd(r, 32), rnd(r, ivl)
			e, _ := KExp15(nb, kenc, kmac, iv, key)
			if i%10 == 9 {
				e[0] ^= 1 // a damaged export: the engine must refuse it too
				fmt.Fprintf(&req, "kimp15 %s %x %x %x %x\n", cipher, e, kenc, kmac, iv)
				wants = append(wants, want{"kimp15-refused/" + cipher, nil})
				break
			}
			fmt.Fprintf(&req, "kimp15 %s %x %x %x %x\n", cipher, e, kenc, kmac, iv)
			wants = append(wants, want{"kimp15/" + cipher, key})
		case 0, 1:
			name := names[i%5]
			kek, kh := h(32)
			ukm, uh := h(8)
			if i%5 == 0 {
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
		line := strings.TrimSpace(sc.Text())
		if wants[i].got == nil {
			if line != "fail" {
				t.Errorf("request %d %s: the engine accepted a damaged export (%s)", i, wants[i].desc, line)
			}
			counts[strings.Split(wants[i].desc, "/")[0]]++
			continue
		}
		got, err := hex.DecodeString(line)
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
