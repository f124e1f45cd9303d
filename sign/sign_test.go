package sign_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
)

func TestSignedAttributes(t *testing.T) {
	p := testpki.New(t)
	for _, k := range []testpki.Key{testpki.CryptoProA, testpki.TC26512A, testpki.RSA2048} {
		id := p.Leaf(t, k, k.Name)
		when := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		der, err := sign.Sign(context.Background(), bytes.NewReader([]byte("doc")), id.Signer, id.Cert, sign.Options{SigningTime: when})
		if err != nil {
			t.Fatal(err)
		}
		sd, err := cms.Parse(der)
		if err != nil {
			t.Fatal(err)
		}
		si := sd.SignerInfos[0]
		wantDigest := certs.DefaultDigestFor(id.Cert.PublicKey)
		if !si.DigestAlgorithm.Algorithm.Equal(wantDigest.OID) {
			t.Fatalf("%s: digest %v", k.Name, si.DigestAlgorithm.Algorithm)
		}
		for _, typ := range [][]int{cms.OIDAttrContentType, cms.OIDAttrMessageDigest, cms.OIDAttrSigningTime, cms.OIDAttrSigningCertV2} {
			if _, n := si.Attr(typ); n != 1 {
				t.Fatalf("%s: attribute %v occurs %d times", k.Name, typ, n)
			}
		}
		vals, _ := si.Attr(cms.OIDAttrSigningTime)
		if got, _ := cms.ParseTime(vals[0]); !got.Equal(when) {
			t.Fatalf("%s: signingTime %v", k.Name, got)
		}
		vals, _ = si.Attr(cms.OIDAttrSigningCertV2)
		ids, err := cms.ParseSigningCertificateV2(vals[0])
		if err != nil {
			t.Fatal(err)
		}
		// ESSCertIDv2 hashes the certificate with the signature's digest
		// (Streebog-256 for GOST-256, Streebog-512 for GOST-512).
		if !ids[0].HashAlgorithm.Algorithm.Equal(wantDigest.OID) || !bytes.Equal(ids[0].CertHash, wantDigest.Sum(id.Cert.Raw)) {
			t.Fatalf("%s: ESSCertIDv2 %v", k.Name, ids[0].HashAlgorithm.Algorithm)
		}
		if sd.EContent != nil {
			t.Fatal("detached by default")
		}
	}
}

