//go:build cgo || ((linux || darwin || windows) && (amd64 || arm64))

package pkcs11

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/ossltest"
	"github.com/kepkit/kep/sign"
)

// Keys and certificates made by pkcs11-tool are found, matched by CKA_ID and
// sign through SoftHSM; Go's crypto and OpenSSL verify the signatures.
func TestSoftHSMToolObjects(t *testing.T) {
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	h.toolLogin(t, tokenLabel, "--keypairgen", "--key-type", "rsa:2048", "--id", "01", "--label", "rsa")
	h.toolLogin(t, tokenLabel, "--keypairgen", "--key-type", "EC:prime256v1", "--id", "02", "--label", "ec")
	h.toolLogin(t, tokenLabel, "--keypairgen", "--key-type", "EC:prime256v1", "--id", "03", "--label", "ec-other")
	ca := newTestCA(t)
	h.toolWriteCert(t, tokenLabel, "01", "rsa cert", ca.issue(t, "RSA user", h.toolPublicKey(t, tokenLabel, "01")))
	h.toolWriteCert(t, tokenLabel, "02", "ec cert", ca.issue(t, "EC user", h.toolPublicKey(t, tokenLabel, "02")))
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	h.toolWriteCert(t, tokenLabel, "03", "not this key", ca.issue(t, "someone else", stranger.Public()))
	h.toolWriteCert(t, tokenLabel, "04", "ca", ca.cert.Raw)

	p := &pinUI{pin: testPIN}
	m, tok := openSoftHSM(t, tokenLabel, p.ui())
	ctx := context.Background()

	infos, err := m.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ti TokenInfo
	for _, x := range infos {
		if x.Label == tokenLabel {
			ti = x
		}
	}
	if ti.Model != "SoftHSM v2" || ti.Manufacturer != "SoftHSM project" || ti.Serial == "" ||
		!ti.LoginRequired || !ti.Initialized || !ti.UserPINInitialized || ti.PINCountLow || ti.MinPINLen != 4 {
		t.Fatalf("token info %+v", ti)
	}
	slots, err := m.Slots(ctx)
	if err != nil || len(slots) != 2 || !slots[0].TokenPresent {
		t.Fatalf("slots %+v %v (want the token's and the free one)", slots, err)
	}
	lib, err := m.Info(ctx)
	if err != nil || lib.Manufacturer != "SoftHSM" || !strings.HasPrefix(lib.Cryptoki, "2.") {
		t.Fatalf("library info %+v %v", lib, err)
	}

	// Before login the private keys are hidden; the public key object of 03
	// already shows that its certificate is for another key.
	ids, err := tok.Identities(ctx)
	if err != nil || len(ids) != 4 {
		t.Fatalf("before login: %d identities, %v", len(ids), err)
	}
	for _, id := range ids {
		want := ErrNotLoggedIn
		if id.ID[0] == 3 {
			want = ErrKeyMismatch
		}
		if id.Key != nil || !errors.Is(id.Err, want) {
			t.Fatalf("before login, %x: key %v, %v (want %v)", id.ID, id.Key, id.Err, want)
		}
	}
	if err := tok.Login(ctx); err != nil {
		t.Fatal(err)
	}
	ids, err = tok.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range ids {
		s := fmt.Sprintf("%x cert=%v key=%v matched=%v", id.ID, id.Certificate != nil, id.Key != nil, id.KeyMatched)
		if id.Err != nil {
			s += " " + sentinelName(id.Err)
		}
		got = append(got, s)
	}
	want := []string{
		"01 cert=true key=true matched=true",
		"02 cert=true key=true matched=true",
		"03 cert=true key=false matched=false ErrKeyMismatch",
		"03 cert=false key=true matched=false", // the key itself, with its public key object
		"04 cert=true key=false matched=false ErrKeyNotFound",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("identities:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	o := ossltest.New(t)
	caFile := ca.pemFile(t, o.Dir)
	msg := []byte("signed on SoftHSM through kep\n")
	for _, id := range ids[:2] {
		checkSignatures(t, id.Key, id.Certificate.PublicKey, msg)
		cms, err := sign.Sign(ctx, bytes.NewReader(msg), id.Key, id.Certificate, sign.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cmsVerify(t, o, hex.EncodeToString(id.ID), cms, msg, caFile)
	}
	if len(p.requests) != 1 || p.requests[0].Key != "" || p.requests[0].Token.Label != tokenLabel {
		t.Fatalf("PIN requests %+v, want one for the token", p.requests)
	}
}

// sentinelName names the sentinel err wraps, for compact comparisons.
func sentinelName(err error) string {
	for name, s := range map[string]error{
		"ErrKeyMismatch": ErrKeyMismatch, "ErrKeyNotFound": ErrKeyNotFound, "ErrNotLoggedIn": ErrNotLoggedIn,
		"ErrNoPublicKey": ErrNoPublicKey, "ErrUnsupportedKey": ErrUnsupportedKey,
	} {
		if errors.Is(err, s) {
			return name
		}
	}
	return err.Error()
}

// checkSignatures signs with every scheme the key's type has and verifies
// with Go's crypto against pub.
func checkSignatures(t *testing.T, k *Key, pub crypto.PublicKey, msg []byte) {
	t.Helper()
	d256 := sha256.Sum256(msg)
	d384 := sha512.Sum384(msg)
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			hh := h.New()
			hh.Write(msg)
			d := hh.Sum(nil)
			sig, err := k.Sign(rand.Reader, d, h)
			if err != nil {
				t.Fatalf("PKCS#1 v1.5 %v: %v", h, err)
			}
			if err := rsa.VerifyPKCS1v15(pub, h, d, sig); err != nil {
				t.Fatalf("PKCS#1 v1.5 %v: %v", h, err)
			}
			for _, salt := range []int{rsa.PSSSaltLengthAuto, rsa.PSSSaltLengthEqualsHash, 20} {
				sig, err := k.Sign(rand.Reader, d, &rsa.PSSOptions{Hash: h, SaltLength: salt})
				if err != nil {
					t.Fatalf("PSS %v salt %d: %v", h, salt, err)
				}
				if err := rsa.VerifyPSS(pub, h, d, sig, nil); err != nil {
					t.Fatalf("PSS %v salt %d: %v", h, salt, err)
				}
			}
		}
		if _, err := k.Sign(rand.Reader, d256[:], crypto.SHA384); err == nil {
			t.Fatal("RSA signed a SHA-256 digest announced as SHA-384")
		}
		if _, err := k.Sign(rand.Reader, d256[:], crypto.Hash(0)); err == nil {
			t.Fatal("RSA signed without a hash")
		}
	case *ecdsa.PublicKey:
		for _, d := range [][]byte{d256[:], d384[:]} {
			sig, err := k.Sign(rand.Reader, d, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !ecdsa.VerifyASN1(pub, d, sig) {
				t.Fatalf("ECDSA signature of a %d-byte digest does not verify", len(d))
			}
		}
	default:
		t.Fatalf("key type %T", pub)
	}
	// SignMessage hashes on the host for RSA and ECDSA.
	sig, err := k.SignMessage(rand.Reader, msg, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	var ok bool
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, d256[:], sig) == nil
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(pub, d256[:], sig)
	}
	if !ok {
		t.Fatal("SignMessage signature does not verify")
	}
	if _, err := k.SignMessage(rand.Reader, msg, crypto.Hash(0)); err == nil {
		t.Fatal("SignMessage without a hash accepted for a non-GOST key")
	}
}

// Keys kep generates are ordinary token objects pkcs11-tool lists, sign,
// and make certificate requests OpenSSL accepts.
func TestSoftHSMGenerateKey(t *testing.T) {
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	p := &pinUI{pin: testPIN}
	_, tok := openSoftHSM(t, tokenLabel, p.ui())
	ctx := context.Background()
	o := ossltest.New(t)

	keys := map[string]*Key{}
	for _, opts := range []KeyOptions{
		{Type: KeyRSA, Label: "kep-rsa", ID: []byte{0x0a, 0x0b}},
		{Type: KeyECDSA, Label: "kep-ec256"},
		{Type: KeyECDSA, Curve: elliptic.P384(), Label: "kep-ec384"},
	} {
		k, err := tok.GenerateKey(ctx, opts)
		if err != nil {
			t.Fatalf("%s: %v", opts.Label, err)
		}
		if k.Label() != opts.Label || len(k.ID()) == 0 || (opts.ID != nil && !bytes.Equal(k.ID(), opts.ID)) {
			t.Fatalf("%s: label %q id %x", opts.Label, k.Label(), k.ID())
		}
		keys[opts.Label] = k
		checkSignatures(t, k, k.Public(), []byte("generated on the token"))
		csr, err := CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: opts.Label}}, k)
		if err != nil {
			t.Fatal(err)
		}
		req, err := x509.ParseCertificateRequest(csr)
		if err != nil || req.CheckSignature() != nil || !equalKeys(req.PublicKey, k.Public()) {
			t.Fatalf("%s: request %v", opts.Label, err)
		}
		requestVerify(t, o, opts.Label, csr)
	}
	if len(p.requests) != 1 {
		t.Fatalf("%d PIN requests, want 1", len(p.requests))
	}
	if rsaPub := keys["kep-rsa"].Public().(*rsa.PublicKey); rsaPub.N.BitLen() != 2048 || rsaPub.E != 65537 {
		t.Fatalf("RSA key %d bits, e=%d", rsaPub.N.BitLen(), rsaPub.E)
	}

	out := h.toolLogin(t, tokenLabel, "--list-objects")
	for label, k := range keys {
		for _, kind := range []string{"Private Key Object", "Public Key Object"} {
			if !toolListsObject(out, kind, label, hex.EncodeToString(k.ID())) {
				t.Errorf("pkcs11-tool does not list the %s %q with ID %x:\n%s", kind, label, k.ID(), out)
			}
		}
	}
	if !strings.Contains(out, "sensitive") || !strings.Contains(out, "never extractable") {
		t.Errorf("private keys not sensitive and unextractable:\n%s", out)
	}

	if _, err := tok.GenerateKey(ctx, KeyOptions{Type: KeyECDSA, ID: []byte{0x0a, 0x0b}}); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("a second key with the same ID: %v", err)
	}
	if _, err := tok.GenerateKey(ctx, KeyOptions{Type: KeyRSA, RSABits: 1024}); !errors.Is(err, ErrUnsupportedKey) {
		t.Fatalf("RSA-1024: %v", err)
	}
	// SoftHSM has no GOST: the refusal comes from the mechanism list.
	if _, err := tok.GenerateKey(ctx, KeyOptions{Type: KeyGOST, ParamSet: gost3410.TC26512A}); !errors.Is(err, ErrMechanismInvalid) || !strings.Contains(err.Error(), "CKM_GOSTR3410_512_KEY_PAIR_GEN") {
		t.Fatalf("GOST on SoftHSM: %v", err)
	}

	// The keys are found again as identities without certificates.
	ids, err := tok.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, id := range ids {
		if k := keys[id.Label]; k != nil && id.Key != nil && id.Certificate == nil && equalKeys(id.Key.Public(), k.Public()) {
			found++
		}
	}
	if found != len(keys) {
		t.Fatalf("found %d of %d generated keys among %d identities", found, len(keys), len(ids))
	}
}

