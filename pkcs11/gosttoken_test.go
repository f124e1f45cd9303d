package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"

	ck "github.com/miekg/pkcs11"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/sign"
)

// The GOST paths through the package, on the fake module: SoftHSM has no
// GOST, and kep's software token exported as a PKCS#11 module will run the
// same paths through the C ABI. Certificates come from OpenSSL with the gost
// engine; signatures and requests are checked by it.

// gostIdentity is a GOST leaf certificate and its key from testpki.
func gostIdentity(t *testing.T, p *testpki.PKI, k testpki.Key) (*gost3410.PrivateKey, []byte) {
	t.Helper()
	id := p.Leaf(t, k, "token user "+k.Name)
	key, ok := id.Signer.(*gost3410.PrivateKey)
	if !ok {
		t.Fatalf("testpki signer is %T", id.Signer)
	}
	return key, id.Cert.Raw
}

// cmsVerify checks a detached DER CMS signature of content with
// `openssl cms -verify` against the CA file.
func cmsVerify(t *testing.T, o *ossltest.OpenSSL, name string, sig, content []byte, caFile string) {
	t.Helper()
	sigFile := o.WriteFile(t, name+".p7s", sig)
	dataFile := o.WriteFile(t, name+".txt", content)
	out, err := o.Run(nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile, "-content", dataFile,
		"-CAfile", caFile, "-purpose", "any", "-out", o.Path(name+".out"))
	if err != nil {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
}

// requestVerify checks a DER certificate request's self-signature with
// `openssl req -verify`.
func requestVerify(t *testing.T, o *ossltest.OpenSSL, name string, der []byte) {
	t.Helper()
	f := o.WriteFile(t, name+".csr", der)
	out, err := o.Run(nil, "req", "-verify", "-noout", "-inform", "DER", "-in", f)
	if err != nil {
		t.Fatalf("openssl req -verify: %v\n%s", err, out)
	}
}

func TestGOSTTokenSigns(t *testing.T) {
	p := testpki.New(t)
	ctx := context.Background()
	content := []byte("ГОСТ Р 34.10-2012 через PKCS#11\n")
	for _, tc := range []struct {
		key     testpki.Key
		pubForm string
		mechs   []uint
		wantRaw bool // signatures use the raw mechanism (else hash on token)
	}{
		{testpki.CryptoProA, "bare", []uint{raw256, raw512, hash256, hash512}, true},
		{testpki.TC26512A, "wrapped", []uint{raw256, raw512}, true},
		{testpki.TC26256A, "bare", nil, true}, // no mechanism list: raw is tried
		{testpki.CryptoProB, "wrapped", []uint{hash256}, false},
		{testpki.TC26512C, "bare", []uint{hash512}, false},
	} {
		t.Run(tc.key.Name, func(t *testing.T) {
			key, certDER := gostIdentity(t, p, tc.key)
			f := newFakeModule()
			f.tokens[1] = newFakeToken("gost", 10, tc.mechs...)
			f.addGOST(1, key, []byte{0x42}, "gost key", tc.pubForm, certDER)
			ui := &recordUI{pins: []string{"123456"}}
			tok := openFakeToken(t, f, ui.ui())

			ids, err := tok.Identities(ctx)
			if err != nil || len(ids) != 1 || !errors.Is(ids[0].Err, ErrNotLoggedIn) {
				t.Fatalf("before login: %v %v", ids, err)
			}
			k, err := tok.FindKey(ctx, []byte{0x42})
			if err != nil {
				t.Fatal(err)
			}
			if len(ui.requests) != 1 {
				t.Fatalf("%d PIN requests, want 1", len(ui.requests))
			}
			ids, err = tok.Identities(ctx)
			if err != nil || len(ids) != 1 || ids[0].Key == nil || !ids[0].KeyMatched || ids[0].Label != "gost key" {
				t.Fatalf("after login: %+v %v", ids[0], err)
			}
			if !equalKeys(k.Public(), key.Public()) {
				t.Fatal("Key.Public is not the key's public key")
			}

			digest := streebogSum(key.Params(), content)
			sig, err := k.Sign(rand.Reader, digest, crypto.Hash(0))
			if tc.wantRaw {
				if err != nil {
					t.Fatal(err)
				}
				if err := key.PublicKey().VerifyDigest(digest, sig); err != nil {
					t.Fatal(err)
				}
			} else if !errors.Is(err, ErrMechanismInvalid) || !strings.Contains(err.Error(), "SignMessage") {
				t.Fatalf("Sign(digest) on a hash-on-token token: %v", err)
			}
			if _, err := k.Sign(rand.Reader, digest, crypto.SHA256); err == nil {
				t.Fatal("GOST key signed with opts SHA-256")
			}

			f.inits = nil
			sig, err = k.SignMessage(rand.Reader, content, crypto.Hash(0))
			if err != nil {
				t.Fatal(err)
			}
			if err := key.PublicKey().VerifyDigest(digest, sig); err != nil {
				t.Fatal(err)
			}
			raw, withHash := gostMechanisms(key.Params())
			want := withHash
			if tc.wantRaw {
				want = raw
			}
			if len(f.inits) != 1 || f.inits[0].Type != want {
				t.Fatalf("SignMessage used %v, want %s", f.inits, mechanismName(want))
			}

			// CMS through kep's sign package, checked by OpenSSL. sign
			// hands the digest to Sign, so only raw-mechanism tokens fit.
			if tc.wantRaw {
				cert := ids[0].Certificate
				cms, err := sign.Sign(ctx, bytes.NewReader(content), k, cert, sign.Options{})
				if err != nil {
					t.Fatal(err)
				}
				cmsVerify(t, p.O, tc.key.Name, cms, content, p.Root.CertFile)
			}

			// A certificate request signed on the token.
			csr, err := CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
				Subject: pkix.Name{CommonName: "Иванов Иван", Country: []string{"RU"}},
				ExtraExtensions: []pkix.Extension{
					{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Critical: true, Value: []byte{3, 2, 6, 0xc0}},
				},
			}, k)
			if err != nil {
				t.Fatal(err)
			}
			requestVerify(t, p.O, tc.key.Name, csr)
			parsed, err := x509.ParseCertificateRequest(csr)
			if err != nil || parsed.Subject.CommonName != "Иванов Иван" || len(parsed.Extensions) != 1 {
				t.Fatalf("request parses as %+v, %v", parsed, err)
			}
		})
	}
}

