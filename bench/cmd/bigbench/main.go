// Command bigbench measures kep on a large document (1 GiB by default),
// for bench/run.sh: memory must not grow with the size.
//
//  1. It signs the document through `kep agent` (a separate process, the
//     demo software token): upload.begin, the document in upload.chunk
//     messages as kep.js sends them (min(maxChunk, 1 MiB), one sent ahead
//     when upload.begin gives a window), then sign with the upload (the
//     PIN passed by a --page-pin-origin origin, so no window is involved).
//     Throughput is the document's size over the time from upload.begin to
//     the signature; the agent's peak RSS is its VmHWM
//     (/proc/PID/status) just after.
//  2. It verifies the detached signature of step 1 with `kep verify
//     --content` and with `openssl cms -verify -binary -content` (the gost
//     engine through OPENSSL_CONF), the same files, one after the other.
//     Throughput is size over each command's wall time; kep's peak RSS is
//     the process's maximum resident set as /usr/bin/time reports it
//     (polled VmHWM without it).
//
// The document is made in a temporary directory (pseudo-random bytes) and
// removed with it at the end. Output:
//
//	op=big/agent-sign size=… kep=… openssl=- ratio=- (MB/s) peak-rss-mib=… chunk=…
//	op=big/verify size=… kep=… openssl=… ratio=… (MB/s)
//	op=big/peak-rss kep-verify-mib=… kep-agent-sign-mib=… openssl-verify-mib=… target-mib=64 size=…
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/internal/demopki"
)

const origin = "https://bigbench.kep.example"

func main() {
	kep := flag.String("kep", "", "the kep binary (required)")
	size := flag.Int64("size", 1<<30, "bytes of the document")
	chunk := flag.Int("chunk", 1<<20, "largest upload.chunk (kep.js sends min(maxChunk, 1 MiB))")
	window := flag.Int("window", 0, "chunks sent before waiting for an answer: 0 as upload.begin's window says (as kep.js), 1 one at a time (kep.js before the window, with -chunk 4194304)")
	opensslCmd := flag.String("openssl", "openssl", "the openssl command")
	sslConf := flag.String("openssl-conf", "", "OPENSSL_CONF that loads the gost engine (no OpenSSL figure when empty)")
	flag.Parse()
	if *kep == "" {
		log.Fatal("bigbench: -kep is required")
	}
	tmp, err := os.MkdirTemp("", "kep-bigbench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := run(*kep, *size, *chunk, *window, *opensslCmd, *sslConf, tmp); err != nil {
		os.RemoveAll(tmp)
		log.Fatalf("bigbench: %v", err)
	}
}

