// Command agentbench measures what the kep agent itself adds to a signature
// on the road real users take: a page asks over the agent's WebSocket
// (JSON-RPC "sign" of a 32-byte digest, no PIN in the request), the agent
// opens its confirmation page, the person approves it there with the PIN,
// the software token signs and the agent replies. The person is played by
// this program: it receives the page's one-time address (PageUI.Open),
// opens it as a browser does (cookie), reads the prompt and posts the
// answer, as the page's script does.
//
// Per request it takes three times:
//
//	total   the page's request written → the reply read
//	wait    the confirmation page opened (PageUI.Open) → the answer posted:
//	        the time the agent waited for its user (here: a program that
//	        loads the page and answers at once)
//	token   the token's work as keystore.Config.OnWork reports it: opening
//	        the software token, the login (scrypt), the key and the
//	        signature (sign.SignDigest), without any wait for a PIN
//	list    the agent's look-up of the certificate on the tokens (reading
//	        the software token's files), also reported by OnWork
//
// and reports added = total − wait − token − list: JSON, WebSocket,
// dispatch, the prompt's set-up, serving its answer, the audit log and the
// reply. p50 and p99 are of the per-request values (not differences of
// percentiles); token, list and wait are printed too.
//
// With -batch N it also signs N digests in a row through an agent with the
// PIN cache on: the person types the PIN once, then approves each
// signature without it, and the software token keeps the unlocked key
// for the cache's lifetime, so only the first signature costs a login.
//
// Output, one line per measurement, for bench/run.sh:
//
//	op=agent/sign-added p50=… p99=… (ms) total-p50=… total-p99=… token-p50=… token-p99=… list-p50=… list-p99=… wait-p50=… wait-p99=… n=… road=…
//	op=agent/info-roundtrip p50=… p99=… (ms) n=…
//	op=agent/batch-sign n=… total=… (ms) first=… rest-p50=… rest-p99=… per-signature=… added-p50=… added-p99=…
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	neturl "net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/agent"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/demopki"
	"github.com/kepkit/kep/pkcs11/keystore"
)

const origin = "https://bench.kep.example"

func main() {
	n := flag.Int("n", 1000, "signatures through the confirmation page")
	batch := flag.Int("batch", 0, "when positive, also sign this many in a batch with the PIN cache on")
	info := flag.Int("info", 0, "agent.info round trips (10×n when zero)")
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
	id := demo.Identities[0].Thumbprint // the GOST-256 person

	if *n > 0 {
		b := start(dir, demo.Path(demo.Token), 0)
		setDigest(b.keys, id)
		b.signOnce(id) // warm up
		b.reset()
		for i := 0; i < *n; i++ {
			b.signOnce(id)
		}
		added := make([]time.Duration, len(b.recs))
		var total, wait, token, list []time.Duration
		for i, r := range b.recs {
			added[i] = r.total - r.wait - r.token - r.list
			total, wait = append(total, r.total), append(wait, r.wait)
			token, list = append(token, r.token), append(list, r.list)
		}
		fmt.Printf("op=agent/sign-added p50=%s p99=%s (ms) total-p50=%s total-p99=%s token-p50=%s token-p99=%s list-p50=%s list-p99=%s wait-p50=%s wait-p99=%s n=%d road=websocket+confirmation-page\n",
			ms(pct(added, 50)), ms(pct(added, 99)), ms(pct(total, 50)), ms(pct(total, 99)),
			ms(pct(token, 50)), ms(pct(token, 99)), ms(pct(list, 50)), ms(pct(list, 99)),
			ms(pct(wait, 50)), ms(pct(wait, 99)), len(added))
		m := *info
		if m == 0 {
			m = 10 * *n
		}
		var ti []time.Duration
		for i := 0; i < m; i++ {
			t := time.Now()
			b.call("agent.info", nil)
			ti = append(ti, time.Since(t))
		}
		fmt.Printf("op=agent/info-roundtrip p50=%s p99=%s (ms) n=%d\n", ms(pct(ti, 50)), ms(pct(ti, 99)), len(ti))
		b.close()
	}

	if *batch > 0 {
		b := start(dir, demo.Path(demo.Token), time.Hour)
		setDigest(b.keys, id)
		all := time.Now()
		for i := 0; i < *batch; i++ {
			b.signOnce(id)
		}
		elapsed := time.Since(all)
		var rest, added []time.Duration
		for _, r := range b.recs[1:] {
			rest = append(rest, r.total-r.wait)
			added = append(added, r.total-r.wait-r.token-r.list)
		}
		first := b.recs[0].total - b.recs[0].wait
		fmt.Printf("op=agent/batch-sign n=%d total=%s (ms) first=%s rest-p50=%s rest-p99=%s per-signature=%s added-p50=%s added-p99=%s (PIN cache on: the PIN typed once, each signature approved; first and rest without the confirmation's wait; added as in agent/sign-added, over the 2nd..nth)\n",
			*batch, ms(elapsed), ms(first), ms(pct(rest, 50)), ms(pct(rest, 99)), ms(elapsed/time.Duration(*batch)),
			ms(pct(added, 50)), ms(pct(added, 99)))
		b.close()
	}
}

// record is one request's times.
type record struct {
	total, wait, token, list time.Duration
}

// bench is an agent with the page UI, a WebSocket to it from the site and
// the person who answers its confirmation pages.
type bench struct {
	a    *agent.Agent
	keys *keystore.Store
	ws   *websocket.Conn
	pin  string // typed at the next prompt that asks for it

	mu      sync.Mutex
	cur     record
	opened  time.Time
	posted  time.Time
	answerr error
	done    chan struct{}
	recs    []record
}