// A token that wants the Streebog OID as the parameter of the hash-on-token
// mechanism: the first C_SignInit is refused and the second carries it.
func TestGOSTHashOnTokenParameter(t *testing.T) {
	key, _ := gost3410.GenerateKey(gost3410.TC26512A, nil)
	f := newFakeModule()
	f.tokens[1] = newFakeToken("gost", 10, hash512)
	f.tokens[1].needsParam = true
	f.addGOST(1, key, []byte{1}, "k", "bare", nil)
	tok := openFakeToken(t, f, (&recordUI{pins: []string{"123456"}}).ui())
	k, err := tok.FindKey(context.Background(), []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("message")
	sig, err := k.SignMessage(nil, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := key.PublicKey().VerifyDigest(streebogSum(key.Params(), msg), sig); err != nil {
		t.Fatal(err)
	}
	if len(f.inits) != 2 || f.inits[0].Param != nil || !bytes.Equal(f.inits[1].Param, oidDER(asn1.ObjectIdentifier{1, 2, 643, 7, 1, 1, 2, 3})) {
		t.Fatalf("C_SignInit calls %+v", f.inits)
	}
}

// Pairs that do not belong together are reported, not used.
func TestGOSTMismatchedPairs(t *testing.T) {
	p := testpki.New(t)
	ctx := context.Background()
	good, goodCert := gostIdentity(t, p, testpki.CryptoProA)
	_, otherCert := gostIdentity(t, p, testpki.CryptoProA)
	stranger, _ := gost3410.GenerateKey(gost3410.CryptoProA, nil)

	f := newFakeModule()
	f.tokens[1] = newFakeToken("gost", 10, raw256)
	f.addGOST(1, good, []byte{1}, "good", "bare", goodCert)
	// id 2: the certificate of another key beside this key's public object.
	f.addGOST(1, stranger, []byte{2}, "wrong cert", "bare", otherCert)
	// id 3: no public object; the certificate is of another key, so only
	// the signature check can tell.
	f.addGOST(1, stranger, []byte{3}, "unverifiable", "none", otherCert)
	// id 4: a CA certificate without a key.
	f.add(1, map[uint][]byte{ck.CKA_CLASS: ul(ck.CKO_CERTIFICATE), ck.CKA_CERTIFICATE_TYPE: ul(ck.CKC_X_509),
		ck.CKA_ID: {4}, ck.CKA_VALUE: p.Root.Cert.Raw, ck.CKA_PRIVATE: {0}}, nil)
	// id 5: a key with neither public object nor certificate.
	f.addGOST(1, stranger, []byte{5}, "bare key", "none", nil)
	tok := openFakeToken(t, f, (&recordUI{pins: []string{"123456"}}).ui())
	if err := tok.Login(ctx); err != nil {
		t.Fatal(err)
	}
	ids, err := tok.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[byte]*Identity{}
	for _, id := range ids {
		if id.Certificate != nil || byID[id.ID[0]] == nil {
			byID[id.ID[0]] = id
		}
	}
	if id := byID[1]; id == nil || id.Key == nil || !id.KeyMatched || id.Err != nil {
		t.Errorf("good pair: %+v", id)
	}
	if id := byID[2]; id == nil || id.Key != nil || !errors.Is(id.Err, ErrKeyMismatch) {
		t.Errorf("certificate of another key: %+v", id)
	}
	if id := byID[4]; id == nil || id.Key != nil || !errors.Is(id.Err, ErrKeyNotFound) {
		t.Errorf("CA certificate: %+v", id)
	}
	if id := byID[5]; id == nil || id.Key != nil || !errors.Is(id.Err, ErrNoPublicKey) {
		t.Errorf("bare key: %+v", id)
	}
	id := byID[3]
	if id == nil || id.Key == nil || id.KeyMatched {
		t.Fatalf("unverifiable pair: %+v", id)
	}
	digest := streebogSum(gost3410.CryptoProA, []byte("x"))
	if _, err := id.Key.Sign(nil, digest, crypto.Hash(0)); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("signing with the wrong key: %v, want ErrKeyMismatch", err)
	}
	if _, err := CreateCertificateRequest(nil, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, id.Key); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("request with the wrong key: %v, want ErrKeyMismatch", err)
	}
	if _, err := tok.FindKey(ctx, []byte{2}); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("FindKey of a mismatched pair: %v", err)
	}
	if _, err := tok.FindKey(ctx, []byte{9}); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("FindKey of a missing key: %v", err)
	}
}

