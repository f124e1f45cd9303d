package revocation

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/certs"
)

// TestCheckTimes: the freshness window at its edges, with the default skew
// (5 minutes) and age limit (7 days) and with a policy's own.
func TestCheckTimes(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, c := range []struct {
		name             string
		policy           Policy
		this, next       time.Time
		kind             failureKind // with ok false
		ok               bool
		detailStartsWith string
	}{
		{"no thisUpdate", Policy{}, time.Time{}, now.Add(time.Hour), invalid, false, "no thisUpdate"},
		{"thisUpdate within the skew", Policy{}, now.Add(5 * time.Minute), now.Add(time.Hour), 0, true, ""},
		{"thisUpdate beyond the skew", Policy{}, now.Add(5*time.Minute + time.Second), now.Add(time.Hour), outOfBounds, false, "thisUpdate 2026-06-01 12:05:01Z is after"},
		{"nextUpdate passed within the skew", Policy{}, now.Add(-day), now.Add(-5 * time.Minute), 0, true, ""},
		{"nextUpdate passed beyond the skew", Policy{}, now.Add(-day), now.Add(-5*time.Minute - time.Second), invalid, false, "stale: nextUpdate 2026-06-01 11:54:59Z"},
		{"no nextUpdate, 7 days old", Policy{}, now.Add(-7 * day), time.Time{}, 0, true, ""},
		{"no nextUpdate, older than 7 days", Policy{}, now.Add(-7*day - time.Second), time.Time{}, invalid, false, "stale: no nextUpdate and thisUpdate 2026-05-25 11:59:59Z is older than 168h0m0s"},
		{"own skew", Policy{MaxSkew: time.Minute}, now.Add(2 * time.Minute), now.Add(time.Hour), outOfBounds, false, "thisUpdate"},
		{"own age limit", Policy{MaxAge: time.Hour}, now.Add(-2 * time.Hour), time.Time{}, invalid, false, "stale: no nextUpdate"},
	} {
		f := (&Checker{Policy: c.policy}).checkTimes(SourceCRL, "http://x/y.crl", now, c.this, c.next)
		switch {
		case c.ok && f != nil:
			t.Errorf("%s: refused: %v", c.name, f)
		case !c.ok && f == nil:
			t.Errorf("%s: accepted", c.name)
		case !c.ok && (f.kind != c.kind || !strings.HasPrefix(f.err.Error(), c.detailStartsWith)):
			t.Errorf("%s: kind %d %q, want kind %d starting %q", c.name, f.kind, f.err, c.kind, c.detailStartsWith)
		}
	}
}

func TestReasonNameAndFailureText(t *testing.T) {
	for code, want := range map[int]string{-1: "", 0: "unspecified", 1: "keyCompromise", 8: "removeFromCRL", 10: "aACompromise", 11: "11"} {
		if got := reasonName(code); got != want {
			t.Errorf("reasonName(%d) = %q, want %q", code, got, want)
		}
	}
	if got := fail(unavailable, SourceOCSP, "", "no responder").Error(); got != "ocsp: no responder" {
		t.Errorf("without a URL: %q", got)
	}
	if got := fail(invalid, SourceCRL, "http://x/y.crl", "bad %s", "signature").Error(); got != "crl http://x/y.crl: bad signature" {
		t.Errorf("with a URL: %q", got)
	}
}

// leafWith issues, under ca, a leaf whose CRL distribution points are cdps.
func (ca *goCA) leafWith(t *testing.T, serial int64, cdps []string, exts ...pkix.Extension) *certs.Certificate {
	t.Helper()
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), CRLDistributionPoints: cdps, ExtraExtensions: exts}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.rootX, &ca.key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := certs.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// crl returns a CRL of ca's (or signed by key instead, when given) current
// from a minute ago for an hour.
func (ca *goCA) crl(t *testing.T, number int64, exts []pkix.Extension, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	if key == nil {
		key = ca.key
	}
	now := time.Now()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(number),
		ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour), ExtraExtensions: exts}, ca.rootX, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestCRLDistributionPoints: the first distribution point that answers is
