package serve_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type tlsFiles struct {
	caPEM                     []byte
	serverCert, serverKey, ca string
	client                    tls.Certificate
}

// makeTLS writes a CA, a server certificate for 127.0.0.1 and returns a
// client certificate, all ECDSA P-256.
func makeTLS(t *testing.T) tlsFiles {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kep serve test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, eku x509.ExtKeyUsage, ip bool) ([]byte, *ecdsa.PrivateKey) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{eku}}
		if ip {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600)
		return p
	}
	sDER, sKey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, true)
	sKeyDER, _ := x509.MarshalPKCS8PrivateKey(sKey)
	cDER, cKey := issue(3, "backend-1", x509.ExtKeyUsageClientAuth, false)
	f := tlsFiles{caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		serverCert: write("server.pem", "CERTIFICATE", sDER), serverKey: write("server.key", "PRIVATE KEY", sKeyDER), ca: write("ca.pem", "CERTIFICATE", caDER)}
	f.client = tls.Certificate{Certificate: [][]byte{cDER}, PrivateKey: cKey}
	return f
}

// TestTLSHTTP2AndClientCertificates: HTTPS with HTTP/2; a client
// certificate from the client CA authenticates, as does a bearer key;
// neither is refused.
func TestTLSHTTP2AndClientCertificates(t *testing.T) {
	f := getFixture(t)
	tf := makeTLS(t)
	cfg := f.baseConfig()
	cfg["tlsCert"], cfg["tlsKey"], cfg["clientCA"] = tf.serverCert, tf.serverKey, tf.ca
	in := f.start(t, cfg, nil)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(tf.caPEM)
	client := func(cert *tls.Certificate) *http.Client {
		tc := &tls.Config{RootCAs: pool}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}}
	}
	for _, tc := range []struct {
		name   string
		cert   *tls.Certificate
		bearer string
		status int
	}{
		{"client certificate", &tf.client, "", 200},
		{"bearer key", nil, "Bearer " + apiKey, 200},
		{"neither", nil, "", 401},
		{"wrong key", nil, "Bearer wrong-key-0123456789abc", 401},
	} {
		req, _ := http.NewRequest("GET", in.url+"/v1/trust", nil)
		if tc.bearer != "" {
			req.Header.Set("Authorization", tc.bearer)
		}
		resp, err := client(tc.cert).Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.ProtoMajor != 2 {
			t.Errorf("%s: %d over %s, want %d over HTTP/2", tc.name, resp.StatusCode, resp.Proto, tc.status)
		}
	}
	// HTTP/1.1 is served too.
	c := client(&tf.client)
	c.Transport.(*http.Transport).ForceAttemptHTTP2 = false
	c.Transport.(*http.Transport).TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	resp, err := c.Get(in.url + "/v1/trust")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 1 {
		t.Fatalf("HTTP/1.1: %d %s", resp.StatusCode, resp.Proto)
	}
	if logs := in.logs.String(); !strings.Contains(logs, `"caller":"cert:backend-1"`) || !strings.Contains(logs, `"proto":"HTTP/2.0"`) {
		t.Fatalf("the log does not name the caller and protocol:\n%s", logs)
	}
}

// TestGracefulShutdown: SIGTERM while a verification streams its content:
// that request is answered in full, new connections are refused, the
// process exits 0.
func TestGracefulShutdown(t *testing.T) {
	f := getFixture(t)
	in := f.start(t, f.baseConfig(), nil)
	sig, _ := os.ReadFile(f.sig)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	started := make(chan struct{})
	go func() {
		w, _ := mw.CreateFormFile("signature", "s")
		w.Write(sig)
		w, _ = mw.CreateFormFile("content", "c")
		close(started)
		for i := 0; i < 20; i++ { // 20 × 32 KiB over 2 s: 320 KiB/s, above minBodyRate
			if _, err := w.Write(make([]byte, 32<<10)); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", in.url+"/v1/signatures/verify", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+apiKey)
	type answer struct {
		status int
		ind    string
		err    error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- answer{err: err}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- answer{status: resp.StatusCode, ind: resp.Header.Get("Kep-Indication")}
	}()
	<-started
	time.Sleep(500 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- in.stop(t) }()
	// Wait until the server has stopped listening, then check it refuses.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(in.logs.String(), "shutting down") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if resp, err := (&http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}).Get(in.url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("a new connection was served during the shutdown: %d", resp.StatusCode)
	}
	a := <-done
	if a.err != nil || a.status != 200 || a.ind == "" {
		t.Fatalf("the request in flight: %+v", a)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("kep serve exited with %v", err)
	}
	if !strings.Contains(in.logs.String(), `"msg":"stopped"`) {
		t.Fatalf("log:\n%s", in.logs.String())
	}
}
