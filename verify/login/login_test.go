package login

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
)

// fakeRevocation stands in for an OCSP responder's verdict (the real
// checker, certs/revocation, is tested against openssl ocsp there).
type fakeRevocation struct {
	res *certs.RevocationStatus
	err error
}

func (f fakeRevocation) CheckRevocation(context.Context, *certs.Certificate, *certs.Certificate, time.Time) (*certs.RevocationStatus, error) {
	return f.res, f.err
}

// TestLogin runs every login case against one PKI: each refusal comes with
// its own reason.
func TestLogin(t *testing.T) {
	p := testpki.New(t)
	good := issue(t, p, qualifiedSubj, extLogin, 3650)
	plain := p.Leaf(t, testpki.CryptoProA, "Петров Пётр") // no EKU: login allowed
	shortLived := issue(t, p, "/CN=short/C=RU", extLogin, 1)
	encipher := issue(t, p, "/CN=encipher only/C=RU", extEncipher, 3650)
	emailOnly := issue(t, p, "/CN=email only/C=RU", extEmailOnly, 3650)
	revoked := issue(t, p, "/CN=revoked/C=RU", extLogin, 3650)
	_, crl := p.CRL(t, revoked)
	_, emptyCRL := p.CRL(t)
	other := testpki.New(t)
	stranger := other.Leaf(t, testpki.CryptoProA, "stranger")

	// Whole seconds, as signingTime and the challenge's times are: the
	// boundary cases below land exactly on MaxSkew and on the expiry.
	base := time.Now().Truncate(time.Second)
	tamper := func(b []byte) []byte {
		r, err := ParseResponse(b)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(r.CMS, []byte(`"clientTime":"`))
		if i < 0 {
			t.Fatal("no clientTime in the CMS")
		}
		i += len(`"clientTime":"`) + 3 // the year's last digit
		r.CMS[i] ^= 1
		out, _ := r.Marshal()
		return out
	}

	type tc struct {
		name                      string
		id                        *testpki.Identity
		format                    Format
		issueAt, signAt, verifyAt time.Duration
		issueOrigin, signOrigin   string // signOrigin: the origin the client puts in a bound document
		verifyOrigin              string
		ignoreSkew                bool
		otherStore                bool // the challenge comes from another store
		verifier                  func(*Verifier)
		mutate                    func([]byte) []byte
		twice                     bool // verify the same response twice, the second is checked
		want                      string
		wantDetail                string
		wantSub                   string
	}
	cases := []tc{
		{name: "good bound", id: good},
		{name: "good esia-compatible", id: good, format: FormatESIACompatible},
		{name: "good without EKU", id: plain},
		{name: "good with CRL", id: good, verifier: func(v *Verifier) { v.CRLs = append(v.CRLs, crl) }},
		{name: "esia-compatible not allowed", id: good, format: FormatESIACompatible, verifier: func(v *Verifier) { v.AllowESIACompatible = false }, want: ReasonFormat},
		{name: "replayed", id: good, twice: true, want: ReasonNonceUnknown, wantDetail: "replayed"},
		{name: "replayed esia", id: good, format: FormatESIACompatible, twice: true, want: ReasonNonceUnknown, wantDetail: "replayed"},
		{name: "unknown nonce", id: good, otherStore: true, want: ReasonNonceUnknown, wantDetail: "not issued"},
		{name: "expired nonce", id: good, signAt: 4 * time.Minute, verifyAt: 6 * time.Minute, want: ReasonNonceExpired},
		{name: "other origin", id: good, verifyOrigin: "https://evil.example", want: ReasonOriginMismatch},
		{name: "other origin esia", id: good, format: FormatESIACompatible, verifyOrigin: "https://evil.example", want: ReasonOriginMismatch},
		{name: "relayed bound", id: good, signOrigin: "https://evil.example", want: ReasonOriginMismatch, wantDetail: "signed a login to https://evil.example"},
		{name: "client clock ahead", id: good, signAt: 10 * time.Minute, ignoreSkew: true, want: ReasonClockSkew},
		{name: "client clock behind", id: good, signAt: -10 * time.Minute, ignoreSkew: true, want: ReasonClockSkew},
		{name: "custom skew", id: good, signAt: 2 * time.Minute, verifier: func(v *Verifier) { v.MaxSkew = time.Minute }, want: ReasonClockSkew},
		{name: "custom skew allows more", id: good, signAt: 8 * time.Minute, ignoreSkew: true, verifier: func(v *Verifier) { v.MaxSkew = 10 * time.Minute }},
		{name: "skew exactly MaxSkew ahead", id: good, signAt: DefaultMaxSkew},
		{name: "skew exactly MaxSkew behind", id: good, signAt: -DefaultMaxSkew},
		{name: "skew a second over, ahead", id: good, signAt: DefaultMaxSkew + time.Second, ignoreSkew: true, want: ReasonClockSkew, wantDetail: "signingTime"},
		{name: "skew a second over, behind", id: good, signAt: -DefaultMaxSkew - time.Second, ignoreSkew: true, want: ReasonClockSkew, wantDetail: "signingTime"},
		{name: "at the expiry", id: good, signAt: DefaultTTL, verifyAt: DefaultTTL},
		{name: "a second after the expiry", id: good, signAt: DefaultTTL, verifyAt: DefaultTTL + time.Second, want: ReasonNonceExpired},
		{name: "expired certificate", id: shortLived, issueAt: 72 * time.Hour, signAt: 72 * time.Hour, verifyAt: 72 * time.Hour, want: ReasonCertExpired, wantSub: certs.SubOutOfBoundsNoPOE},
		{name: "certificate not yet valid", id: good, issueAt: -48 * time.Hour, signAt: -48 * time.Hour, verifyAt: -48 * time.Hour, want: ReasonCertNotYetValid, wantSub: certs.SubNotYetValid},
		{name: "revoked certificate", id: revoked, verifier: func(v *Verifier) { v.CRLs = append(v.CRLs, crl) }, want: ReasonCertRevoked, wantSub: certs.SubRevokedNoPOE},
		{name: "untrusted CA", id: stranger, want: ReasonChainUntrusted, wantSub: certs.SubNoCertificateChainFound},
		{name: "no trust anchors", id: good, verifier: func(v *Verifier) { v.Roots = nil }, want: ReasonChainUntrusted},
		{name: "keyEncipherment only", id: encipher, want: ReasonKeyUsage, wantSub: certs.SubChainConstraintsFailure},
		{name: "emailProtection only", id: emailOnly, want: ReasonKeyUsage, wantDetail: "clientAuth"},
		{name: "tampered content", id: good, mutate: tamper, want: ReasonSignatureInvalid, wantSub: verify.HashFailure},
		{name: "garbage", id: good, mutate: func([]byte) []byte { return []byte("{") }, want: ReasonFormat},
		{name: "not a CMS", id: good, mutate: func([]byte) []byte { return []byte(`{"format":"bound","cms":"MAA="}`) }, want: ReasonFormat, wantDetail: "cannot be read"},
		{name: "revocation checker: revoked", id: good, verifier: func(v *Verifier) {
			v.Revocation = fakeRevocation{res: &certs.RevocationStatus{State: certs.RevocationRevoked, RevokedAt: base.Add(-time.Hour), Reason: "keyCompromise", Source: "test"}}
		}, want: ReasonCertRevoked},
		{name: "revocation checker: unreachable", id: good, verifier: func(v *Verifier) { v.Revocation = fakeRevocation{err: errors.New("connection refused")} }, want: ReasonIndeterminate, wantSub: certs.SubTryLater},
		{name: "revocation checker: good", id: good, verifier: func(v *Verifier) {
			v.Revocation = fakeRevocation{res: &certs.RevocationStatus{State: certs.RevocationGood}}
			v.RequireRevocation = true
		}},
		{name: "revocation required, none given", id: good, verifier: func(v *Verifier) { v.RequireRevocation = true }, want: ReasonIndeterminate},
		{name: "revocation required, CRL given", id: good, verifier: func(v *Verifier) { v.RequireRevocation = true; v.CRLs = []*certs.CRL{emptyCRL} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.format == "" {
				c.format = FormatBound
			}
			if c.issueOrigin == "" {
				c.issueOrigin = defaultOrigin
			}
			if c.verifyOrigin == "" {
				c.verifyOrigin = c.issueOrigin
			}
			store := NewMemoryStore()
			issuer := &Issuer{Store: store, Now: clockAt(base, c.issueAt)}
			if c.otherStore {
				issuer.Store = NewMemoryStore()
			}
			ch, err := issuer.Challenge(bg, c.issueOrigin)
			if err != nil {
				t.Fatal(err)
			}
			if c.signOrigin != "" {
				ch.Origin = c.signOrigin
			}
			cl := &Client{Now: clockAt(base, c.signAt), IgnoreSkew: c.ignoreSkew}
			resp, err := cl.Sign(bg, ch, c.format, c.id.Signer, c.id.Cert)
			if err != nil {
				t.Fatal(err)
			}
			if c.mutate != nil {
				resp = c.mutate(resp)
			}
			v := &Verifier{Store: store, Roots: []*certs.Certificate{p.Root.Cert}, AllowESIACompatible: true, Now: clockAt(base, c.verifyAt)}
			if c.verifier != nil {
				c.verifier(v)
			}
			id, err := v.Verify(bg, c.verifyOrigin, resp)
			if c.twice {
				if err != nil {
					t.Fatalf("first login: %v", err)
				}
				id, err = v.Verify(bg, c.verifyOrigin, resp)
			}
			if c.want == "" {
				if err != nil {
					t.Fatalf("login refused: %v", err)
				}
				if id.Certificate.Thumbprint != c.id.Cert.Thumbprint() || id.Origin != c.verifyOrigin || id.Format != c.format {
					t.Fatalf("identity: %+v", id)
				}
				return
			}
			var r *RefusalError
			if !errors.As(err, &r) {
				t.Fatalf("want refusal %s, got identity %+v, error %v", c.want, id, err)
			}
			t.Log(r)
			if r.Reason != c.want || !strings.Contains(r.Detail, c.wantDetail) || (c.wantSub != "" && r.SubIndication != c.wantSub) {
				t.Fatalf("want %s (%s, %q), got %v", c.want, c.wantSub, c.wantDetail, r)
			}
			if store.Len() != 0 && !c.otherStore && c.name != "garbage" && c.name != "not a CMS" && c.name != "esia-compatible not allowed" {
				t.Errorf("the nonce was not consumed by a refused login")
			}
		})
	}
}