// toolListsObject finds an object of the kind with the label and ID in
// pkcs11-tool --list-objects output.
func toolListsObject(out, kind, label, id string) bool {
	for _, obj := range splitObjects(out) {
		if strings.HasPrefix(obj, kind) && strings.Contains(obj, "\n  label:      "+label+"\n") && strings.Contains(obj, "\n  ID:         "+id+"\n") {
			return true
		}
	}
	return false
}

// splitObjects cuts --list-objects output into one text per object: an
// object starts with an unindented line.
func splitObjects(out string) []string {
	var objs []string
	for _, line := range strings.SplitAfter(out, "\n") {
		if line != "" && line[0] != ' ' {
			objs = append(objs, "")
		}
		if len(objs) > 0 {
			objs[len(objs)-1] += line
		}
	}
	return objs
}

// 50 goroutines sign at once through two Token handles on one token: the
// per-slot lock keeps the sessions sound, and every signature verifies.
func TestSoftHSMConcurrentSigning(t *testing.T) {
	h := newSoftHSM(t)
	h.initToken(t, tokenLabel)
	h.toolLogin(t, tokenLabel, "--keypairgen", "--key-type", "EC:prime256v1", "--id", "01", "--label", "ec")
	h.toolLogin(t, tokenLabel, "--keypairgen", "--key-type", "rsa:2048", "--id", "02", "--label", "rsa")
	p := &pinUI{pin: testPIN}
	m, tok1 := openSoftHSM(t, tokenLabel, p.ui())
	ctx := context.Background()
	tok2, err := m.OpenToken(ctx, Selector{Label: tokenLabel}, p.ui())
	if err != nil {
		t.Fatal(err)
	}
	var keys []*Key
	for _, tok := range []*Token{tok1, tok2} {
		for _, id := range []byte{1, 2} {
			k, err := tok.FindKey(ctx, []byte{id})
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
	}
	const n = 50
	errs := make(chan error, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			k := keys[i%len(keys)]
			msg := fmt.Appendf(nil, "message %d", i)
			d := sha256.Sum256(msg)
			for j := range 4 {
				var sig []byte
				var err error
				if j%2 == 0 {
					sig, err = k.Sign(rand.Reader, d[:], crypto.SHA256)
				} else {
					sig, err = k.SignMessage(rand.Reader, msg, crypto.SHA256)
				}
				if err != nil {
					errs <- fmt.Errorf("goroutine %d: %w", i, err)
					return
				}
				var ok bool
				switch pub := k.Public().(type) {
				case *ecdsa.PublicKey:
					ok = ecdsa.VerifyASN1(pub, d[:], sig)
				case *rsa.PublicKey:
					ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
				}
				if !ok {
					errs <- fmt.Errorf("goroutine %d: signature %d does not verify", i, j)
					return
				}
			}
		}()
	}
	start.Done()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(p.requests) != 1 {
		t.Fatalf("%d PIN requests, want 1", len(p.requests))
	}
}
