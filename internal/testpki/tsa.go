package testpki

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
)

// TSA is an RFC 3161 time-stamping authority on loopback: an HTTP handler
// that runs `openssl ts -reply` with a key certified by the PKI's root for
// timeStamping (critical, as RFC 3161 wants).
type TSA struct {
	URL      string
	Identity *Identity
	// Reply, when set, replaces the answer (to test broken TSAs); it gets
	// the request and openssl's reply.
	Reply func(query, reply []byte) []byte

	mu sync.Mutex
	n  int
}

// TSA starts a TSA whose key has type k and whose certificate has the
// extended key usage ext (e.g. "critical,timeStamping"); the server stops
// with the test.
func (p *PKI) TSA(t testing.TB, k Key, ext string) *TSA {
	t.Helper()
	p.n++
	name := fmt.Sprintf("tsa%d", p.n)
	key := p.genkey(t, name, k)
	csr := p.O.Path(name + ".csr")
	p.O.MustRun(t, nil, "req", "-new", "-key", key, "-subj", "/CN=kep test TSA "+name+"/O=kep tests/C=RU", "-out", csr)
	extFile := p.O.WriteFile(t, name+".ext", []byte("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n"+
		"extendedKeyUsage="+ext+"\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"))
	cert := p.O.Path(name + ".pem")
	p.O.MustRun(t, nil, "x509", "-req", "-in", csr, "-CA", p.Root.CertFile, "-CAkey", p.Root.KeyFile,
		"-md_gost12_256", "-days", "3650", "-set_serial", fmt.Sprint(5000+p.n), "-extfile", extFile, "-out", cert)
	md := k.MD
	if md == "" {
		md = "sha256"
	}
	p.O.WriteFile(t, name+".serial", []byte("01\n"))
	conf := p.O.WriteFile(t, name+".cnf", []byte(fmt.Sprintf(`[tsa]
default_tsa = tsa1
[tsa1]
serial = %s
signer_digest = %s
default_policy = 1.2.643.100.999.1
digests = md_gost12_256, md_gost12_512, sha256, sha384, sha512
accuracy = secs:1
ess_cert_id_alg = sha256
ess_cert_id_chain = no
`, p.O.Path(name+".serial"), md)))
	tsa := &TSA{Identity: p.load(t, k, cert, key)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil || r.Header.Get("Content-Type") != "application/timestamp-query" {
			http.Error(w, "bad query", http.StatusBadRequest)
			return
		}
		tsa.mu.Lock()
		tsa.n++
		n := tsa.n
		tsa.mu.Unlock()
		q := p.O.WriteFile(t, fmt.Sprintf("%s-q%d.tsq", name, n), query)
		out := p.O.Path(fmt.Sprintf("%s-r%d.tsr", name, n))
		if _, err := p.O.Run(nil, "ts", "-reply", "-queryfile", q, "-signer", cert, "-inkey", key, "-config", conf, "-section", "tsa1", "-out", out); err != nil {
			// openssl writes a rejection too when it can; otherwise fail.
			if _, serr := os.Stat(out); serr != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		reply, err := os.ReadFile(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if tsa.Reply != nil {
			reply = tsa.Reply(query, reply)
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(reply)
	}))
	t.Cleanup(srv.Close)
	tsa.URL = srv.URL
	return tsa
}