// TestIdentity checks the fields of a good login and the revocation status.
func TestIdentity(t *testing.T) {
	p := testpki.New(t)
	good := issue(t, p, qualifiedSubj, extLogin, 3650)
	_, crl := p.CRL(t)
	store := NewMemoryStore()
	for _, f := range []Format{FormatBound, FormatESIACompatible} {
		for _, withCRL := range []bool{false, true} {
			ch, err := (&Issuer{Store: store}).Challenge(bg, "HTTPS://Portal.Example.RU:443/")
			if err != nil {
				t.Fatal(err)
			}
			if ch.Origin != defaultOrigin {
				t.Fatalf("origin not normalised: %q", ch.Origin)
			}
			resp, err := Sign(bg, ch, f, good.Signer, good.Cert, nil)
			if err != nil {
				t.Fatal(err)
			}
			v := &Verifier{Store: store, Roots: []*certs.Certificate{p.Root.Cert}, AllowESIACompatible: true}
			if withCRL {
				v.CRLs = []*certs.CRL{crl}
			}
			id, err := v.Verify(bg, defaultOrigin, resp)
			if err != nil {
				t.Fatal(err)
			}
			want := Identity{Surname: "Иванов", GivenName: "Иван Иванович", CommonName: "Иванов Иван Иванович", Organization: "ООО Ромашка",
				Title: "Директор", SNILS: "11223344595", INN: "500100732259", OGRN: "1027700132195", INNLE: "7707083893"}
			got := *id
			got.Certificate, got.Origin, got.Format, got.SigningTime, got.Revocation, got.Qualified = CertRef{}, "", "", time.Time{}, "", nil
			if got != want {
				t.Fatalf("identity:\n got %+v\nwant %+v", got, want)
			}
			if id.Certificate.Serial != good.Cert.SerialHex() || id.Certificate.Thumbprint != good.Cert.Thumbprint() ||
				!id.Certificate.NotAfter.Equal(good.Cert.NotAfter) || !strings.Contains(id.Certificate.Issuer, "kep test root") {
				t.Fatalf("certificate: %+v", id.Certificate)
			}
			if time.Since(id.SigningTime) > time.Minute || len(id.Qualified.Problems) != 0 {
				t.Fatalf("signing time %v, problems %v", id.SigningTime, id.Qualified.Problems)
			}
			wantRev := verify.NotChecked
			if withCRL {
				wantRev = verify.Passed
			}
			if id.Revocation != wantRev {
				t.Fatalf("revocation %q, want %q", id.Revocation, wantRev)
			}
		}
	}
}

