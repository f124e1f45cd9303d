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

// TestClientExamples runs the README's curl and Python clients against a
// real instance, and checks that the README shows them as they are here.
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
	const origin = "https://portal.example.ru"
	out, err = run("python3", "examples/kep_client.py", "challenge", origin)
	if err != nil || !strings.Contains(out, `"nonce"`) {
		t.Fatalf("kep_client.py challenge: %v\n%s", err, out)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ch.json"), []byte(out), 0o600)
	resp, err := f.kep(nil, "login", "sign", "--soft", f.demo.Path(f.demo.Token), "--cert", f.person, filepath.Join(dir, "ch.json"))
	if err != nil {
		t.Fatalf("kep login sign: %v %s", err, resp)
	}
	os.WriteFile(filepath.Join(dir, "resp.json"), resp, 0o600)
	out, err = run("python3", "examples/kep_client.py", "login", origin, filepath.Join(dir, "resp.json"))
	if err != nil || !strings.HasPrefix(out, "OK Иванов Иван Иванович СНИЛС ") {
		t.Fatalf("kep_client.py login: %v\n%s", err, out)
	}
	out, err = run("python3", "examples/kep_client.py", "login", origin, filepath.Join(dir, "resp.json"))
	if err == nil || !strings.HasPrefix(out, "REFUSED NONCE_UNKNOWN") {
		t.Fatalf("kep_client.py login replayed: %v\n%s", err, out)
	}
}
