// Command servebench measures kep serve against calling verify.Verify
// directly, in the same run: N verifications of the demo person's detached
// GOST-256 CAdES-BES signature (a 1 KiB document; the demo CA's CRL given
// offline, no network) at concurrency C
//
//   - direct: verify.Verify in C goroutines of this process;
//   - http-1: POST /v1/signatures/verify (multipart) to one `kep serve`
//     process over loopback, C connections;
//   - http-2: the same N spread round-robin over two `kep serve` processes;
//   - logins: -logins challenges from one instance, the responses signed
//     beforehand (one token session), then verified by it (POST
//     /v1/login/verify: signature, chain, nonce taken, origin, skew).
//
// Every answer must be 200 TOTAL_PASSED: any error is reported and makes the
// exit status 1. Output, one line per measurement, for bench/run.sh:
//
//	op=serve/verify-direct verifications_per_second=… p50_ms=… p99_ms=… n=… c=…
//	op=serve/verify-http-1 verifications_per_second=… p50_ms=… p99_ms=… n=… c=… errors=0 vs_direct=…
//	op=serve/verify-http-2 verifications_per_second=… p50_ms=… p99_ms=… n=… c=… errors=0 vs_one=…
//	op=serve/login-challenge verifications_per_second=… (challenges/s) p50_ms=… p99_ms=… n=… c=… errors=0
//	op=serve/login-verify verifications_per_second=… (logins/s) p50_ms=… p99_ms=… n=… c=… errors=0 logins_per_minute=…
//
// The two-instance figure on one machine shows the cost of the split, not a
// gain: both processes share the same cores.
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
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/demopki"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
	"github.com/kepkit/kep/verify/login"
)

const key = "servebench-key-0123456789"