// TestClientSkew: the client refuses to sign when its clock is off, unless told to go on.
func TestClientSkew(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "skew")
	base := time.Now()
	ch, err := (&Issuer{Store: NewMemoryStore(), Now: clockAt(base, 0)}).Challenge(bg, defaultOrigin)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Sign(bg, ch, FormatBound, id.Signer, id.Cert, clockAt(base, 10*time.Minute))
	var se *SkewError
	if !errors.As(err, &se) || se.Skew.Round(time.Minute) != 10*time.Minute || se.MaxSkew != DefaultMaxSkew {
		t.Fatalf("want a SkewError of 10m, got %v", err)
	}
	if _, err := (&Client{Now: clockAt(base, 2*time.Minute), MaxSkew: time.Minute}).Sign(bg, ch, FormatBound, id.Signer, id.Cert); !errors.As(err, &se) {
		t.Fatalf("custom threshold: %v", err)
	}
	if _, err := (&Client{Now: clockAt(base, 10*time.Minute), IgnoreSkew: true}).Sign(bg, ch, FormatBound, id.Signer, id.Cert); err != nil {
		t.Fatalf("IgnoreSkew: %v", err)
	}
	if _, err := Sign(bg, ch, FormatBound, id.Signer, id.Cert, clockAt(base, 4*time.Minute)); err != nil {
		t.Fatalf("4 minutes: %v", err)
	}
}

