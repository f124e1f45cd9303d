package diagnose

import (
	"context"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11/keystore"
)

// TestChainNotChecked: without roots the chain checks are skipped, and with
// ReportUnchecked that is said (a warning, not an error); with roots it is not.
func TestChainNotChecked(t *testing.T) {
	root := newCA(t, "Root", nil)
	cert, _ := root.leaf(t, "user", 1, time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))
	e := &keystore.Entry{ID: cert.Thumbprint(), Certificate: cert, Key: keystore.KeyPresent}
	r := Run(context.Background(), Input{Entries: []*keystore.Entry{e}, ReportUnchecked: true})
	var found *Finding
	for i, f := range r.Findings {
		if f.Code == ChainNotChecked {
			found = &r.Findings[i]
		}
	}
	if found == nil || found.Severity != Warning || r.HasErrors() || found.Fix == "" || found.MessageRU == "" {
		t.Fatalf("no roots: %+v", r.Findings)
	}
	r = Run(context.Background(), Input{Entries: []*keystore.Entry{e}, ReportUnchecked: true, Roots: []*certs.Certificate{root.cert}})
	if r.Has(ChainNotChecked) || !r.Has(CertOK) {
		t.Fatalf("with roots: %v", codesFor(r, ""))
	}
	if r := Run(context.Background(), Input{ReportUnchecked: true}); r.Has(ChainNotChecked) {
		t.Fatalf("no certificates: %v", codesFor(r, ""))
	}
}