func TestSignDigestAndStreaming(t *testing.T) {
	p := testpki.New(t)
	id := p.Leaf(t, testpki.CryptoProA, "digest")
	roots := []*certs.Certificate{p.Root.Cert}
	ctx := context.Background()
	// Content through readers that return short reads (testing/iotest):
	// 8 MiB half a buffer at a time, 100 KiB + 17 one byte at a time, and
	// a reader that returns its last data together with io.EOF.
	content := make([]byte, 8<<20)
	if _, err := rand.Read(content); err != nil {
		t.Fatal(err)
	}
	small := content[:100<<10+17]
	digest := certs.Streebog256.Sum(content)
	pre, err := sign.SignDigest(digest, id.Signer, id.Cert, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		content []byte
		reader  func([]byte) io.Reader
	}{
		{"half reads", content, func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
		{"one-byte reads", small, func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
		{"data with EOF", small, func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
	} {
		streamed, err := sign.Sign(ctx, c.reader(c.content), id.Signer, id.Cert, sign.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		sigs := map[string][]byte{"streamed": streamed}
		if len(c.content) == len(content) {
			sigs["precomputed"] = pre
		}
		for name, sig := range sigs {
			// The signed messageDigest is the digest of all the content.
			sd, err := cms.Parse(sig)
			if err != nil {
				t.Fatal(err)
			}
			vals, n := sd.SignerInfos[0].Attr(cms.OIDAttrMessageDigest)
			if want := cms.MarshalOctets(certs.Streebog256.Sum(c.content)); n != 1 || !bytes.Equal(vals[0], want) {
				t.Fatalf("%s, %s: messageDigest is not the digest of the content", c.name, name)
			}
			rep, err := verify.Verify(ctx, sig, verify.Options{Roots: roots, Content: c.reader(c.content)})
			if err != nil || rep.Indication != verify.TotalPassed {
				t.Fatalf("%s, %s: %v %s", c.name, name, err, rep.Summary("en"))
			}
		}
	}
	// A reader that fails after its first read: no signature, the reader's error.
	if sig, err := sign.Sign(ctx, iotest.TimeoutReader(bytes.NewReader(content)), id.Signer, id.Cert, sign.Options{}); !errors.Is(err, iotest.ErrTimeout) || sig != nil {
		t.Fatalf("content read failing: %d bytes, %v; want iotest.ErrTimeout", len(sig), err)
	}
	if rep, err := verify.Verify(ctx, pre, verify.Options{Roots: roots, Content: iotest.TimeoutReader(bytes.NewReader(content))}); !errors.Is(err, iotest.ErrTimeout) || rep != nil {
		t.Fatalf("detached content read failing: %v; want iotest.ErrTimeout and no report", err)
	}
	if _, err := sign.SignDigest(digest[:31], id.Signer, id.Cert, sign.Options{}); err == nil {
		t.Fatal("short digest accepted")
	}
	if _, err := sign.SignDigest(digest, id.Signer, id.Cert, sign.Options{Attached: true}); !errors.Is(err, sign.ErrDetachedOnly) {
		t.Fatalf("attached precomputed: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	p := testpki.New(t)
	a := p.Leaf(t, testpki.CryptoProA, "a")
	b := p.Leaf(t, testpki.CryptoProA, "b")
	if _, err := sign.Sign(context.Background(), bytes.NewReader(nil), a.Signer, b.Cert, sign.Options{}); !errors.Is(err, sign.ErrKeyMismatch) {
		t.Fatalf("key/certificate mismatch: %v", err)
	}
	if _, err := sign.Sign(context.Background(), bytes.NewReader(nil), a.Signer, a.Cert, sign.Options{Digest: certs.SHA256}); err == nil {
		t.Fatal("GOST key with SHA-256 accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sign.Sign(ctx, bytes.NewReader([]byte("x")), a.Signer, a.Cert, sign.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	if _, err := sign.Cosign(context.Background(), []byte("garbage"), nil, a.Signer, a.Cert, sign.Options{}); err == nil {
		t.Fatal("cosign of garbage accepted")
	}
	det, err := sign.Sign(context.Background(), bytes.NewReader([]byte("x")), a.Signer, a.Cert, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sign.Cosign(context.Background(), det, nil, b.Signer, b.Cert, sign.Options{}); err == nil {
		t.Fatal("cosign of a detached signature without content accepted")
	}
	// With the content, the same cosign works: the refusal above was for the
	// missing content. Both signatures verify.
	both, err := sign.Cosign(context.Background(), det, bytes.NewReader([]byte("x")), b.Signer, b.Cert, sign.Options{})
	if err != nil {
		t.Fatalf("cosign with the content: %v", err)
	}
	rep, err := verify.Verify(context.Background(), both, verify.Options{Roots: []*certs.Certificate{p.Root.Cert}, Content: bytes.NewReader([]byte("x"))})
	if err != nil || rep.Indication != verify.TotalPassed || len(rep.Signers) != 2 {
		t.Fatalf("cosigned: %v %s", err, rep.Summary("en"))
	}
	// A content reader that fails: its error, said to be the content's.
	if _, err := sign.Cosign(context.Background(), det, iotest.TimeoutReader(bytes.NewReader([]byte("x"))), b.Signer, b.Cert, sign.Options{}); !errors.Is(err, iotest.ErrTimeout) ||
		!strings.HasPrefix(err.Error(), "sign: reading content: ") {
		t.Fatalf("cosign, content read failing: %v", err)
	}
}
