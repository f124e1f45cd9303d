package revocation

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
)

// ocspAnswer asks responder u (a loopback server of the fixture) about cert
// with a SHA-1 CertID and no nonce, as a pre-signed responder is asked.
func ocspAnswer(t *testing.T, u string, cert, issuer *certs.Certificate) []byte {
	t.Helper()
	id, err := newCertID(certs.SHA1, cert, issuer)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(u, "application/ocsp-request", bytes.NewReader(buildOCSPRequest(id.marshal(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %v %s", u, err, resp.Status)
	}
	return b
}

// TestCheckOCSPOffline: responses of a real responder (openssl ocsp, GOST
// delegated signer, -ndays 1) checked without network as evidence for
// different times.
func TestCheckOCSPOffline(t *testing.T) {
	f := newFixture(t)
	root := f.root
	now := time.Now()
	good := ocspAnswer(t, f.ocspURL, f.good, root)
	revoked := ocspAnswer(t, f.ocspURL, f.revoked, root)
	rogue := ocspAnswer(t, f.rogueLeaf.OCSPServer[0], f.rogueLeaf, root)
	info, err := ParseOCSPInfo(good)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(good, info.Basic) || len(info.ResponderID) == 0 || info.ProducedAt.IsZero() {
		t.Fatalf("info %+v", info)
	}
	// The last digit of producedAt's seconds, inside the signed part.
	tampered := append([]byte(nil), good...)
	i := bytes.Index(tampered, info.ResponderID)
	if i < 0 || tampered[i+len(info.ResponderID)] != 0x18 {
		t.Fatalf("producedAt does not follow the ResponderID")
	}
	tampered[i+len(info.ResponderID)+2+13] ^= 1

	for _, c := range []struct {
		name        string
		der         []byte
		cert        *certs.Certificate
		at, latest  time.Time
		state       string
		err         error
		wantRevoked bool
	}{
		{"good now", good, f.good, now, now, Good, nil, false},
		{"good, the BasicOCSPResponse alone", info.Basic, f.good, now, now, Good, nil, false},
		// Issued after the time being proven: fresh for it (EN 319 102-1 5.2.5).
		{"good, issued after a proof-of-existence time", good, f.good, now.Add(-72 * time.Hour), now, Good, nil, false},
		{"good, verified years later for the old time", good, f.good, now.Add(-time.Minute), now.Add(3 * 365 * 24 * time.Hour), Good, nil, false},
		{"stale for a time after nextUpdate", good, f.good, now.Add(49 * time.Hour), now.Add(49 * time.Hour), "", ErrNotFresh, false},
		{"issued after the verification itself", good, f.good, now.Add(-2 * time.Hour), now.Add(-time.Hour), "", ErrNotFresh, false},
		{"revoked an hour ago", revoked, f.revoked, now, now, Revoked, nil, true},
		{"revoked after the proven time", revoked, f.revoked, now.Add(-2 * time.Hour), now, Good, nil, false},
		{"another certificate's response", good, f.staticLeaf, now, now, "", ErrNotForCertificate, false},
		{"responder without authority", rogue, f.rogueLeaf, now, now, "", ErrNotAuthorised, false},
		{"tampered", tampered, f.good, now, now, "", ErrBadSignature, false},
		{"garbage", []byte{0x30, 0x03, 0x02, 0x01, 0x00}, f.good, now, now, "", ErrMalformedOCSP, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := CheckOCSP(c.der, c.cert, root, c.at, c.latest, Policy{})
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("got %v (%+v), want %v", err, st, c.err)
				}
				return
			}
			if err != nil || st.State != c.state || (c.wantRevoked && st.RevokedAt.IsZero()) {
				t.Fatalf("got %+v, %v; want %s", st, err, c.state)
			}
		})
	}

	// Offline: the first usable item answers; a revocation is not hidden
	// by a good answer for another certificate; nothing usable is TRY_LATER.
	_, crl := f.p.CRL(t)
	off := &Offline{OCSP: [][]byte{good, revoked}, CRLs: []*certs.CRL{crl}}
	for _, c := range []struct {
		cert  *certs.Certificate
		state string
	}{{f.good, Good}, {f.revoked, Revoked}, {f.crlGood, Good}} {
		st, err := off.CheckRevocation(context.Background(), c.cert, root, now)
		if err != nil || st.State != c.state {
			t.Errorf("%s: %+v %v, want %s", c.cert.SubjectString(), st, err, c.state)
		}
	}
	if st := (&Offline{OCSP: [][]byte{good}}).Check(f.crlGood, root, now); st.State != Indeterminate || st.SubIndication != SubTryLater {
		t.Errorf("no evidence: %+v", st)
	}
	if st := (&Offline{OCSP: [][]byte{good}}).Check(f.good, root, now.Add(49*time.Hour)); st.State != Indeterminate {
		t.Errorf("stale evidence: %+v", st)
	}

	// RevocationData gives what answered, as received.
	data, err := (&Checker{}).RevocationData(context.Background(), f.good, root)
	if err != nil || len(data) != 1 {
		t.Fatalf("RevocationData: %v", err)
	}
	if st, err := CheckOCSP(data[0], f.good, root, now, time.Time{}, Policy{}); err != nil || st.State != Good {
		t.Fatalf("fetched data checked offline: %+v %v", st, err)
	}
	if _, err := (&Checker{}).RevocationData(context.Background(), f.revoked, root); err == nil {
		t.Error("revocation data for a revoked certificate")
	}
	data, err = (&Checker{Policy: Policy{Mode: ModeCRL}}).RevocationData(context.Background(), f.crlGood, root)
	if err != nil || len(data) != 1 {
		t.Fatalf("CRL RevocationData: %v", err)
	}
	if l, err := certs.ParseCRL(data[0]); err != nil || !bytes.Equal(l.RawIssuer, root.RawSubject) {
		t.Fatalf("CRL RevocationData is not the root's CRL: %v", err)
	}
	// No caIssuers address: no issuer, and no request made.
	tr := &offline{}
	if _, err := (&Checker{HTTP: &http.Client{Transport: tr}}).FetchIssuer(context.Background(), f.good); !errors.Is(err, ErrNoIssuer) || tr.n.Load() != 0 {
		t.Errorf("FetchIssuer without caIssuers: %v, %d requests", err, tr.n.Load())
	}
}

// FuzzParseOCSPInfo: no input panics; what parses keeps the
// BasicOCSPResponse and the ResponderID as received (inside the input), and
// the BasicOCSPResponse alone parses to the same identifier.
func FuzzParseOCSPInfo(f *testing.F) {
	for _, r := range seedResponses() {
		f.Add(buildResponse(r))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		info, err := ParseOCSPInfo(der)
		if err != nil {
			if !errors.Is(err, ErrMalformedOCSP) {
				t.Fatalf("error %v is not ErrMalformedOCSP", err)
			}
			return
		}
		if !bytes.Contains(der, info.Basic) || !bytes.Contains(info.Basic, info.ResponderID) || len(info.ResponderID) == 0 {
			t.Fatalf("info not taken from the input: %x", info.ResponderID)
		}
		again, err := ParseOCSPInfo(info.Basic)
		if err != nil || !bytes.Equal(again.ResponderID, info.ResponderID) || !again.ProducedAt.Equal(info.ProducedAt) || !bytes.Equal(again.Basic, info.Basic) {
			t.Fatalf("the BasicOCSPResponse alone: %+v %v", again, err)
		}
	})
}