func run(kep string, size int64, maxChunk, window int, opensslCmd, sslConf, tmp string) error {
	demo, err := demopki.Create(filepath.Join(tmp, "demo"), demopki.Options{})
	if err != nil {
		return err
	}
	id := demo.Identities[0].Thumbprint // the GOST-256 person
	doc := filepath.Join(tmp, "document.bin")
	if err := makeDocument(doc, size); err != nil {
		return err
	}
	mbs := func(d time.Duration) float64 { return float64(size) / 1e6 / d.Seconds() }

	// 1. Signing through the agent.
	sig, took, agentRSS, chunk, err := signThroughAgent(kep, tmp, demo, id, doc, maxChunk, window)
	if err != nil {
		return fmt.Errorf("signing through the agent: %w", err)
	}
	sigFile := filepath.Join(tmp, "document.sig")
	if err := os.WriteFile(sigFile, sig, 0o600); err != nil {
		return err
	}
	fmt.Printf("op=big/agent-sign size=%d kep=%.1f openssl=- ratio=- (MB/s) peak-rss-mib=%.1f chunk=%d\n",
		size, mbs(took), mib(agentRSS), chunk)

	// 2. Verification, kep then OpenSSL.
	home := filepath.Join(tmp, "home")
	kv := exec.Command(kep, "verify", "--content", doc, "--trust", demo.Path(demo.CA), "--revocation", "off",
		"--trust-list", "none", "--lang", "en", sigFile)
	kv.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	kTook, kRSS, out, err := timed(kv)
	if err != nil {
		var ee *exec.ExitError
		// 3 is INDETERMINATE: with revocation off the verdict may say so;
		// the work (hash, signature, chain) is done all the same.
		if !errors.As(err, &ee) || ee.ExitCode() != 3 {
			return fmt.Errorf("kep verify: %v\n%s", err, out)
		}
	}
	sslFig, ratio, sslRSS := "-", "-", "-"
	if sslConf != "" {
		ov := exec.Command(opensslCmd, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", doc,
			"-CAfile", demo.Path(demo.CA), "-purpose", "any", "-out", os.DevNull)
		ov.Env = append(os.Environ(), "OPENSSL_CONF="+sslConf)
		oTook, oRSS, out, err := timed(ov)
		if err != nil {
			fmt.Printf("# note: openssl cms -verify of the 1 GiB signature failed: %v %s\n", err, strings.TrimSpace(string(out)))
		} else {
			sslFig = strconv.FormatFloat(mbs(oTook), 'f', 1, 64)
			ratio = strconv.FormatFloat(mbs(kTook)/mbs(oTook), 'f', 2, 64)
			sslRSS = strconv.FormatFloat(mib(oRSS), 'f', 1, 64)
		}
	}
	fmt.Printf("op=big/verify size=%d kep=%.1f openssl=%s ratio=%s (MB/s)\n", size, mbs(kTook), sslFig, ratio)
	fmt.Printf("op=big/peak-rss kep-verify-mib=%.1f kep-agent-sign-mib=%.1f openssl-verify-mib=%s target-mib=64 size=%d\n",
		mib(kRSS), mib(agentRSS), sslRSS, size)
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// makeDocument writes size pseudo-random bytes to path.
func makeDocument(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	r := rand.NewChaCha8([32]byte{'k', 'e', 'p'})
	buf := make([]byte, 4<<20)
	for left := size; left > 0; {
		n := int64(len(buf))
		if left < n {
			n = left
		}
		r.Read(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return err
		}
		left -= n
	}
	return f.Close()
}

// timed runs cmd and returns its wall time and peak RSS (bytes): the
// maximum resident set GNU time reports (/usr/bin/time -f %M), or, without
// it, the highest VmHWM read from /proc/PID/status every 5 ms while it runs.
func timed(cmd *exec.Cmd) (time.Duration, int64, []byte, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	var rssFile string
	if gnuTime, err := exec.LookPath("/usr/bin/time"); err == nil {
		f, err := os.CreateTemp("", "kep-bigbench-rss-")
		if err == nil {
			f.Close()
			rssFile = f.Name()
			defer os.Remove(rssFile)
			cmd.Args = append([]string{gnuTime, "-f", "%M", "-o", rssFile}, cmd.Args...)
			cmd.Path = gnuTime
		}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, nil, err
	}
	var polled int64
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-tick.C:
			if rssFile == "" {
				if v, err := vmHWM(cmd.Process.Pid); err == nil && v > polled {
					polled = v
				}
			}
		}
	}
	took := time.Since(start)
	rss := polled
	if rssFile != "" {
		data, _ := os.ReadFile(rssFile)
		lines := strings.Fields(string(data))
		if len(lines) > 0 {
			if kb, perr := strconv.ParseInt(lines[len(lines)-1], 10, 64); perr == nil {
				rss = kb << 10
			}
		}
	}
	return took, rss, out.Bytes(), err
}

