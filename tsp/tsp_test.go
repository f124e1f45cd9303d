package tsp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/tsp"
)

func digest(t *testing.T, d *certs.Digest) []byte {
	b := make([]byte, 100)
	rand.Read(b)
	return d.Sum(b)
}

// TestTimestamp asks GOST and RSA TSAs (openssl ts -reply on loopback) for
// tokens over Streebog and SHA-256 digests; openssl ts -verify accepts them.
func TestTimestamp(t *testing.T) {
	p := testpki.New(t)
	ctx := context.Background()
	for _, tc := range []struct {
		key    testpki.Key
		digest string
	}{
		{testpki.CryptoProA, "streebog256"},
		{testpki.TC26512A, "streebog512"},
		{testpki.RSA2048, "sha256"},
	} {
		tsa := p.TSA(t, tc.key, "critical,timeStamping")
		d, _ := certs.DigestByName(tc.digest)
		sum := digest(t, d)
		before := time.Now().Add(-2 * time.Second)
		token, err := (&tsp.Client{URL: tsa.URL}).Timestamp(ctx, d, sum)
		if err != nil {
			t.Fatalf("%s: %v", tc.key.Name, err)
		}
		info, err := tsp.Parse(token)
		if err != nil {
			t.Fatal(err)
		}
		if info.Digest != d || !bytes.Equal(info.Hash, sum) || info.GenTime.Before(before) || info.GenTime.After(time.Now().Add(2*time.Second)) ||
			info.Policy.String() != "1.2.643.100.999.1" || info.Nonce == nil {
			t.Errorf("%s: %+v", tc.key.Name, info)
		}
		tokFile := p.O.WriteFile(t, tc.key.Name+".tst", token)
		if out, err := p.O.Run(nil, "ts", "-verify", "-digest", hex.EncodeToString(sum), "-token_in", "-in", tokFile,
			"-CAfile", p.Root.CertFile, "-untrusted", tsa.Identity.CertFile); err != nil || !strings.Contains(string(out), "OK") {
			t.Errorf("%s: openssl ts -verify: %v %s", tc.key.Name, err, out)
		}
	}
}

func TestTimestampFailures(t *testing.T) {
	p := testpki.New(t)
	ctx := context.Background()
	d := certs.Streebog256
	tsa := p.TSA(t, testpki.CryptoProA, "critical,timeStamping")
	c := &tsp.Client{URL: tsa.URL}

	var saved []byte
	tsa.Reply = func(_, reply []byte) []byte { saved = reply; return reply }
	if _, err := c.Timestamp(ctx, d, digest(t, d)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		reply func(q, r []byte) []byte
		want  error
	}{
		{"replayed answer", func(_, _ []byte) []byte { return saved }, tsp.ErrMismatch},
		{"garbage", func(_, _ []byte) []byte { return []byte("<html>") }, tsp.ErrFormat},
		{"empty", func(_, _ []byte) []byte { return nil }, tsp.ErrFormat},
		{"truncated", func(_, r []byte) []byte { return r[:len(r)/2] }, tsp.ErrFormat},
		// PKIStatusInfo rejection (2) with a text and failInfo badAlg and
		// badDataFormat (bits 0 and 5).
		{"rejection", func(_, _ []byte) []byte {
			return []byte{0x30, 0x0f, 0x30, 0x0d, 0x02, 0x01, 0x02, 0x30, 0x04, 0x0c, 0x02, 'n', 'o', 0x03, 0x02, 0x02, 0x84}
		}, tsp.ErrRejected},
		{"rejection without failInfo bits", func(_, _ []byte) []byte {
			return []byte{0x30, 0x0e, 0x30, 0x0c, 0x02, 0x01, 0x02, 0x30, 0x04, 0x0c, 0x02, 'n', 'o', 0x03, 0x01, 0x00}
		}, tsp.ErrRejected},
	} {
		tsa.Reply = tc.reply
		if _, err := c.Timestamp(ctx, d, digest(t, d)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		} else if strings.HasPrefix(tc.name, "rejection") {
			want := "status 2 no; badAlg; badDataFormat"
			if tc.name != "rejection" {
				want = "status 2 no"
			}
			if !strings.HasSuffix(err.Error(), want) {
				t.Errorf("%s: %q, want it to end %q", tc.name, err, want)
			}
		}
	}
	tsa.Reply = nil

	// An answer of exactly MaxResponse bytes is read (and then refused as
	// garbage); one byte more is refused for its size.
	for _, n := range []int{tsp.MaxResponse, tsp.MaxResponse + 1} {
		big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(bytes.Repeat([]byte{0x30}, n)) }))
		_, err := (&tsp.Client{URL: big.URL}).Timestamp(ctx, d, digest(t, d))
		big.Close()
		if over := err != nil && strings.Contains(err.Error(), "is over"); !errors.Is(err, tsp.ErrFormat) || over != (n > tsp.MaxResponse) {
			t.Errorf("%d-byte answer: %v", n, err)
		}
	}

	// A slow TSA, an HTTP error, a wrong digest size.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(2 * time.Second) }))
	defer slow.Close()
	if _, err := (&tsp.Client{URL: slow.URL, HTTP: &http.Client{Timeout: 200 * time.Millisecond}}).Timestamp(ctx, d, digest(t, d)); err == nil {
		t.Error("a TSA that never answers gave no error")
	}
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) }))
	defer broken.Close()
	if _, err := (&tsp.Client{URL: broken.URL}).Timestamp(ctx, d, digest(t, d)); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("HTTP 503: %v", err)
	}
	if _, err := c.Timestamp(ctx, d, []byte{1, 2, 3}); err == nil {
		t.Error("a 3-byte Streebog-256 digest was sent")
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte{0x30, 0x0e, 0x30, 0x0c, 0x02, 0x01, 0x02, 0x30, 0x04, 0x0c, 0x02, 'n', 'o', 0x03, 0x01, 0x00})
	f.Add([]byte{0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		token, err := tsp.ParseResponse(data)
		if err != nil {
			return
		}
		// The token is a part of the answer, and parsing it twice agrees.
		if !bytes.Contains(data, token) {
			t.Fatal("token not taken from the answer")
		}
		a, errA := tsp.Parse(token)
		b, errB := tsp.Parse(token)
		if (errA == nil) != (errB == nil) || errA == nil && (!a.GenTime.Equal(b.GenTime) || !bytes.Equal(a.Hash, b.Hash)) {
			t.Fatal("Parse is not deterministic")
		}
	})
}
