package agent

import (
	"bytes"
	"context"
	"testing"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/tsp"
	"github.com/kepkit/kep/verify"
)

// TestSignProfile: the sign method's profile param. Without a TSA only
// cades-bes is possible and the others are refused before the user is
// asked; with one, cades-t gives a time-stamped signature; an unknown
// profile is invalid.
func TestSignProfile(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	c := f.dial(t, siteOrigin)
	id := f.ids[0].Cert.Thumbprint()
	for _, p := range []string{"cades-t", "xlt1", "xlt2"} {
		if _, e := c.call(t, "sign", map[string]any{"certId": id, "data": []byte("x"), "profile": p}); e == nil || e.Data == nil || e.Data.Reason != ReasonInvalidParams {
			t.Errorf("profile %s without a TSA: %+v, want %s", p, e, ReasonInvalidParams)
		}
	}
	tsa := f.pki.TSA(t, testpki.CryptoProA, "critical,timeStamping")
	f.agent.cfg.Timestamper = &tsp.Client{URL: tsa.URL}
	doc := []byte("profile cades-t")
	u := f.expect(answer{Approve: true, PIN: testPIN})
	res := mustCall[SignResult](t, c, "sign", map[string]any{"certId": id, "data": doc, "profile": "cades-t"})
	u.wait(t)
	rep, err := verify.Verify(context.Background(), res.CMS, verify.Options{Roots: []*certs.Certificate{f.pki.Root.Cert},
		Content: bytes.NewReader(doc), Profile: verify.ProfileCAdEST})
	if err != nil || rep.Signers[0].Timestamp == nil || rep.Signers[0].Level != verify.LevelT {
		t.Fatalf("cades-t: %v %+v", err, rep)
	}
}
