package login

import (
	"bytes"
	"testing"
	"time"
)

// FuzzParseResponse: parsing never panics, and a parsed response re-encodes
// to one that parses to the same value.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(`{"format":"bound","cms":"MAA="}`))
	f.Add([]byte(`{"format":"esia-compatible","cms":"AAEC"}`))
	f.Add([]byte(`{"format":"bound","cms":"MAA=","x":1}`))
	f.Add([]byte(`{"format":"bound"}{}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseResponse(data)
		if err != nil {
			return
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseResponse(out)
		if err != nil || r2.Format != r.Format || !bytes.Equal(r2.CMS, r.CMS) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzParseBoundDocument: a document that parses is exactly its canonical
// encoding, and origins that parse are normal forms.
func FuzzParseBoundDocument(f *testing.F) {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	f.Add(NewBoundDocument(defaultOrigin, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", t0, t0.Add(time.Second)).Marshal())
	f.Add(NewBoundDocument("http://[::1]:8080", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", t0, t0).Marshal())
	f.Add([]byte(`{"format":"kep-login-v1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseBoundDocument(data)
		if err != nil {
			return
		}
		if !bytes.Equal(d.Marshal(), data) {
			t.Fatalf("accepted a non-canonical document %q", data)
		}
		if o, err := NormalizeOrigin(d.Origin); err != nil || o != d.Origin {
			t.Fatalf("origin %q: %q %v", d.Origin, o, err)
		}
	})
}

// FuzzNormalizeOrigin: normalising is idempotent and never panics.
func FuzzNormalizeOrigin(f *testing.F) {
	for _, s := range []string{"https://Example.RU:443", "http://localhost:3000/", "http://[::1]", "https://[2001:db8::1]:8443", "null", "https://a/b", "http://127.0.0.1:80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := NormalizeOrigin(s)
		if err != nil {
			return
		}
		o2, err := NormalizeOrigin(o)
		if err != nil || o2 != o {
			t.Fatalf("%q → %q → %q, %v", s, o, o2, err)
		}
	})
}

// FuzzVerify: a Verifier fed arbitrary responses refuses them without panics.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"format":"bound","cms":"MAA="}`))
	f.Add([]byte(`{"format":"esia-compatible","cms":"MIAGCSqGSIb3DQEHAqCAMIACAQExADCABgkqhkiG9w0BBwGggCSABAVoZWxsbwAAAAAAAKCAMAAAADEAAAAAAAA="}`))
	v := &Verifier{Store: NewMemoryStore(), AllowESIACompatible: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		if id, err := v.Verify(bg, defaultOrigin, data); err == nil {
			t.Fatalf("accepted %q: %+v", data, id)
		}
	})
}
