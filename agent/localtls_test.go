package agent

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestLocalTLS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Now()
	lt, err := EnsureLocalTLS(dir, now)
	if err != nil || !lt.Created {
		t.Fatalf("first: %v created=%v", err, lt != nil && lt.Created)
	}
	again, err := EnsureLocalTLS(dir, now.Add(24*time.Hour))
	if err != nil || again.Created || string(again.CA) != string(lt.CA) {
		t.Fatalf("second load made a new CA: %v", err)
	}
	// Only the CA certificate, the server certificate and the server key are
	// on disk; the key is the server's, not the CA's.
	names, _ := os.ReadDir(dir)
	if len(names) != 3 {
		t.Errorf("files %v", names)
	}
	block, _ := pem.Decode(lt.CA)
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.PermittedDNSDomainsCritical || len(ca.PermittedDNSDomains) != 1 || ca.PermittedDNSDomains[0] != "localhost" || len(ca.PermittedIPRanges) != 2 || !ca.MaxPathLenZero {
		t.Errorf("CA not constrained to loopback: %v %v", ca.PermittedDNSDomains, ca.PermittedIPRanges)
	}
	leaf, _ := x509.ParseCertificate(lt.Certificate.Certificate[0])
	if leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(ca.PublicKey) {
		t.Error("the server key is the CA key")
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Renewed a month before expiry.
	renewed, err := EnsureLocalTLS(dir, leaf.NotAfter.Add(-20*24*time.Hour))
	if err != nil || !renewed.Created {
		t.Errorf("renewal: %v", err)
	}

	// wss:// with the CA trusted.
	keys := newFixture(t, Config{}).agent.cfg.Keys
	a, err := New(Config{Keys: keys, UI: &PageUI{}, EphemeralPort: true, TLS: &lt.Certificate})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := a.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	if a.TLSPort() == 0 {
		t.Fatal("no TLS port")
	}
	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}}
	ws, _, err := d.Dial(fmt.Sprintf("wss://localhost:%d/ws", a.TLSPort()), http.Header{"Origin": {siteOrigin}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "agent.info"})
	var reply struct{ Result Info }
	if err := ws.ReadJSON(&reply); err != nil || reply.Result.Name != "kep" {
		t.Fatalf("agent.info over wss: %+v %v", reply, err)
	}
	disc, err := httpGetJSON[Discovery](fmt.Sprintf("http://127.0.0.1:%d/", a.Port()))
	if err != nil || disc.WSS != fmt.Sprintf("wss://127.0.0.1:%d/ws", a.TLSPort()) {
		t.Errorf("discovery %+v %v", disc, err)
	}
}