// TestESIAString: a challenge known only as a string is signed as is and
// verified like an esia-compatible response.
func TestESIAString(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "esia")
	store := NewMemoryStore()
	ch, err := (&Issuer{Store: store}).Challenge(bg, "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := SignString(bg, ch.Nonce, id.Signer, id.Cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseResponse(resp)
	if err != nil || r.Format != FormatESIACompatible {
		t.Fatal(r, err)
	}
	rep, err := verify.Verify(bg, r.CMS, verify.Options{Roots: []*certs.Certificate{p.Root.Cert}, Purpose: certs.PurposeLogin})
	if err != nil || rep.Indication != verify.TotalPassed || string(rep.Content) != ch.Nonce {
		t.Fatalf("%v %v %q", err, rep.Indication, rep.Content)
	}
	v := &Verifier{Store: store, Roots: []*certs.Certificate{p.Root.Cert}, AllowESIACompatible: true}
	if _, err := v.Verify(bg, "http://localhost:8080", resp); err != nil {
		t.Fatal(err)
	}
}

// TestNonCanonicalDocument: a bound document that is not in canonical form is refused.
func TestNonCanonicalDocument(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "canon")
	store := NewMemoryStore()
	ch, err := (&Issuer{Store: store}).Challenge(bg, defaultOrigin)
	if err != nil {
		t.Fatal(err)
	}
	doc := NewBoundDocument(ch.Origin, ch.Nonce, ch.ServerTime, time.Now())
	canon := doc.Marshal()
	for _, content := range [][]byte{
		bytes.Replace(canon, []byte(`,"nonce"`), []byte(`, "nonce"`), 1),
		bytes.Replace(canon, []byte(`Z","clientTime"`), []byte(`+00:00","clientTime"`), 1),
		append(append([]byte{}, canon[:len(canon)-1]...), []byte(`,"extra":"x"}`)...),
		[]byte(strings.Replace(string(canon), BoundFormat, "kep-login-v2", 1)),
		[]byte(strings.Replace(string(canon), defaultOrigin, defaultOrigin+"/", 1)),
	} {
		cmsDER, err := sign.Sign(bg, bytes.NewReader(content), id.Signer, id.Cert, sign.Options{Attached: true})
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := (&Response{Format: FormatBound, CMS: cmsDER}).Marshal()
		v := &Verifier{Store: store, Roots: []*certs.Certificate{p.Root.Cert}}
		var r *RefusalError
		if _, err := v.Verify(bg, defaultOrigin, resp); !errors.As(err, &r) || r.Reason != ReasonFormat {
			t.Fatalf("%s: %v", content, err)
		}
	}
	// A detached signature is refused as FORMAT too.
	cmsDER, err := sign.Sign(bg, bytes.NewReader(canon), id.Signer, id.Cert, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := (&Response{Format: FormatBound, CMS: cmsDER}).Marshal()
	var r *RefusalError
	if _, err := (&Verifier{Store: store, Roots: []*certs.Certificate{p.Root.Cert}}).Verify(bg, defaultOrigin, resp); !errors.As(err, &r) || r.Reason != ReasonFormat {
		t.Fatalf("detached: %v", err)
	}
}

