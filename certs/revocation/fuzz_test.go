package revocation

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"reflect"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/certs"
)

// buildResponse encodes an OCSPResponse with a BasicOCSPResponse holding
// r's fields (RFC 6960 4.2.1): the reference encoder the fuzz target checks
// the parser against. The signature is not a real one (parsing does not
// verify it); responder certificates are left out.
func buildResponse(r *ocspResponse) []byte {
	var tbs cryptobyte.Builder
	tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if r.responderName != nil {
			b.AddASN1(tagExplicit1, func(b *cryptobyte.Builder) { b.AddBytes(r.responderName) })
		} else {
			b.AddASN1(tagExplicit2, func(b *cryptobyte.Builder) { b.AddASN1OctetString(r.responderKey) })
		}
		b.AddASN1GeneralizedTime(r.producedAt)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, sr := range r.responses {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddBytes(sr.id.marshal())
					switch sr.status {
					case Good:
						b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(*cryptobyte.Builder) {})
					case Revoked:
						b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1GeneralizedTime(sr.revokedAt)
							if sr.reason >= 0 {
								b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1Enum(int64(sr.reason)) })
							}
						})
					default:
						b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(*cryptobyte.Builder) {})
					}
					b.AddASN1GeneralizedTime(sr.thisUpdate)
					if !sr.nextUpdate.IsZero() {
						b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) { b.AddASN1GeneralizedTime(sr.nextUpdate) })
					}
				})
			}
		})
		if r.nonce != nil {
			b.AddASN1(tagExplicit1, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidOCSPNonce)
						b.AddASN1OctetString(r.nonce)
					})
				})
			})
		}
	})
	tbsDER := tbs.BytesOrPanic()
	alg, _ := asn1.Marshal(r.sigAlg)
	var basic cryptobyte.Builder
	basic.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		b.AddBytes(alg)
		b.AddASN1BitString(r.signature)
	})
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(0)
		b.AddASN1(tagExplicit0, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidOCSPBasic)
				b.AddASN1OctetString(basic.BytesOrPanic())
			})
		})
	})
	return out.BytesOrPanic()
}

// fields is what a parsed response says, for comparing two parses.
func fields(r *ocspResponse) any {
	type single struct {
		Alg                 string
		Name, Key           []byte
		Serial              string
		Status              string
		Revoked, This, Next time.Time
		Reason              int
	}
	out := struct {
		Name, Key, Nonce, Sig []byte
		Alg                   string
		Produced              time.Time
		Responses             []single
	}{r.responderName, r.responderKey, r.nonce, r.signature, r.sigAlg.Algorithm.String(), r.producedAt, nil}
	for _, s := range r.responses {
		out.Responses = append(out.Responses, single{s.id.hashAlg.String(), s.id.nameHash, s.id.keyHash, s.id.serial.String(),
			s.status, s.revokedAt, s.thisUpdate, s.nextUpdate, s.reason})
	}
	return out
}

func seedResponses() []*ocspResponse {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	id := func(serial int64) *certID {
		return &certID{hashAlg: certs.SHA1.OID, nameHash: bytes.Repeat([]byte{1}, 20), keyHash: bytes.Repeat([]byte{2}, 20), serial: big.NewInt(serial)}
	}
	alg := pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 3, 2}}
	return []*ocspResponse{
		{responderKey: bytes.Repeat([]byte{3}, 20), producedAt: t0, sigAlg: alg, signature: []byte{9, 9},
			responses: []singleResponse{{id: id(5), status: Good, reason: -1, thisUpdate: t0, nextUpdate: t0.Add(time.Hour)}}},
		{responderName: []byte{0x30, 0x00}, producedAt: t0, sigAlg: alg, signature: make([]byte, 64), nonce: []byte("0123456789abcdef"),
			responses: []singleResponse{
				{id: id(6), status: Revoked, revokedAt: t0.Add(-time.Hour), reason: 1, thisUpdate: t0},
				{id: id(7), status: Revoked, revokedAt: t0.Add(-2 * time.Hour), reason: -1, thisUpdate: t0},
				{id: id(8), status: Unknown, reason: -1, thisUpdate: t0},
			}},
	}
}

// TestOCSPReferenceEncoder: what the reference encoder writes parses back
// to exactly the fields it was given.
func TestOCSPReferenceEncoder(t *testing.T) {
	for i, want := range seedResponses() {
		got, err := parseOCSPResponse(buildResponse(want))
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if !reflect.DeepEqual(fields(got), fields(want)) {
			t.Errorf("seed %d: parsed %+v, want %+v", i, fields(got), fields(want))
		}
	}
}

// FuzzParseOCSPResponse: no input panics the OCSP response parser; what it
// accepts keeps its signed part as received (tbs is a DER SEQUENCE inside
// the input), has statuses the checker knows, and — re-encoded by the
// reference encoder — parses to the same fields.
func FuzzParseOCSPResponse(f *testing.F) {
	for _, r := range seedResponses() {
		f.Add(buildResponse(r))
	}
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x03}) // tryLater
	f.Fuzz(func(t *testing.T, der []byte) {
		r, err := parseOCSPResponse(der)
		if err != nil {
			return
		}
		if !bytes.Contains(der, r.tbs) || len(r.tbs) == 0 || r.tbs[0] != 0x30 {
			t.Fatalf("tbs %x is not the received SEQUENCE", r.tbs)
		}
		if (r.responderName == nil) == (r.responderKey == nil) {
			t.Fatal("the responder is named both ways, or neither")
		}
		for _, s := range r.responses {
			switch {
			case s.status != Good && s.status != Revoked && s.status != Unknown:
				t.Fatalf("status %q", s.status)
			case s.status != Revoked && (s.reason != -1 || !s.revokedAt.IsZero()):
				t.Fatalf("a %s response with a revocation", s.status)
			}
		}
		again, err := parseOCSPResponse(buildResponse(r))
		if err != nil {
			t.Fatalf("re-encoded response refused: %v", err)
		}
		if !reflect.DeepEqual(fields(again), fields(r)) {
			t.Fatalf("round trip: %+v, want %+v", fields(again), fields(r))
		}
	})
}
