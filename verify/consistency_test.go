package verify_test

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/kepkit/kep/verify"
)

// inconsistent says why a report's verdict disagrees with its checks: a
// TOTAL_PASSED report or signer must have no failed check.
func inconsistent(r *verify.Report) string {
	if msg := unlistedCode(r); msg != "" {
		return msg
	}
	if r.Indication != verify.TotalPassed {
		return ""
	}
	for _, c := range r.Checks {
		if c.Status == verify.Failed {
			return fmt.Sprintf("TOTAL_PASSED with failed %s: %s", c.Code, c.Detail)
		}
	}
	for _, s := range r.Signers {
		for _, c := range s.Checks {
			if c.Status == verify.Failed {
				return fmt.Sprintf("TOTAL_PASSED, signer %d has failed %s: %s", s.Index, c.Code, c.Detail)
			}
		}
	}
	return ""
}

// unlistedCode names a check code the report carries that verify.CheckCodes
// does not list (reports in other languages would show it raw).
func unlistedCode(r *verify.Report) string {
	known := map[string]bool{}
	for _, c := range verify.CheckCodes() {
		known[c] = true
	}
	checks := append([]verify.Check(nil), r.Checks...)
	for _, s := range r.Signers {
		checks = append(checks, s.Checks...)
	}
	for _, c := range checks {
		if !known[c.Code] {
			return fmt.Sprintf("check code %s (%s) is not in verify.CheckCodes", c.Code, c.Detail)
		}
	}
	return ""
}

// TestMain walks every report the verify tests produce (nested time-stamp
// reports included) and fails the run when a verdict and a check disagree.
func TestMain(m *testing.M) {
	var mu sync.Mutex
	var bad []string
	reports := 0
	verify.SetReportHook(func(r *verify.Report) {
		mu.Lock()
		defer mu.Unlock()
		reports++
		if msg := inconsistent(r); msg != "" {
			bad = append(bad, msg)
		}
	})
	code := m.Run()
	mu.Lock()
	for _, b := range bad {
		fmt.Fprintln(os.Stderr, "inconsistent report:", b)
	}
	if len(bad) > 0 {
		code = 1
	}
	mu.Unlock()
	os.Exit(code)
}

// TestInconsistentDetects: the property itself can fail.
func TestInconsistentDetects(t *testing.T) {
	r := &verify.Report{Indication: verify.TotalPassed, Signers: []verify.SignerReport{{Index: 1, Checks: []verify.Check{{Code: "SIGNATURE", Status: verify.Failed}}}}}
	if inconsistent(r) == "" {
		t.Fatal("a failed check beside TOTAL_PASSED went unnoticed")
	}
	r.Indication = verify.TotalFailed
	if inconsistent(r) != "" {
		t.Fatal("TOTAL_FAILED with a failed check reported as inconsistent")
	}
	r.Signers[0].Checks[0].Code = "NO_SUCH_CHECK"
	if inconsistent(r) == "" {
		t.Fatal("a check code missing from verify.CheckCodes went unnoticed")
	}
}