// TestBoundDocumentWholeSeconds: a bound document's times are whole seconds.
// time.Parse takes a fraction of a second even when the layout has none, so
// "2026-01-02T15:04:05.5Z" passed as canonical until ParseBoundDocument
// compared each time with its canonical form.
func TestBoundDocumentWholeSeconds(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	d := NewBoundDocument(defaultOrigin, strings.Repeat("N", 43), t0, t0)
	for _, set := range []func(*BoundDocument){
		func(d *BoundDocument) { d.ServerTime = "2026-01-02T15:04:05.5Z" },
		func(d *BoundDocument) { d.ClientTime = "2026-01-02T15:04:05.000Z" },
	} {
		bad := d
		set(&bad)
		if _, err := ParseBoundDocument(bad.Marshal()); err == nil {
			t.Errorf("accepted %s", bad.Marshal())
		}
	}
	if _, err := ParseBoundDocument(d.Marshal()); err != nil {
		t.Fatal(err)
	}
}

// TestClientTimeSkew: a bound document's clientTime is held to MaxSkew on
// its own, whatever the signingTime attribute says.
func TestClientTimeSkew(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "client time")
	now := time.Now().Truncate(time.Second)
	store := NewMemoryStore()
	v := &Verifier{Store: store, Roots: []*certs.Certificate{p.Root.Cert}, Now: func() time.Time { return now }}
	for _, tc := range []struct {
		off  time.Duration
		want string
	}{{DefaultMaxSkew, ""}, {-DefaultMaxSkew, ""}, {DefaultMaxSkew + time.Second, ReasonClockSkew}, {-DefaultMaxSkew - time.Second, ReasonClockSkew}} {
		ch, err := (&Issuer{Store: store, Now: func() time.Time { return now }}).Challenge(bg, defaultOrigin)
		if err != nil {
			t.Fatal(err)
		}
		doc := NewBoundDocument(ch.Origin, ch.Nonce, ch.ServerTime, now.Add(tc.off)).Marshal()
		der, err := sign.Sign(bg, bytes.NewReader(doc), id.Signer, id.Cert, sign.Options{Attached: true, SigningTime: now})
		if err != nil {
			t.Fatal(err)
		}
		resp, _ := (&Response{Format: FormatBound, CMS: der}).Marshal()
		_, err = v.Verify(bg, defaultOrigin, resp)
		var r *RefusalError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("clientTime %v off: %v", tc.off, err)
		case tc.want != "" && (!errors.As(err, &r) || r.Reason != tc.want || !strings.HasPrefix(r.Detail, "clientTime")):
			t.Errorf("clientTime %v off: %v, want %s naming clientTime", tc.off, err, tc.want)
		}
	}
}