func main() {
	n := flag.Int("n", 20000, "verifications per measurement")
	c := flag.Int("c", 32, "concurrency")
	kep := flag.String("kep", "bin/kep", "the kep binary")
	logins := flag.Int("logins", 2000, "logins (challenge + verify) through kep serve")
	flag.Parse()
	dir, err := os.MkdirTemp("", "kep-servebench-")
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
	id := demo.Identities[0].Thumbprint
	entry, err := keys.Find(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	doc := make([]byte, 1024)
	rand.Read(doc)
	var sig []byte
	pinUI := keystore.UI{RequestPIN: func(context.Context, keystore.PINRequest) ([]byte, error) { return []byte(demopki.PIN), nil }}
	if err := keys.Use(ctx, id, pinUI, func(k keystore.Signer) error {
		sig, err = sign.Sign(ctx, bytes.NewReader(doc), k, entry.Certificate, sign.Options{Chain: entry.Chain})
		return err
	}); err != nil {
		log.Fatal(err)
	}
	defer keys.Close()
	caPEM, _ := os.ReadFile(demo.Path(demo.CA))
	roots, _ := certs.ParseCertificates(caPEM)
	crlDER, _ := os.ReadFile(demo.Path(demo.CRL))
	crl, err := certs.ParseCRL(crlDER)
	if err != nil {
		log.Fatal(err)
	}

	// direct
	direct := run(*n, *c, func(int) error {
		rep, err := verify.Verify(ctx, sig, verify.Options{Roots: roots, CRLs: []*certs.CRL{crl}, Content: bytes.NewReader(doc)})
		if err != nil {
			return err
		}
		if rep.Indication != verify.TotalPassed {
			return fmt.Errorf("%s", rep.Indication)
		}
		return nil
	})
	direct.print("serve/verify-direct", "")

	keysFile := filepath.Join(dir, "keys")
	os.WriteFile(keysFile, []byte("bench "+key+"\n"), 0o600)
	start := func() (string, func()) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		cmd := exec.Command(*kep, "serve", "--listen", addr, "--api-keys", keysFile, "--trust", demo.Path(demo.CA),
			"--crl", demo.Path(demo.CRL), "--revocation", "off", "--nonce-store", "memory", "--max-concurrent", fmt.Sprint(*c), "--log-level", "warn")
		var logs bytes.Buffer
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			log.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				log.Fatalf("kep serve did not start: %s", logs.String())
			}
		}
		return "http://" + addr, func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("signature", "doc.sig")
	w.Write(sig)
	w, _ = mw.CreateFormFile("content", "doc")
	w.Write(doc)
	mw.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *c, MaxConnsPerHost: *c}, Timeout: time.Minute}
	post := func(url string) error {
		req, _ := http.NewRequest("POST", url+"/v1/signatures/verify", bytes.NewReader(body.Bytes()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Kep-Indication") != verify.TotalPassed {
			return fmt.Errorf("%d %s", resp.StatusCode, resp.Header.Get("Kep-Indication"))
		}
		return nil
	}
	a, stopA := start()
	post(a) // warm up
	one := run(*n, *c, func(int) error { return post(a) })
	one.print("serve/verify-http-1", fmt.Sprintf(" vs_direct=%.2f", one.rate/direct.rate))
	b, stopB := start()
	post(b)
	urls := []string{a, b}
	two := run(*n, *c, func(i int) error { return post(urls[i%2]) })
	two.print("serve/verify-http-2", fmt.Sprintf(" vs_one=%.2f", two.rate/one.rate))
	stopB()

	// Logins through instance a (its nonce store is in memory): challenges,
	// then the responses, signed beforehand in one token session, verified.
	const origin = "https://portal.example.ru"
	chs := make([]*login.Challenge, *logins)
	chal := run(*logins, *c, func(i int) error {
		b, err := postJSON(client, a+"/v1/login/challenges", map[string]string{"origin": origin}, 200)
		if err != nil {
			return err
		}
		chs[i], err = login.ParseChallenge(b)
		return err
	})
	chal.print("serve/login-challenge", "")
	resps := make([][]byte, *logins)
	if err := keys.Use(ctx, id, pinUI, func(k keystore.Signer) error {
		for i, ch := range chs {
			if ch == nil {
				continue
			}
			if resps[i], err = login.Sign(ctx, ch, login.FormatBound, k, entry.Certificate, nil); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		log.Fatal(err)
	}
	lv := run(*logins, *c, func(i int) error {
		_, err := postJSON(client, a+"/v1/login/verify", map[string]any{"origin": origin, "response": json.RawMessage(resps[i])}, 200)
		return err
	})
	lv.print("serve/login-verify", fmt.Sprintf(" logins_per_minute=%.0f", lv.rate*60))
	stopA()
	if one.errors+two.errors+direct.errors+chal.errors+lv.errors > 0 {
		os.Exit(1)
	}
}

func postJSON(c *http.Client, url string, v any, want int) ([]byte, error) {
	body, _ := json.Marshal(v)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != want {
		err = fmt.Errorf("%d %s", resp.StatusCode, b)
	}
	return b, err
}

type result struct {
	n, c     int
	rate     float64
	p50, p99 time.Duration
	errors   int64
	first    string
}

func (r result) print(op, extra string) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
	fmt.Printf("op=%s verifications_per_second=%.0f p50_ms=%s p99_ms=%s n=%d c=%d errors=%d%s\n", op, r.rate, ms(r.p50), ms(r.p99), r.n, r.c, r.errors, extra)
	if r.first != "" {
		fmt.Fprintf(os.Stderr, "servebench: %s: first error: %s\n", op, r.first)
	}
}

// run calls f n times from c goroutines and measures each call.
func run(n, c int, f func(i int) error) result {
	lat := make([]time.Duration, n)
	var next, errs atomic.Int64
	var first atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				err := f(i)
				lat[i] = time.Since(t0)
				if err != nil {
					if errs.Add(1) == 1 {
						first.Store(err.Error())
					}
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	r := result{n: n, c: c, rate: float64(n) / el.Seconds(), p50: lat[n/2], p99: lat[n*99/100], errors: errs.Load()}
	if s, ok := first.Load().(string); ok {
		r.first = s
	}
	return r
}
