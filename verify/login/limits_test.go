package login

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// TestCheckNonce: a nonce is 43 to 128 base64url characters, nothing else.
func TestCheckNonce(t *testing.T) {
	n43 := strings.Repeat("A", 43)
	ok := []string{n43, strings.Repeat("z", 128), "Z" + n43[1:], "a" + n43[1:], "0" + n43[1:], "9" + n43[1:], "-" + n43[1:], "_" + n43[1:],
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"}
	for _, n := range ok {
		if err := checkNonce(n); err != nil {
			t.Errorf("%q refused: %v", n, err)
		}
	}
	// The neighbours of each accepted range, padding, and the other base64 alphabet.
	bad := []string{"", n43[:42], strings.Repeat("z", 129)}
	for _, c := range "@[`{/:=+. \x00é" {
		bad = append(bad, string(c)+n43[1:], n43[1:]+string(c))
	}
	for _, n := range bad {
		if err := checkNonce(n); err == nil {
			t.Errorf("%q accepted", n)
		}
	}
}

// TestIssuerOptions: the nonce comes from Rand, the expiry from TTL, the
// times from Now in whole UTC seconds; failures of each are errors.
func TestIssuerOptions(t *testing.T) {
	now := time.Date(2026, 1, 2, 18, 4, 5, 999_000_000, time.FixedZone("MSK", 3*3600))
	seed := bytes.Repeat([]byte{0xfb}, NonceBytes)
	store := NewMemoryStore()
	is := &Issuer{Store: store, TTL: 90 * time.Second, Now: func() time.Time { return now }, Rand: bytes.NewReader(seed)}
	ch, err := is.Challenge(bg, "https://Portal.Example.RU")
	if err != nil {
		t.Fatal(err)
	}
	want := Challenge{Nonce: base64.RawURLEncoding.EncodeToString(seed), Origin: defaultOrigin,
		ServerTime: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), Expires: time.Date(2026, 1, 2, 15, 5, 35, 0, time.UTC)}
	if *ch != want || ch.ServerTime.Location() != time.UTC {
		t.Fatalf("challenge %+v, want %+v", *ch, want)
	}
	if o, exp, err := store.Take(bg, want.Nonce); err != nil || o != defaultOrigin || !exp.Equal(want.Expires) {
		t.Fatalf("stored: %q %v %v", o, exp, err)
	}
	// The same random bytes again: the store refuses the nonce.
	is.Rand = bytes.NewReader(seed)
	if _, err := is.Challenge(bg, defaultOrigin); !errors.Is(err, ErrNonceExists) {
		t.Fatalf("a repeated nonce: %v, want ErrNonceExists", err)
	}
	is.Rand = iotest.ErrReader(errors.New("no entropy"))
	if _, err := is.Challenge(bg, defaultOrigin); err == nil || !strings.Contains(err.Error(), "no entropy") {
		t.Fatalf("failing Rand: %v", err)
	}
	is.Rand = bytes.NewReader(seed[:NonceBytes-1]) // short
	if _, err := is.Challenge(bg, defaultOrigin); err == nil {
		t.Fatal("a short read from Rand made a nonce")
	}
	is.Rand, is.TTL = nil, -time.Second
	if _, err := is.Challenge(bg, defaultOrigin); err == nil {
		t.Fatal("negative TTL accepted")
	}
	if _, err := (&Issuer{}).Challenge(bg, defaultOrigin); err == nil {
		t.Fatal("no store: no error")
	}
}