// used; when none does, an invalid CRL counts more than an unreachable one
// (so soft-fail, which forgives only unreachable data, does not accept it),
// whichever comes first.
func TestCRLDistributionPoints(t *testing.T) {
	ca := newGoCA(t, "")
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca.srv.crls["/base.crl"] = ca.crl(t, 1, nil, nil)
	ca.srv.crls["/forged.crl"] = ca.crl(t, 1, nil, other)
	closed := "http://" + closedPort(t) + "/base.crl"
	good, forged := ca.url+"/base.crl", ca.url+"/forged.crl"
	ctx := context.Background()
	soft := &Checker{Policy: Policy{Mode: ModeCRL, SoftFail: true}}

	st, err := soft.Check(ctx, ca.leafWith(t, 10, []string{closed, good}), ca.root)
	expect(t, st, err, Good, SourceCRL, "")
	if st.URL != good || st.SoftFail {
		t.Errorf("unreachable, then good: answered by %s (soft-fail %v)", st.URL, st.SoftFail)
	}
	for name, cdps := range map[string][]string{"unreachable, then forged": {closed, forged}, "forged, then unreachable": {forged, closed}} {
		st, err := soft.Check(ctx, ca.leafWith(t, 11, cdps), ca.root)
		expect(t, st, err, Indeterminate, SourceCRL, SubTryLater)
		if st.URL != forged || st.SoftFail {
			t.Errorf("%s: reported %s (soft-fail %v), want the forged CRL's URL", name, st.URL, st.SoftFail)
		}
	}
	// Only unreachable points: soft-fail accepts, with both in the warnings.
	st, err = soft.Check(ctx, ca.leafWith(t, 12, []string{closed, "http://" + closedPort(t) + "/x.crl"}), ca.root)
	expect(t, st, err, Good, "", "")
	if !st.SoftFail || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], closed) {
		t.Errorf("only unreachable: soft-fail %v, warnings %q", st.SoftFail, st.Warnings)
	}
}

// TestDeltaCRLFallback: of the delta CRLs freshestCRL names, the first that
// can be fetched is used.
func TestDeltaCRLFallback(t *testing.T) {
	ca := newGoCA(t, "")
	closed := "http://" + closedPort(t) + "/delta.crl"
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, u := range []string{closed, ca.url + "/delta.crl"} {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(6).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(u)) })
					})
				})
			})
		}
	})
	freshest := pkix.Extension{Id: oidFreshestCRL, Value: b.BytesOrPanic()}
	ca.srv.crls["/base.crl"] = ca.crl(t, 5, []pkix.Extension{freshest}, nil)
	indicator, err := asnInteger(5)
	if err != nil {
		t.Fatal(err)
	}
	ca.srv.crls["/delta.crl"] = ca.crl(t, 6, []pkix.Extension{{Id: oidDeltaCRLIndicator, Critical: true, Value: indicator}}, nil)
	st, err := (&Checker{Policy: Policy{Mode: ModeCRL}}).Check(context.Background(), ca.leaf, ca.root)
	expect(t, st, err, Good, SourceCRL, "")
	if !strings.Contains(st.Detail, "and its delta CRL of") {
		t.Errorf("the delta CRL was not used: %s", st.Detail)
	}
}

func asnInteger(n int64) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1Int64(n)
	return b.Bytes()
}

