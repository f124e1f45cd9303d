package verify_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
)

// FuzzVerify runs the whole verifier on mutated signatures: it must never
// panic or error (the content is in memory), must always give one of the
// three indications, and a TOTAL_PASSED report must have every signer passed.
func FuzzVerify(f *testing.F) {
	p := testpki.New(f)
	id := p.Leaf(f, testpki.CryptoProA, "fuzz")
	content := []byte("fuzz content")
	for _, attached := range []bool{false, true} {
		sig, err := sign.Sign(context.Background(), bytes.NewReader(content), id.Signer, id.Cert, sign.Options{Attached: attached})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sig)
	}
	roots := p.Root.Cert
	f.Fuzz(func(t *testing.T, sig []byte) {
		rep, err := verify.Verify(context.Background(), sig, verify.Options{Roots: []*certs.Certificate{roots}, Content: bytes.NewReader(content)})
		if err != nil {
			t.Fatal(err)
		}
		switch rep.Indication {
		case verify.TotalPassed:
			for _, s := range rep.Signers {
				if s.Indication != verify.TotalPassed {
					t.Fatal("TOTAL_PASSED with a signer that did not pass")
				}
			}
		case verify.TotalFailed, verify.Indeterminate:
		default:
			t.Fatalf("indication %q", rep.Indication)
		}
	})
}

// FuzzLongTermParsers: certificate-values and complete-certificate-references
// either refuse the input or account for every byte: the elements read back
// are, concatenated under one SEQUENCE header, the input itself.
func FuzzLongTermParsers(f *testing.F) {
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte{0x30, 0x05, 0x30, 0x03, 0x04, 0x01, 0xaa})
	f.Add([]byte{0x30, 0x08, 0x30, 0x06, 0x04, 0x01, 0xaa, 0x30, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		if vals, err := verify.ParseCertificateValues(der); err == nil {
			var body []byte
			for _, v := range vals {
				body = append(body, v...)
			}
			if len(der) < len(body) || !bytes.Equal(der[len(der)-len(body):], body) {
				t.Fatalf("certificate-values elements do not cover the input")
			}
		}
		if refs, err := verify.ParseCertificateRefs(der); err == nil {
			for _, r := range refs {
				if len(r.Hash) > len(der) {
					t.Fatalf("a hash longer than the input")
				}
			}
		}
	})
}
