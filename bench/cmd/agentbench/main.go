// Command agentbench measures what the kep agent adds to a signature: the
// same detached CAdES-BES signature of a 32-byte digest with the demo
// software token, made N times through the agent's WebSocket (JSON-RPC,
// page-PIN mode so that no window is involved) and N times by a direct
// library call (keystore.Use + sign.SignDigest), interleaved so both see the
// same machine. Both log in to the token each time (scrypt), so the
// difference is the agent: JSON, base64, WebSocket, dispatch, audit log.
// It also times the bare round trip of agent.info.
//
// Output, one line per measurement, for bench/run.sh:
//
//	op=agent/sign-added p50=… p99=… (ms) agent-p50=… agent-p99=… direct-p50=… direct-p99=… n=…
//	op=agent/info-roundtrip p50=… p99=… (ms) n=…
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/agent"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/demopki"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/sign"
)

const origin = "https://bench.kep.example"

func main() {
	n := flag.Int("n", 200, "signatures each way")
	flag.Parse()
	dir, err := os.MkdirTemp("", "kep-agentbench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	demo, err := demopki.Create(filepath.Join(dir, "demo"), demopki.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	keys, err := keystore.Open(ctx, keystore.Config{SoftDir: demo.Path(demo.Token)})
	if err != nil {
		log.Fatal(err)
	}
	defer keys.Close()
	audit, err := agent.OpenAuditLog(filepath.Join(dir, "audit.log"))
	if err != nil {
		log.Fatal(err)
	}
	a, err := agent.New(agent.Config{Keys: keys, UI: &agent.PageUI{}, EphemeralPort: true, PagePINOrigins: []string{origin},
		Audit: audit, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		log.Fatal(err)
	}
	if err := a.Listen(ctx); err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	ws, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws", a.Port()), http.Header{"Origin": {origin}})
	if err != nil {
		log.Fatal(err)
	}
	defer ws.Close()

	id := demo.Identities[0].Thumbprint // the GOST-256 person
	entry, err := keys.Find(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	d := certs.DefaultDigestFor(entry.Certificate.PublicKey)
	digest := make([]byte, d.Size)
	rand.Read(digest)
	pinUI := keystore.UI{RequestPIN: func(context.Context, keystore.PINRequest) ([]byte, error) { return []byte(demopki.PIN), nil }}

	call := func(method string, params any) {
		if err := ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params}); err != nil {
			log.Fatal(err)
		}
		var reply struct {
			Error  *json.RawMessage
			Result json.RawMessage
		}
		if err := ws.ReadJSON(&reply); err != nil {
			log.Fatal(err)
		}
		if reply.Error != nil {
			log.Fatalf("%s: %s", method, *reply.Error)
		}
	}
	direct := func() {
		err := keys.Use(ctx, id, pinUI, func(k keystore.Signer) error {
			_, err := sign.SignDigest(digest, k, entry.Certificate, sign.Options{Digest: d, Chain: entry.Chain})
			return err
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	viaAgent := func() {
		call("sign", map[string]any{"certId": id, "hash": digest, "hashAlg": d.Name, "pin": demopki.PIN})
	}
	timeIt := func(f func()) time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
	// Warm up both paths.
	direct()
	viaAgent()
	var ta, td, ti []time.Duration
	for i := 0; i < *n; i++ {
		if i%2 == 0 {
			ta = append(ta, timeIt(viaAgent))
			td = append(td, timeIt(direct))
		} else {
			td = append(td, timeIt(direct))
			ta = append(ta, timeIt(viaAgent))
		}
	}
	for i := 0; i < 10**n; i++ {
		ti = append(ti, timeIt(func() { call("agent.info", nil) }))
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }
	a50, a99, d50, d99 := pct(ta, 50), pct(ta, 99), pct(td, 50), pct(td, 99)
	fmt.Printf("op=agent/sign-added p50=%s p99=%s (ms) agent-p50=%s agent-p99=%s direct-p50=%s direct-p99=%s n=%d\n",
		ms(a50-d50), ms(a99-d99), ms(a50), ms(a99), ms(d50), ms(d99), *n)
	fmt.Printf("op=agent/info-roundtrip p50=%s p99=%s (ms) n=%d\n", ms(pct(ti, 50)), ms(pct(ti, 99)), len(ti))
}

// pct is the p-th percentile (nearest rank).
func pct(ds []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := (p*len(s) + 99) / 100
	if k < 1 {
		k = 1
	}
	return s[k-1]
}
