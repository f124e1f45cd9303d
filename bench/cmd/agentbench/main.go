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
// With -kep, the same again on the extension's road: this program starts
// `kep native-host chrome-extension://…/` as the browser does (its stdin
// and stdout, native messaging's 4-byte length framing), opens the page's
// channel ({"kep":"open"} with the origin, as the extension's background
// does), and the host relays the sign requests to the agent over its relay
// socket (agent.ListenRelay); the confirmation page is answered the same
// way. added then also holds the host's relay hop (a process and a Unix
// socket), which a user of the extension waits for too.
//
// With -batch N it also signs N digests in a row through an agent with the
// PIN cache on: the person types the PIN once, then approves each
// signature without it, and the software token keeps the unlocked key
// for the cache's lifetime, so only the first signature costs a login.
//
// Output, one line per measurement, for bench/run.sh:
//
//	op=agent/sign-added p50=… p99=… (ms) total-p50=… total-p99=… token-p50=… token-p99=… list-p50=… list-p99=… wait-p50=… wait-p99=… n=… road=…
//	op=agent/sign-added-native p50=… p99=… (ms) total-p50=… … n=… road=native-messaging+confirmation-page
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
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/agent"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/extension"
	"github.com/kepkit/kep/internal/demopki"
	"github.com/kepkit/kep/internal/nativemsg"
	"github.com/kepkit/kep/pkcs11/keystore"
)

const origin = "https://bench.kep.example"