// A GOST request from a key in memory (not a MessageSigner): hashed on the
// host. Template fields the GOST encoder does not write are refused.
func TestGOSTRequestInMemoryKey(t *testing.T) {
	o := ossltest.New(t)
	for _, ps := range []*gost3410.ParamSet{gost3410.CryptoProA, gost3410.TC26512B} {
		key, _ := gost3410.GenerateKey(ps, nil)
		raw, _ := asn1.Marshal(pkix.Name{CommonName: "raw subject"}.ToRDNSequence())
		csr, err := CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{RawSubject: raw}, key)
		if err != nil {
			t.Fatal(err)
		}
		requestVerify(t, o, ps.Name, csr)
		if _, err := CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: []string{"x"}}, key); err == nil {
			t.Fatal("DNSNames accepted for a GOST request")
		}
	}
}

// GOST key pairs generated on the token: the templates carry the key type,
// CKA_GOSTR3410_PARAMS and CKA_GOSTR3411_PARAMS on both objects; the key
// signs and makes a request OpenSSL accepts.
func TestGOSTGenerateKey(t *testing.T) {
	o := ossltest.New(t)
	ctx := context.Background()
	for _, tc := range []struct {
		ps   *gost3410.ParamSet // nil: the default
		want *gost3410.ParamSet
		mech uint
	}{
		{nil, gost3410.CryptoProA, CKM_GOSTR3410_KEY_PAIR_GEN},
		{gost3410.TC26256B, gost3410.TC26256B, CKM_GOSTR3410_KEY_PAIR_GEN},
		{gost3410.TC26512A, gost3410.TC26512A, CKM_GOSTR3410_512_KEY_PAIR_GEN},
	} {
		t.Run(tc.want.Name, func(t *testing.T) {
			f := newFakeModule()
			f.tokens[1] = newFakeToken("gost", 10, tc.mech, raw256, raw512)
			tok := openFakeToken(t, f, (&recordUI{pins: []string{"123456"}}).ui())
			k, err := tok.GenerateKey(ctx, KeyOptions{Type: KeyGOST, ParamSet: tc.ps, Label: "new gost"})
			if err != nil {
				t.Fatal(err)
			}
			pub, ok := k.Public().(*gost3410.PublicKey)
			if !ok || pub.Params() != tc.want || len(k.ID()) != 16 {
				t.Fatalf("key %T on %v, id %x", k.Public(), pub.Params(), k.ID())
			}
			for name, tmpl := range map[string]map[uint][]byte{"public": f.genPub, "private": f.genPriv} {
				if !bytes.Equal(tmpl[CKA_GOSTR3410_PARAMS], oidDER(tc.want.OID)) || !bytes.Equal(tmpl[CKA_GOSTR3411_PARAMS], gostDigestParams(tc.want)) ||
					!bytes.Equal(tmpl[ck.CKA_ID], k.ID()) || string(tmpl[ck.CKA_LABEL]) != "new gost" || !bytes.Equal(tmpl[ck.CKA_TOKEN], []byte{1}) {
					t.Errorf("%s template %x", name, tmpl)
				}
			}
			for _, a := range []uint{ck.CKA_SENSITIVE, ck.CKA_SIGN, ck.CKA_PRIVATE} {
				if !bytes.Equal(f.genPriv[a], []byte{1}) {
					t.Errorf("private template attribute 0x%X = %x", a, f.genPriv[a])
				}
			}
			if !bytes.Equal(f.genPriv[ck.CKA_EXTRACTABLE], []byte{0}) {
				t.Error("private key extractable")
			}
			msg := []byte("generated on the token")
			sig, err := k.SignMessage(nil, msg, crypto.Hash(0))
			if err != nil || pub.VerifyDigest(streebogSum(tc.want, msg), sig) != nil {
				t.Fatalf("signature: %v", err)
			}
			csr, err := CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "new gost"}}, k)
			if err != nil {
				t.Fatal(err)
			}
			requestVerify(t, o, tc.want.Name, csr)
		})
	}
	// A token without the mechanism, and the 2001-only parameter set.
	f := newFakeModule()
	f.tokens[1] = newFakeToken("gost", 10, CKM_GOSTR3410_KEY_PAIR_GEN)
	tok := openFakeToken(t, f, (&recordUI{pins: []string{"123456"}}).ui())
	if _, err := tok.GenerateKey(ctx, KeyOptions{Type: KeyGOST, ParamSet: gost3410.TC26512A}); !errors.Is(err, ErrMechanismInvalid) {
		t.Fatalf("512-bit key without CKM_GOSTR3410_512_KEY_PAIR_GEN: %v", err)
	}
	if _, err := tok.GenerateKey(ctx, KeyOptions{Type: KeyGOST, ParamSet: gost3410.GOST2001Test}); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("GOST 2001 test set: %v", err)
	}
	if f.count("C_Login") != 0 {
		t.Fatal("refused requests logged in")
	}
}