func start(dir, tokenDir string, pinCache time.Duration) *bench {
	b := &bench{pin: demopki.PIN}
	ctx := context.Background()
	keys, err := keystore.Open(ctx, keystore.Config{SoftDir: tokenDir, OnWork: func(w keystore.Work) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch w.Op {
		case "use":
			b.cur.token += w.Time
		case "list":
			b.cur.list += w.Time
		}
	}})
	if err != nil {
		log.Fatal(err)
	}
	b.keys = keys
	auditFile, err := os.CreateTemp(dir, "audit-*.log")
	if err != nil {
		log.Fatal(err)
	}
	auditFile.Close()
	audit, err := agent.OpenAuditLog(auditFile.Name())
	if err != nil {
		log.Fatal(err)
	}
	ui := &agent.PageUI{Open: b.open, Dir: dir}
	b.a, err = agent.New(agent.Config{Keys: keys, UI: ui, EphemeralPort: true, AllowOrigins: []string{origin},
		PINCache: pinCache, Audit: audit, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		log.Fatal(err)
	}
	if err := b.a.Listen(ctx); err != nil {
		log.Fatal(err)
	}
	b.ws, _, err = websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws", b.a.Port()), http.Header{"Origin": {origin}})
	if err != nil {
		log.Fatal(err)
	}
	return b
}

func (b *bench) close() {
	b.ws.Close()
	b.a.Close()
	b.keys.Close()
}

func (b *bench) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recs = nil
}

// open is PageUI.Open: the person's browser gets the prompt's address.
func (b *bench) open(url string) error {
	b.mu.Lock()
	b.opened = time.Now()
	b.mu.Unlock()
	go func() {
		err := b.answer(url)
		b.mu.Lock()
		b.answerr = err
		b.mu.Unlock()
		b.done <- struct{}{}
	}()
	return nil
}

// answer visits the prompt as a browser does, reads it and approves it
// (with the PIN when it asks for one), as the page's script does.
func (b *bench) answer(oneTime string) error {
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Timeout: time.Minute}
	r, err := cl.Get(oneTime)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", oneTime, r.Status)
	}
	page := r.Request.URL.String()
	u, _ := neturl.Parse(page)
	own := u.Scheme + "://" + u.Host
	r, err = cl.Get(page + "/info")
	if err != nil {
		return err
	}
	var shown struct {
		NeedPIN bool `json:"needPin"`
	}
	err = json.NewDecoder(r.Body).Decode(&shown)
	r.Body.Close()
	if err != nil {
		return fmt.Errorf("prompt info: %w", err)
	}
	ans := map[string]any{"approve": true}
	if shown.NeedPIN {
		ans["pin"] = b.pin
	}
	body, _ := json.Marshal(ans)
	req, _ := http.NewRequest(http.MethodPost, page, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", own)
	b.mu.Lock()
	b.posted = time.Now()
	b.mu.Unlock()
	r, err = cl.Do(req) // answered when the operation is done
	if err != nil {
		return err
	}
	defer r.Body.Close()
	var out struct{ Status, Message string }
	if err := json.NewDecoder(r.Body).Decode(&out); err != nil {
		return err
	}
	if out.Status != "done" {
		return fmt.Errorf("prompt outcome %s: %s", out.Status, out.Message)
	}
	return nil
}

// call makes one JSON-RPC request and waits for its reply.
func (b *bench) call(method string, params any) {
	if err := b.ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params}); err != nil {
		log.Fatal(err)
	}
	var reply struct {
		Error  *json.RawMessage
		Result json.RawMessage
	}
	if err := b.ws.ReadJSON(&reply); err != nil {
		log.Fatal(err)
	}
	if reply.Error != nil {
		log.Fatalf("%s: %s", method, *reply.Error)
	}
}

// The digest signed, and its algorithm (the certificate's default digest).
var (
	digest  []byte
	hashAlg string
)

func setDigest(keys *keystore.Store, id string) {
	e, err := keys.Find(context.Background(), id)
	if err != nil {
		log.Fatal(err)
	}
	d := certs.DefaultDigestFor(e.Certificate.PublicKey)
	digest = make([]byte, d.Size)
	rand.Read(digest)
	hashAlg = d.Name
}

// signOnce signs the digest through the confirmation page and records the
// request's times.
func (b *bench) signOnce(id string) {
	b.mu.Lock()
	b.cur = record{}
	b.opened, b.posted, b.answerr = time.Time{}, time.Time{}, nil
	b.done = make(chan struct{}, 1)
	b.mu.Unlock()
	t := time.Now()
	b.call("sign", map[string]any{"certId": id, "hash": digest, "hashAlg": hashAlg})
	total := time.Since(t)
	select {
	case <-b.done:
	case <-time.After(time.Minute):
		log.Fatal("the confirmation page was never answered")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.answerr != nil {
		log.Fatalf("confirmation page: %v", b.answerr)
	}
	if b.opened.IsZero() || b.posted.IsZero() {
		log.Fatal("the sign request went without the confirmation page")
	}
	b.cur.total, b.cur.wait = total, b.posted.Sub(b.opened)
	b.recs = append(b.recs, b.cur)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

// pct is the p-th percentile (nearest rank).
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := (p*len(s) + 99) / 100
	if k < 1 {
		k = 1
	}
	return s[k-1]
}
