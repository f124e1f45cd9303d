package serve_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientExamples runs the README's curl, Python and PHP clients against a
// real instance, and checks that the README shows them as they are here.
// python3 and php come from make deps (DEBS); a missing one fails the test.
func TestClientExamples(t *testing.T) {
	f := getFixture(t)
	in := f.start(t, f.baseConfig(), nil)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"verify.sh", "kep_client.py", "kep_client.php"} {
		b, err := os.ReadFile(filepath.Join("examples", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(readme, b) {
			t.Errorf("README.md does not show serve/examples/%s as it is", name)
		}
	}
	env := append(os.Environ(), "KEP_URL="+in.url, "KEP_API_KEY="+apiKey)
	run := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("sh", "examples/verify.sh", f.sig, f.doc)
	var rep struct{ Indication string }
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep.Indication != "TOTAL_PASSED" {
		t.Fatalf("verify.sh: %v\n%s", err, out)
	}
	out, err = run("python3", "examples/kep_client.py", "verify", f.sig, f.doc)
	if err != nil || !strings.HasPrefix(out, "TOTAL_PASSED Иванов ") {
		t.Fatalf("kep_client.py verify: %v\n%s", err, out)
	}
	out, err = run("php", "examples/kep_client.php", "verify", f.sig, f.doc)
	if err != nil || !strings.HasPrefix(out, "TOTAL_PASSED Иванов ") {
		t.Fatalf("kep_client.php verify: %v\n%s", err, out)
	}
	// A signature over other content: the PHP client prints the verdict kep
	// serve gave, not a fixed word.
	other := filepath.Join(t.TempDir(), "other.txt")
	os.WriteFile(other, []byte("не тот документ"), 0o600)
	out, err = run("php", "examples/kep_client.php", "verify", f.sig, other)
	if err != nil || !strings.HasPrefix(out, "TOTAL_FAILED ") {
		t.Fatalf("kep_client.php verify of other content: %v\n%s", err, out)
	}
	const origin = "https://portal.example.ru"
	// signed runs the client's challenge command for origin and signs the
	// challenge with kep login sign, returning the response file.
	signed := func(t *testing.T, interp, file string) string {
		t.Helper()
		out, err := run(interp, file, "challenge", origin)
		if err != nil || !strings.Contains(out, `"nonce"`) {
			t.Fatalf("%s challenge: %v\n%s", file, err, out)
		}
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "ch.json"), []byte(out), 0o600)
		resp, err := f.kep(nil, "login", "sign", "--soft", f.demo.Path(f.demo.Token), "--cert", f.person, filepath.Join(dir, "ch.json"))
		if err != nil {
			t.Fatalf("kep login sign: %v %s", err, resp)
		}
		os.WriteFile(filepath.Join(dir, "resp.json"), resp, 0o600)
		return filepath.Join(dir, "resp.json")
	}
	for _, c := range []struct{ name, interp, file string }{
		{"python", "python3", "examples/kep_client.py"},
		{"php", "php", "examples/kep_client.php"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := signed(t, c.interp, c.file)
			out, err := run(c.interp, c.file, "login", origin, resp)
			if err != nil || !strings.HasPrefix(out, "OK Иванов Иван Иванович СНИЛС ") {
				t.Fatalf("%s login: %v\n%s", c.file, err, out)
			}
			out, err = run(c.interp, c.file, "login", origin, resp)
			if err == nil || !strings.HasPrefix(out, "REFUSED NONCE_UNKNOWN") {
				t.Fatalf("%s login replayed: %v\n%s", c.file, err, out)
			}
			// A fresh response presented to another portal is refused for its
			// origin, not as an unknown challenge.
			out, err = run(c.interp, c.file, "login", "https://other.example.ru", signed(t, c.interp, c.file))
			if err == nil || !strings.HasPrefix(out, "REFUSED ORIGIN") {
				t.Fatalf("%s login for another origin: %v\n%s", c.file, err, out)
			}
		})
	}
}
