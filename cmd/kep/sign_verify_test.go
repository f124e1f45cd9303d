package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kepkit/kep/internal/testpki"
)

func TestSignVerifyCLI(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "Иванов Иван")
	other := p.Leaf(t, testpki.TC26512A, "Другой")
	dir := t.TempDir()
	doc := filepath.Join(dir, "договор.pdf")
	if err := os.WriteFile(doc, []byte("%PDF-1.4 test document"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Detached by default, to FILE.sig.
	if _, stderr, code := execute(t, nil, "sign", "--key", id.KeyFile, "--cert", id.CertFile, doc); code != 0 {
		t.Fatalf("sign: %d %s", code, stderr)
	}
	sig := doc + ".sig"
	out, stderr, code := execute(t, nil, "verify", "--revocation", "off", "--content", doc, "--trust", p.Root.CertFile, "--json", sig)
	if code != 0 {
		t.Fatalf("verify: %d %s %s", code, out, stderr)
	}
	var rep struct {
		Indication string `json:"indication"`
		Signers    []struct {
			Indication    string `json:"indication"`
			SubIndication string `json:"subIndication"`
			Checks        []struct{ Code, Status string }
			Signer        map[string]any `json:"signer"`
		} `json:"signers"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if rep.Indication != "TOTAL_PASSED" || len(rep.Signers) != 1 || len(rep.Signers[0].Checks) == 0 || rep.Signers[0].Signer == nil {
		t.Fatalf("report: %+v", rep)
	}

	// A second signer with --cosign, written back to the same file.
	if _, stderr, code := execute(t, nil, "sign", "--key", other.KeyFile, "--cert", other.CertFile, "--cosign", sig, doc); code != 0 {
		t.Fatalf("cosign: %d %s", code, stderr)
	}
	out, _, code = execute(t, nil, "verify", "--revocation", "off", "--content", doc, "--trust", p.Root.CertFile, "--lang", "ru", sig)
	if code != 0 || !strings.Contains(out, "Подпись действительна") || !strings.Contains(out, "Подписант 2") {
		t.Fatalf("two signers, Russian summary: %d\n%s", code, out)
	}

	// Exit codes, each with the verdict that explains it: changed content
	// 1 (HASH_FAILURE), no trust anchor 3 (NO_CERTIFICATE_CHAIN_FOUND, with
	// revocation off so that the chain alone decides), missing file 2.
	changed := filepath.Join(dir, "changed.pdf")
	if err := os.WriteFile(changed, []byte("%PDF-1.4 test documenT"), 0o644); err != nil {
		t.Fatal(err)
	}
	verdict := func(name string, wantCode int, wantInd, wantSub string, args ...string) {
		t.Helper()
		out, stderr, code := execute(t, nil, append([]string{"verify", "--revocation", "off", "--json"}, args...)...)
		var r struct {
			Indication string `json:"indication"`
			Signers    []struct {
				Indication    string `json:"indication"`
				SubIndication string `json:"subIndication"`
			} `json:"signers"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%s: exit %d, no JSON report (%v): %s %s", name, code, err, out, stderr)
		}
		if code != wantCode || r.Indication != wantInd || len(r.Signers) != 2 {
			t.Fatalf("%s: exit %d, %s, %d signers; want exit %d, %s, 2 signers", name, code, r.Indication, len(r.Signers), wantCode, wantInd)
		}
		for i, s := range r.Signers {
			if s.Indication != wantInd || s.SubIndication != wantSub {
				t.Errorf("%s: signer %d is %s/%s, want %s/%s", name, i+1, s.Indication, s.SubIndication, wantInd, wantSub)
			}
		}
	}
	verdict("changed content", exitFail, "TOTAL_FAILED", "HASH_FAILURE", "--content", changed, "--trust", p.Root.CertFile, sig)
	verdict("no trust anchor", exitIndeterminate, "INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND", "--content", doc, sig)
	if _, _, code := execute(t, nil, "verify", "--revocation", "off", filepath.Join(dir, "missing.sig")); code != exitUsage {
		t.Fatalf("missing file: exit %d", code)
	}

	// Attached PEM with --extract.
	att := filepath.Join(dir, "att.p7s")
	if _, stderr, code := execute(t, nil, "sign", "--key", id.KeyFile, "--cert", id.CertFile, "--attached", "--pem", "-o", att, doc); code != 0 {
		t.Fatalf("attached: %d %s", code, stderr)
	}
	if b, _ := os.ReadFile(att); !strings.HasPrefix(string(b), "-----BEGIN CMS-----") {
		t.Fatal("--pem did not write PEM")
	}
	extracted := filepath.Join(dir, "extracted.pdf")
	if _, stderr, code := execute(t, nil, "verify", "--revocation", "off", "--trust", p.Root.CertFile, "--extract", extracted, att); code != 0 {
		t.Fatalf("extract: %d %s", code, stderr)
	}
	if a, b := mustRead(t, doc), mustRead(t, extracted); a != b {
		t.Fatal("extracted content differs")
	}

	// A failed sign leaves the existing .sig untouched.
	before := mustRead(t, sig)
	if _, _, code := execute(t, nil, "sign", "--key", other.KeyFile, "--cert", id.CertFile, doc); code == 0 {
		t.Fatal("signing with another key's certificate succeeded")
	}
	if mustRead(t, sig) != before {
		t.Fatal("a failed sign changed the existing signature")
	}
	if _, _, code := execute(t, nil, "sign", "--cert", id.CertFile, doc); code != exitUsage {
		t.Fatalf("missing --key: exit %d", code)
	}
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