// TestCRLRevalidation: a cached CRL is revalidated once CRLRefresh has
// passed — exactly then, not later — with If-None-Match when the server
// gave an ETag and If-Modified-Since when it gave a Last-Modified.
func TestCRLRevalidation(t *testing.T) {
	ca := newGoCA(t, "")
	body := ca.crl(t, 1, nil, nil)
	const lastModified = "Mon, 02 Jan 2006 15:04:05 GMT"
	var mu sync.Mutex
	var full, notModified int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Last-Modified", lastModified) // and no ETag
		if r.Header.Get("If-Modified-Since") == lastModified {
			notModified++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		full++
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	counts := func() (int, int) { mu.Lock(); defer mu.Unlock(); return full, notModified }
	leaf := ca.leafWith(t, 20, []string{srv.URL + "/lm.crl"})
	dir := t.TempDir()
	t0 := time.Now()
	at := func(d time.Duration) *Checker {
		return &Checker{CacheDir: dir, Now: func() time.Time { return t0.Add(d) }, Policy: Policy{Mode: ModeCRL, CRLRefresh: time.Minute}}
	}
	ctx := context.Background()
	var cached os.FileInfo // the cached CRL file after the first fetch
	for _, step := range []struct {
		at                time.Duration
		full, notModified int
	}{
		{0, 1, 0},                         // fetched and cached
		{time.Minute - time.Second, 1, 0}, // fresh: from the cache
		{time.Minute, 1, 1},               // due: revalidated, 304
	} {
		st, err := at(step.at).Check(ctx, leaf, ca.root)
		expect(t, st, err, Good, SourceCRL, "")
		if f, n := counts(); f != step.full || n != step.notModified {
			t.Errorf("at +%v: %d downloads and %d 304s, want %d and %d", step.at, f, n, step.full, step.notModified)
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.crl"))
		if err != nil || len(files) != 1 {
			t.Fatalf("cache: %v %v", files, err)
		}
		fi, err := os.Stat(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if cached == nil {
			cached = fi
		} else if !os.SameFile(cached, fi) {
			t.Errorf("at +%v: the unchanged CRL was written to the cache again", step.at)
		}
	}
}

// TestDownloadLimit: a body of exactly the limit is read, one byte more is
// refused, whether the server announces its length or streams it.
func TestDownloadLimit(t *testing.T) {
	const limit = 1000
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := limit
		if strings.HasSuffix(r.URL.Path, "/over") {
			n++
		}
		body := strings.Repeat("a", n)
		if strings.HasPrefix(r.URL.Path, "/chunked") {
			w.Write([]byte(body[:1])) // sent before the length is known
			w.(http.Flusher).Flush()
			w.Write([]byte(body[1:]))
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c := &Checker{}
	for _, path := range []string{"/sized", "/chunked"} {
		for _, over := range []bool{false, true} {
			u := srv.URL + path
			if over {
				u += "/over"
			}
			req, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, body, err := c.do(context.Background(), req, limit)
			switch {
			case over && !errors.Is(err, errTooLarge):
				t.Errorf("%s: %d bytes, %v; want errTooLarge", u, len(body), err)
			case !over && (err != nil || len(body) != limit):
				t.Errorf("%s: %d bytes, %v; want %d", u, len(body), err, limit)
			}
		}
	}
}

// TestCRLCacheUpdated: when revalidation brings a new CRL, the cache holds
// the new one afterwards (an offline check answers from it).
func TestCRLCacheUpdated(t *testing.T) {
	ca := newGoCA(t, "")
	leaf := ca.leafWith(t, 30, []string{ca.url + "/base.crl"})
	now := time.Now()
	issue := func(number int64, revoked ...x509.RevocationListEntry) []byte {
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(number),
			ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour), RevokedCertificateEntries: revoked}, ca.rootX, ca.key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	ctx := context.Background()
	dir := t.TempDir()
	ca.srv.crls["/base.crl"] = issue(1)
	st, err := (&Checker{CacheDir: dir, Policy: Policy{Mode: ModeCRL}}).Check(ctx, leaf, ca.root)
	expect(t, st, err, Good, SourceCRL, "")

	ca.srv.crls["/base.crl"] = issue(2, x509.RevocationListEntry{SerialNumber: big.NewInt(30), RevocationTime: now.Add(-time.Minute)})
	later := func() time.Time { return now.Add(2 * time.Minute) }
	st, err = (&Checker{CacheDir: dir, Now: later, Policy: Policy{Mode: ModeCRL, CRLRefresh: time.Minute}}).Check(ctx, leaf, ca.root)
	expect(t, st, err, Revoked, SourceCRL, SubRevokedNoPOE)

	off := &offline{}
	st, err = (&Checker{CacheDir: dir, Now: later, HTTP: &http.Client{Transport: off}, Policy: Policy{Mode: ModeCRL}}).Check(ctx, leaf, ca.root)
	expect(t, st, err, Revoked, SourceCRL, SubRevokedNoPOE)
	if off.n.Load() != 0 {
		t.Errorf("%d requests with the new CRL in the cache", off.n.Load())
	}
}