// signThroughAgent starts kep agent on a free port and signs doc through its
// chunked upload; it returns the CMS, the time from upload.begin to the
// signature, the agent's peak RSS and the chunk size used.
func signThroughAgent(kep, tmp string, demo *demopki.Manifest, id, doc string, maxChunk, window int) ([]byte, time.Duration, int64, int, error) {
	port, err := freePort()
	if err != nil {
		return nil, 0, 0, 0, err
	}
	home := filepath.Join(tmp, "home")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, kep, "agent", "--port", strconv.Itoa(port), "--soft", demo.Path(demo.Token),
		"--page-pin-origin", origin, "--no-browser")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_CACHE_HOME="+filepath.Join(home, ".cache"))
	var agentOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &agentOut, &agentOut
	if os.Getenv("BIGBENCH_AGENT_LOG") != "" {
		// The agent's own output (with GODEBUG=gctrace=1, its collections).
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, 0, 0, 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cancel()
			<-done
		}
	}()
	var ws *websocket.Conn
	deadline := time.Now().Add(30 * time.Second)
	for {
		ws, _, err = websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws", port), http.Header{"Origin": {origin}})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, 0, 0, 0, fmt.Errorf("the agent did not listen on %d: %v\n%s", port, err, agentOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	defer ws.Close()
	ws.SetReadLimit(64 << 20)
	startRSS, err := vmHWM(cmd.Process.Pid)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	// The peak's parts: anonymous memory (the Go heap, the scrypt) and
	// file-backed pages (kep's binary, the PKCS#11 modules it loaded),
	// polled every 5 ms while it works (VmHWM has only their sum).
	pollDone := make(chan struct{})
	polled := make(chan [2]int64, 1)
	go func() {
		var peak [2]int64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if anon, file, err := rssParts(cmd.Process.Pid); err == nil {
				peak[0], peak[1] = max(peak[0], anon), max(peak[1], file)
			}
			select {
			case <-pollDone:
				polled <- peak
				return
			case <-tick.C:
			}
		}
	}()
	defer func() {
		select {
		case <-pollDone:
		default:
			close(pollDone)
		}
	}()
	send := func(method string, params any) error {
		return ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	}
	answer := func(method string, result any) error {
		var reply struct {
			Error  json.RawMessage
			Result json.RawMessage
		}
		if err := ws.ReadJSON(&reply); err != nil {
			return err
		}
		if len(reply.Error) > 0 && string(reply.Error) != "null" {
			return fmt.Errorf("%s: %s", method, reply.Error)
		}
		if result != nil {
			return json.Unmarshal(reply.Result, result)
		}
		return nil
	}
	call := func(method string, params any, result any) error {
		if err := send(method, params); err != nil {
			return err
		}
		return answer(method, result)
	}

	f, err := os.Open(doc)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	defer f.Close()
	start := time.Now()
	var begun struct {
		UploadID string `json:"uploadId"`
		MaxChunk int    `json:"maxChunk"`
		Window   int    `json:"window"`
	}
	if err := call("upload.begin", map[string]any{"certId": id, "description": "bigbench"}, &begun); err != nil {
		return nil, 0, 0, 0, err
	}
	chunk := min(begun.MaxChunk, maxChunk) // as kep.js does
	if chunk <= 0 {
		return nil, 0, 0, 0, fmt.Errorf("upload.begin: maxChunk %d", begun.MaxChunk)
	}
	// As kep.js: one chunk sent ahead of the last one's answer when the
	// agent gives a window of 2 or more.
	ahead := 0
	if window == 0 && begun.Window >= 2 || window >= 2 {
		ahead = 1
	}
	buf := make([]byte, chunk)
	r := bufio.NewReaderSize(f, chunk)
	waiting := 0
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if err := send("upload.chunk", map[string]any{"uploadId": begun.UploadID, "data": buf[:n]}); err != nil {
				return nil, 0, 0, 0, err
			}
			for waiting++; waiting > ahead; waiting-- {
				if err := answer("upload.chunk", nil); err != nil {
					return nil, 0, 0, 0, err
				}
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, 0, 0, 0, err
		}
	}
	for ; waiting > 0; waiting-- {
		if err := answer("upload.chunk", nil); err != nil {
			return nil, 0, 0, 0, err
		}
	}
	uploadRSS, err := vmHWM(cmd.Process.Pid)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	fmt.Printf("# note: big/agent-sign: the agent's peak RSS was %.1f MiB once connected, %.1f MiB after the upload (before the login and signature)\n", mib(startRSS), mib(uploadRSS))
	var signed struct {
		CMS []byte `json:"cms"`
	}
	if err := call("sign", map[string]any{"certId": id, "uploadId": begun.UploadID, "pin": demo.PIN}, &signed); err != nil {
		return nil, 0, 0, 0, err
	}
	took := time.Since(start)
	rss, err := vmHWM(cmd.Process.Pid)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	close(pollDone)
	parts := <-polled
	fmt.Printf("# note: big/agent-sign: of the agent's peak, anonymous memory at most %.1f MiB, file-backed pages at most %.1f MiB (polled every 5 ms)\n", mib(parts[0]), mib(parts[1]))
	// The agent gives its memory back 2 s after the last token request
	// (agent/memory.go): what it keeps while idle after the signature, read
	// once the anonymous memory fell by half its peak, or after 10 s.
	idle := time.Now()
	for {
		time.Sleep(100 * time.Millisecond)
		anon, file, err := rssParts(cmd.Process.Pid)
		if err != nil {
			break
		}
		if anon < parts[0]/2 || time.Since(idle) > 10*time.Second {
			fmt.Printf("# note: big/agent-sign: %.1f s after the signature the agent holds %.1f MiB (anonymous %.1f, file-backed %.1f)\n",
				time.Since(idle).Seconds(), mib(anon+file), mib(anon), mib(file))
			break
		}
	}
	return signed.CMS, took, rss, chunk, nil
}

// rssParts is a process's resident anonymous and file-backed memory
// (bytes) from /proc/PID/status.
func rssParts(pid int) (anon, file int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		for _, f := range []struct {
			name string
			v    *int64
		}{{"RssAnon:", &anon}, {"RssFile:", &file}} {
			if v, ok := strings.CutPrefix(line, f.name); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				*f.v = kb << 10
			}
		}
	}
	return anon, file, nil
}

// vmHWM is a process's peak resident set (bytes) from /proc/PID/status.
func vmHWM(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/PID/status")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