// TestResponseStructure: what a login response must be besides a valid
// signature — one signer, a signingTime, a nonce as the esia-compatible
// content — and a Verifier without a store is an error, not a refusal. Each
// refusal still consumes the nonce.
func TestResponseStructure(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "structure")
	second := p.Leaf(t, testpki.CryptoProA, "second signer")
	store := NewMemoryStore()
	v := &Verifier{Store: store, Roots: []*certs.Certificate{p.Root.Cert}, AllowESIACompatible: true}
	challenge := func() *Challenge {
		ch, err := (&Issuer{Store: store}).Challenge(bg, defaultOrigin)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	for _, tc := range []struct {
		name       string
		make       func(ch *Challenge) []byte // the response
		wantDetail string
	}{
		{"two signers", func(ch *Challenge) []byte {
			doc := NewBoundDocument(ch.Origin, ch.Nonce, ch.ServerTime, time.Now()).Marshal()
			der, err := sign.Sign(bg, bytes.NewReader(doc), id.Signer, id.Cert, sign.Options{Attached: true})
			if err != nil {
				t.Fatal(err)
			}
			if der, err = sign.Cosign(bg, der, nil, second.Signer, second.Cert, sign.Options{}); err != nil {
				t.Fatal(err)
			}
			resp, _ := (&Response{Format: FormatBound, CMS: der}).Marshal()
			return resp
		}, "2 signers"},
		{"esia-compatible content not a nonce", func(ch *Challenge) []byte {
			// The nonce is spoiled by a character outside base64url.
			resp, err := SignString(bg, ch.Nonce[:42]+"=", id.Signer, id.Cert, nil)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}, "not a nonce"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := store.Len()
			resp := tc.make(challenge())
			_, err := v.Verify(bg, defaultOrigin, resp)
			var r *RefusalError
			if !errors.As(err, &r) || r.Reason != ReasonFormat || !strings.Contains(r.Detail, tc.wantDetail) {
				t.Fatalf("%v, want FORMAT (%s)", err, tc.wantDetail)
			}
			if tc.wantDetail == "2 signers" && store.Len() != before {
				t.Error("the nonce was not consumed")
			}
		})
	}
	ch := challenge()
	resp, err := Sign(bg, ch, FormatBound, id.Signer, id.Cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	var r *RefusalError
	if _, err := (&Verifier{Roots: v.Roots}).Verify(bg, defaultOrigin, resp); err == nil || errors.As(err, &r) {
		t.Fatalf("no store: %v, want an error that is not a refusal", err)
	}
	if _, err := v.Verify(bg, "null", resp); !errors.As(err, &r) || r.Reason != ReasonOriginMismatch {
		t.Fatalf("origin null: %v, want ORIGIN_MISMATCH", err)
	}
	if _, err := v.Verify(bg, defaultOrigin, resp); err != nil {
		t.Fatalf("the response, verified after the refusals before it: %v", err)
	}
}
