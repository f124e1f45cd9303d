package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/verify"
)

// TestUploadChunks: chunks sent ahead and in every form, one upload, one
// signature.
//
// Sent ahead: a client that sends chunks without waiting for the answers
// (more than MaxInFlight) gets every chunk hashed, in the order sent, with
// the agent never holding more than MaxChunksInFlight chunk messages (it
// stops reading the socket instead of answering busy).
//
// Forms: a chunk's data however it is written (the long base64 string
// taken out of the message, JSON escapes, short) is hashed as its bytes; a
// long string in another member, long text that is not base64 and a long
// uploadId are refused, leaving the upload as it was.
//
// Then the signature is followed, once no token request comes for the
// delay, by one return of the free memory to the system (memory.go); the
// upload's requests, which use no token, schedule none.
func TestUploadChunks(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	f.agent.memory.delay = 50 * time.Millisecond
	c := f.dial(t, siteOrigin)
	id := f.ids[0].Cert.Thumbprint()
	up := mustCall[struct {
		UploadID string `json:"uploadId"`
		Window   int    `json:"window"`
	}](t, c, "upload.begin", map[string]any{"certId": id})
	if up.Window != 2 {
		t.Errorf("upload.begin: window %d, want 2 (MaxChunksInFlight)", up.Window)
	}

	// Sent ahead. Sizes differ, so that the running totals tell the order.
	var doc []byte
	var replies []chan rpcReply
	var want []int64
	for i := range 10 {
		part := make([]byte, 50<<10+i*1000) // base64 above minBigText
		rand.Read(part)
		doc = append(doc, part...)
		want = append(want, int64(len(doc)))
		replies = append(replies, c.send(t, "upload.chunk", map[string]any{"uploadId": up.UploadID, "data": part}))
	}
	for i, ch := range replies {
		select {
		case r := <-ch:
			if r.Error != nil {
				t.Fatalf("chunk %d: %+v", i, r.Error)
			}
			var got map[string]int64
			json.Unmarshal(r.Result, &got)
			if got["received"] != want[i] {
				t.Errorf("chunk %d: received %d, want %d", i, got["received"], want[i])
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("chunk %d: no answer", i)
		}
	}
	held := int32(0)
	f.agent.mu.Lock()
	for cn := range f.agent.conns {
		held = max(held, cn.chunksHeldMax.Load())
	}
	f.agent.mu.Unlock()
	if held < 1 || held > 2 {
		t.Errorf("the agent held %d chunk messages at once, want 1..2 (MaxChunksInFlight)", held)
	}

	// Forms.
	raw := func(t *testing.T, params string) (json.RawMessage, *Error) {
		t.Helper()
		var p json.RawMessage = []byte(params)
		return c.call(t, "upload.chunk", p)
	}
	part := func(n int) ([]byte, string) {
		b := make([]byte, n)
		rand.Read(b)
		return b, base64.StdEncoding.EncodeToString(b)
	}
	uid := `"uploadId":"` + up.UploadID + `"`
	b, s := part(50 << 10) // long, plain: the fast road
	if _, e := raw(t, `{`+uid+`, "data" : "`+s+`"}`); e != nil {
		t.Fatal(e)
	}
	doc = append(doc, b...)
	b, s = part(49<<10 + 1) // long with \/ escapes: decoded whole
	if _, e := raw(t, `{"data":"`+strings.ReplaceAll(s, "/", `\/`)+`",`+uid+`}`); e != nil {
		t.Fatal(e)
	}
	doc = append(doc, b...)
	b, s = part(1000) // short
	if _, e := raw(t, `{`+uid+`,"data":"`+s+`"}`); e != nil {
		t.Fatal(e)
	}
	doc = append(doc, b...)
	_, s = part(49 << 10)
	for _, params := range []string{
		`{` + uid + `,"data":"eA==","extra":"` + s + `"}`,
		`{` + uid + `,"data":"` + s[:len(s)-4] + `!!!!"}`,
		`{` + uid + `,"data":"` + s[:len(s)-1] + `"}`,
		`{"uploadId":"` + s + `","data":"eA=="}`,
	} {
		if _, e := raw(t, params); e == nil {
			t.Fatalf("accepted %.80s…", params)
		}
	}
	res := mustCall[map[string]int64](t, c, "upload.chunk", map[string]any{"uploadId": up.UploadID, "data": []byte{}})
	if res["received"] != int64(len(doc)) {
		t.Fatalf("received %d, want %d", res["received"], len(doc))
	}

	time.Sleep(200 * time.Millisecond)
	if n := f.agent.memory.released.Load(); n != 0 {
		t.Fatalf("memory released %d times before any token request", n)
	}
	u := f.expect(answer{Approve: true, PIN: testPIN})
	sig := mustCall[SignResult](t, c, "sign", map[string]any{"certId": id, "uploadId": up.UploadID})
	u.wait(t)
	rep, err := verify.Verify(context.Background(), sig.CMS, verify.Options{Roots: []*certs.Certificate{f.pki.Root.Cert}, Content: bytes.NewReader(doc)})
	if err != nil || rep.Indication != verify.TotalPassed {
		t.Fatalf("verify: %v %+v", err, rep)
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.agent.memory.released.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if n := f.agent.memory.released.Load(); n != 1 {
		t.Fatalf("memory released %d times after a signature, want 1", n)
	}
}

// FuzzDecodeMessage: taking a long base64 string out before parsing
// changes nothing — the same request (method, id, params with the text
// put back) or an error exactly when decodeRequest gives one.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"upload.chunk","params":{"uploadId":"u","data":"QUJDREVGR0g="}}`,
		`{"jsonrpc":"2.0","id":1,"method":"upload.chunk","params":{"data":"QUJDREVGR0g=","data":"QUJDREVGR0g="}}`,
		`{"jsonrpc":"2.0","id":"QUJDREVGR0g=","method":"upload.chunk","params":{"data":"x"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"upload.chunk","params":{"data":"x"},"more":"QUJDREVGR0g="}`,
		`{"jsonrpc":"2.0","id":1,"method":"upload.chunk","params":{"data":"QUJDRE\"VGR0g="}}`,
		`{"jsonrpc":"2.0","id":1,"method":"sign","params":{"data":"QUJDREVGR0g="}}`,
		`{"jsonrpc":"2.0","id":1,"method":"upload.chunk","params":{"data":"QUJDREVGR0g="}`,
		`{"jsonrpc":"2.0","id":1,"method":"upload.chunk","params":{"data":"QUJDREVGR0g=\\"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := decodeRequest(bytes.Clone(data))
		got, gerr := decodeMessageMin(data, 8)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: errors %v and %v", data, werr, gerr)
		}
		if werr != nil {
			return
		}
		if got.Method != want.Method || !bytes.Equal(got.ID, want.ID) {
			t.Fatalf("%q: %+v, want %+v", data, got, want)
		}
		params := got.Params
		if got.big != nil {
			// Put the text back where the placeholder stands.
			if got.Method != "upload.chunk" || !isBase64(got.big.text) {
				t.Fatalf("%q: took out %q from a %s", data, got.big.text, got.Method)
			}
			at := -1
			for i := range params {
				if &params[i] == got.big.at {
					at = i
				}
			}
			if at < 0 {
				t.Fatalf("%q: the text taken out was not in the params", data)
			}
			params = append(append(append([]byte{}, params[:at+1]...), got.big.text...), params[at+1:]...)
		}
		if !jsonEqual(params, want.Params) {
			t.Fatalf("%q: params %q, want %q", data, params, want.Params)
		}
	})
}
