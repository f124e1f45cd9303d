package agent

import (
	"testing"
	"time"
)

// TestPINCacheKeepsSoftKey: with the PIN cache on, the software token's
// unlocked key is kept after the first signature (the later ones of the
// batch derive no key), and the agent's Close zeroes it with the PINs.
func TestPINCacheKeepsSoftKey(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}, PINCache: 5 * time.Minute})
	c := f.dial(t, siteOrigin)
	id := f.ids[0].Cert.Thumbprint()
	sign := func(answers ...answer) {
		t.Helper()
		u := f.expect(answers...)
		mustCall[SignResult](t, c, "sign", map[string]any{"certId": id, "data": []byte("x")})
		u.wait(t)
	}
	keys := f.agent.pins.softKeys()
	if keys == nil || keys.Len() != 0 {
		t.Fatal("no empty key cache beside the PIN cache")
	}
	sign(answer{Approve: true, PIN: testPIN})
	if keys.Len() != 1 {
		t.Fatalf("%d keys kept after the first signature, want 1", keys.Len())
	}
	sign(answer{Approve: true})
	sign(answer{Approve: true})
	if keys.Len() != 1 {
		t.Fatalf("%d keys kept during the batch, want 1", keys.Len())
	}
	f.agent.Close()
	if keys.Len() != 0 {
		t.Fatal("the agent's Close left the unlocked key")
	}
}