// TestClientLimits: the client signs up to exactly MaxSkew from serverTime
// and refuses what it cannot sign, before signing.
func TestClientLimits(t *testing.T) {
	server := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	ch := &Challenge{Nonce: strings.Repeat("N", 43), Origin: defaultOrigin, ServerTime: server, Expires: server.Add(DefaultTTL)}
	var se *SkewError
	for _, tc := range []struct {
		skew, max time.Duration
		refused   bool
	}{
		{DefaultMaxSkew, 0, false}, {-DefaultMaxSkew, 0, false},
		{DefaultMaxSkew + time.Second, 0, true}, {-DefaultMaxSkew - time.Second, 0, true},
		{time.Minute, time.Minute, false}, {time.Minute + time.Second, time.Minute, true},
		{-7 * time.Minute, 10 * time.Minute, false},
	} {
		// nil signer and certificate: a refusal comes first; else signing fails.
		c := &Client{Now: func() time.Time { return server.Add(tc.skew) }, MaxSkew: tc.max}
		_, err := c.Sign(bg, ch, FormatBound, nil, nil)
		if refused := errors.As(err, &se); refused != tc.refused || err == nil {
			t.Errorf("skew %v, MaxSkew %v: %v (want refused %v)", tc.skew, tc.max, err, tc.refused)
		}
	}
	now := func() time.Time { return server }
	for name, ch := range map[string]*Challenge{
		"no challenge": nil,
		"bad nonce":    {Nonce: "short", Origin: defaultOrigin, ServerTime: server},
		"bad origin":   {Nonce: ch.Nonce, Origin: "http://evil.example", ServerTime: server},
	} {
		if _, err := Sign(bg, ch, FormatBound, nil, nil, now); err == nil || errors.As(err, &se) || strings.Contains(err.Error(), "login: sign") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := Sign(bg, ch, Format("jwt"), nil, nil, now); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := SignString(bg, "", nil, nil, now); err == nil || !strings.Contains(err.Error(), "empty challenge") {
		t.Errorf("empty challenge string: %v", err)
	}
}

// TestParseResponseLimits: the size bound is inclusive, and every field is
// checked.
func TestParseResponseLimits(t *testing.T) {
	good := `{"format":"bound","cms":"MAA="}`
	pad := func(n int) []byte { return []byte(good + strings.Repeat(" ", n-len(good))) }
	if r, err := ParseResponse(pad(MaxResponseSize)); err != nil || r.Format != FormatBound || !bytes.Equal(r.CMS, []byte{0x30, 0}) {
		t.Fatalf("a response of MaxResponseSize bytes: %v %v", r, err)
	}
	for name, in := range map[string]string{
		"too big":         string(pad(MaxResponseSize + 1)),
		"not JSON":        `{`,
		"trailing":        good + `{}`,
		"no format":       `{"cms":"MAA="}`,
		"no cms":          `{"format":"bound"}`,
		"unknown format":  `{"format":"jwt","cms":"MAA="}`,
		"unknown member":  `{"format":"bound","cms":"MAA=","x":1}`,
		"unpadded base64": `{"format":"bound","cms":"MAA"}`,
		"url base64":      `{"format":"bound","cms":"-_8="}`,
		"empty cms":       `{"format":"bound","cms":""}`,
	} {
		if r, err := ParseResponse([]byte(in)); err == nil {
			t.Errorf("%s: accepted %+v", name, r)
		}
	}
	if _, err := ParseResponse(pad(MaxResponseSize + 1)); err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("too big: %v", err)
	}
}

// TestParseBoundDocumentFields: each field of a bound document is checked.
func TestParseBoundDocumentFields(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	nonce := strings.Repeat("N", 43)
	good := NewBoundDocument(defaultOrigin, nonce, t0, t0.Add(2*time.Second))
	if d, err := ParseBoundDocument(good.Marshal()); err != nil || d != good {
		t.Fatalf("%+v %v", d, err)
	}
	if s, c, err := good.Times(); err != nil || !s.Equal(t0) || !c.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("times %v %v %v", s, c, err)
	}
	for name, d := range map[string]BoundDocument{
		"format":            {Format: "kep-login-v2", Origin: defaultOrigin, Nonce: nonce, ServerTime: good.ServerTime, ClientTime: good.ClientTime},
		"nonce":             {Format: BoundFormat, Origin: defaultOrigin, Nonce: "short", ServerTime: good.ServerTime, ClientTime: good.ClientTime},
		"origin":            {Format: BoundFormat, Origin: "ftp://portal.example.ru", Nonce: nonce, ServerTime: good.ServerTime, ClientTime: good.ClientTime},
		"origin not normal": {Format: BoundFormat, Origin: "https://portal.example.ru:443", Nonce: nonce, ServerTime: good.ServerTime, ClientTime: good.ClientTime},
		"serverTime":        {Format: BoundFormat, Origin: defaultOrigin, Nonce: nonce, ServerTime: "2026-01-02 15:04:05Z", ClientTime: good.ClientTime},
		"clientTime":        {Format: BoundFormat, Origin: defaultOrigin, Nonce: nonce, ServerTime: good.ServerTime, ClientTime: "2026-01-02T15:04:05+03:00"},
	} {
		if _, err := ParseBoundDocument(d.Marshal()); err == nil {
			t.Errorf("%s: accepted %s", name, d.Marshal())
		}
	}
	if _, err := ParseBoundDocument([]byte(`{"format":`)); err == nil {
		t.Error("truncated document accepted")
	}
}