func main() {
	n := flag.Int("n", 1000, "signatures through the confirmation page")
	batch := flag.Int("batch", 0, "when positive, also sign this many in a batch with the PIN cache on")
	info := flag.Int("info", 0, "agent.info round trips (10×n when zero)")
	kep := flag.String("kep", "", "the kep binary, for the native-messaging road (kep native-host); not measured when empty")
	nNative := flag.Int("n-native", 0, "signatures through the native-messaging road (n when zero)")
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
		b.dialWS()
		setDigest(b.keys, id)
		b.signOnce(id) // warm up
		b.reset()
		for i := 0; i < *n; i++ {
			b.signOnce(id)
		}
		b.report("agent/sign-added", "websocket+confirmation-page")
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

	if *n > 0 && *kep == "" {
		fmt.Println("# note: agent/sign-added-native not measured: no -kep binary for kep native-host")
	} else if *n > 0 {
		m := *nNative
		if m == 0 {
			m = *n
		}
		b := start(dir, demo.Path(demo.Token), 0)
		if err := b.dialNative(*kep, filepath.Join(dir, "relay", "agent.sock")); err != nil {
			log.Fatalf("the native-messaging road: %v", err)
		}
		setDigest(b.keys, id)
		b.signOnce(id) // warm up
		b.reset()
		for i := 0; i < m; i++ {
			b.signOnce(id)
		}
		b.report("agent/sign-added-native", "native-messaging+confirmation-page")
		b.close()
	}

	if *batch > 0 {
		b := start(dir, demo.Path(demo.Token), time.Hour)
		b.dialWS()
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
	road road
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
	return b
}

// road is how the page reaches the agent: one JSON-RPC message written,
// the next message read.
type road interface {
	write(msg []byte) error
	read() ([]byte, error)
	close()
}

// dialWS connects the page over the agent's WebSocket.
func (b *bench) dialWS() {
	ws, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws", b.a.Port()), http.Header{"Origin": {origin}})
	if err != nil {
		log.Fatal(err)
	}
	b.road = wsRoad{ws}
}

type wsRoad struct{ ws *websocket.Conn }

func (r wsRoad) write(msg []byte) error { return r.ws.WriteMessage(websocket.TextMessage, msg) }
func (r wsRoad) close()                 { r.ws.Close() }

func (r wsRoad) read() ([]byte, error) {
	_, msg, err := r.ws.ReadMessage()
	return msg, err
}

// dialNative serves the agent's relay on sock and connects the page
// through `kep native-host`, started as Chromium starts it for kep's
// extension (the caller's origin as its argument, stdin and stdout the
// channel); the host finds the agent by KEP_AGENT_SOCKET and is told not
// to start one of its own.
func (b *bench) dialNative(kep, sock string) error {
	if err := b.a.ListenRelay(sock); err != nil {
		return err
	}
	cmd := exec.Command(kep, "native-host", extension.ChromeOrigin)
	cmd.Env = append(os.Environ(), agent.EnvRelaySocket+"="+sock, "KEP_NATIVE_HOST_NO_START=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	r := &nativeRoad{cmd: cmd, in: in, w: nativemsg.NewWriter(in), r: nativemsg.NewReader(out, nativemsg.MaxOut)}
	open, _ := json.Marshal(map[string]any{"kep": "open", "v": 1, "origin": origin})
	if err := r.w.Write(open); err != nil {
		r.close()
		return err
	}
	msg, err := r.r.Read()
	if err != nil {
		r.close()
		return fmt.Errorf("no answer to open: %w", err)
	}
	var ready struct{ Kep, Origin, Reason, Message string }
	if json.Unmarshal(msg, &ready) != nil || ready.Kep != "ready" || ready.Origin != origin {
		r.close()
		return fmt.Errorf("the host answered %s", msg)
	}
	b.road = r
	return nil
}

// nativeRoad is the extension's side of kep native-host: the browser's
// pipes, native-messaging frames.
type nativeRoad struct {
	cmd *exec.Cmd
	in  io.Closer
	w   *nativemsg.Writer
	r   *nativemsg.Reader
}

func (r *nativeRoad) write(msg []byte) error { return r.w.Write(msg) }

func (r *nativeRoad) read() ([]byte, error) {
	msg, err := r.r.Read()
	if err != nil {
		return nil, err
	}
	var k struct{ Kep, Reason, Message string }
	if json.Unmarshal(msg, &k) == nil && k.Kep != "" {
		// The host's own messages: a reply in parts (not for a signature's
		// few kilobytes) or the channel closed.
		return nil, fmt.Errorf("kep native-host: %s", msg)
	}
	return msg, nil
}

func (r *nativeRoad) close() {
	r.in.Close() // the browser closes the channel: the host ends
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
}

func (b *bench) close() {
	b.road.close()
	b.a.Close()
	b.keys.Close()
}

// report prints the per-request added latency of the records as op.
func (b *bench) report(op, roadName string) {
	added := make([]time.Duration, len(b.recs))
	var total, wait, token, list []time.Duration
	for i, r := range b.recs {
		added[i] = r.total - r.wait - r.token - r.list
		total, wait = append(total, r.total), append(wait, r.wait)
		token, list = append(token, r.token), append(list, r.list)
	}
	fmt.Printf("op=%s p50=%s p99=%s (ms) total-p50=%s total-p99=%s token-p50=%s token-p99=%s list-p50=%s list-p99=%s wait-p50=%s wait-p99=%s n=%d road=%s\n",
		op, ms(pct(added, 50)), ms(pct(added, 99)), ms(pct(total, 50)), ms(pct(total, 99)),
		ms(pct(token, 50)), ms(pct(token, 99)), ms(pct(list, 50)), ms(pct(list, 99)),
		ms(pct(wait, 50)), ms(pct(wait, 99)), len(added), roadName)
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
	msg, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	if err != nil {
		log.Fatal(err)
	}
	if err := b.road.write(msg); err != nil {
		log.Fatal(err)
	}
	for {
		data, err := b.road.read()
		if err != nil {
			log.Fatal(err)
		}
		var reply struct {
			ID     json.RawMessage
			Error  *json.RawMessage
			Result json.RawMessage
		}
		if err := json.Unmarshal(data, &reply); err != nil {
			log.Fatal(err)
		}
		if reply.ID == nil {
			continue // a notification
		}
		if reply.Error != nil {
			log.Fatalf("%s: %s", method, *reply.Error)
		}
		return
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
