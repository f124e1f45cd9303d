package sign_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"
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
	// 8 MiB of content through a reader that returns short reads.
	content := make([]byte, 8<<20)
	if _, err := rand.Read(content); err != nil {
		t.Fatal(err)
	}
	streamed, err := sign.Sign(context.Background(), io.LimitReader(bytes.NewReader(content), int64(len(content))), id.Signer, id.Cert, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	digest := certs.Streebog256.Sum(content)
	pre, err := sign.SignDigest(digest, id.Signer, id.Cert, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, sig := range map[string][]byte{"streamed": streamed, "precomputed": pre} {
		rep, err := verify.Verify(context.Background(), sig, verify.Options{Roots: roots, Content: bytes.NewReader(content)})
		if err != nil || rep.Indication != verify.TotalPassed {
			t.Fatalf("%s: %v %s", name, err, rep.Summary("en"))
		}
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
	det, _ := sign.Sign(context.Background(), bytes.NewReader([]byte("x")), a.Signer, a.Cert, sign.Options{})
	if _, err := sign.Cosign(context.Background(), det, nil, b.Signer, b.Cert, sign.Options{}); err == nil {
		t.Fatal("cosign of a detached signature without content accepted")
	}
}
