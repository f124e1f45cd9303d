package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509/pkix"
	"errors"
	"os"
	"testing"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/soft"
	"github.com/kepkit/kep/sign"
)

// TestKepPackage drives the module through kep's own pkcs11 package,
// loaded into this process: identities, login with the PIN counter, CMS
// signatures OpenSSL accepts, key generation and token removal. It is one
// test because the module is loaded once per process.
func TestKepPackage(t *testing.T) {
	f := newFixture(t)
	t.Setenv("KEP_SOFT_DIR", f.dir)
	ctx := context.Background()
	m, err := pkcs11.Open(ctx, soPath)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	info, err := m.Info(ctx)
	if err != nil || info.Cryptoki != "2.40" {
		t.Fatalf("Info %+v %v", info, err)
	}

	pins := []string{"000000", testPIN} // a wrong PIN first
	var reqs []pkcs11.PINRequest
	ui := pkcs11.UI{RequestPIN: func(_ context.Context, req pkcs11.PINRequest) ([]byte, error) {
		reqs = append(reqs, req)
		if len(pins) == 0 {
			return nil, errors.New("no more PINs")
		}
		p := pins[0]
		pins = pins[1:]
		return []byte(p), nil
	}}
	tok, err := m.OpenToken(ctx, pkcs11.Selector{Label: "kep test"}, ui)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	ids, err := tok.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || !errors.Is(ids[0].Err, pkcs11.ErrNotLoggedIn) {
		t.Fatalf("identities before login: %d, %v", len(ids), ids)
	}
	if err := tok.Login(ctx); !errors.Is(err, pkcs11.ErrPINIncorrect) {
		t.Fatalf("wrong PIN: %v", err)
	}
	if ti, err := tok.Info(ctx); err != nil || !ti.PINCountLow || ti.PINFinalTry || ti.PINLocked {
		t.Fatalf("after a wrong PIN: %+v %v", ti, err)
	}
	if err := tok.Login(ctx); err != nil {
		t.Fatal(err)
	}
	if ti, _ := tok.Info(ctx); ti.PINCountLow || len(reqs) != 2 || !reqs[1].Token.PINCountLow {
		t.Fatalf("after the right PIN: %+v, requests %+v", ti, reqs)
	}
	if ids, err = tok.Identities(ctx); err != nil {
		t.Fatal(err)
	}
	content := []byte("Акт сверки, 2024\n")
	contentFile := f.pki.O.WriteFile(t, "content.txt", content)
	var gostKey *pkcs11.Key
	for i, leaf := range f.leaves {
		var id *pkcs11.Identity
		for _, x := range ids {
			if bytes.Equal(x.ID, f.objs[i].ID) {
				id = x
			}
		}
		if id == nil || id.Err != nil || id.Key == nil || !id.KeyMatched || !bytes.Equal(id.Certificate.Raw, leaf.Cert.Raw) {
			t.Fatalf("%s: identity %+v", leaf.Key.Name, id)
		}
		key, err := tok.FindKey(ctx, id.ID)
		if err != nil {
			t.Fatal(err)
		}
		gostKey = key
		if bits := key.Public().(*gost3410.PublicKey).Params().BitSize(); bits != []int{256, 512}[i] {
			t.Fatalf("%s: %d-bit key", leaf.Key.Name, bits)
		}
		sig, err := sign.Sign(ctx, bytes.NewReader(content), key, id.Certificate, sign.Options{})
		if err != nil {
			t.Fatalf("%s: %v", leaf.Key.Name, err)
		}
		sigFile := f.pki.O.WriteFile(t, leaf.Key.Name+".sig", sig)
		f.pki.O.MustRun(t, nil, "cms", "-verify", "-binary", "-inform", "DER", "-in", sigFile,
			"-content", contentFile, "-CAfile", f.pki.Root.CertFile, "-purpose", "any", "-out", os.DevNull)
		// The hash-on-token mechanism too, through SignMessage.
		msgSig, err := key.SignMessage(nil, content, nil)
		if err != nil || len(msgSig) != []int{64, 128}[i] {
			t.Fatalf("%s: SignMessage: %d bytes, %v", leaf.Key.Name, len(msgSig), err)
		}
	}

	// A key generated through the module is a soft token key.
	gen, err := tok.GenerateKey(ctx, pkcs11.KeyOptions{Type: pkcs11.KeyGOST, ParamSet: gost3410.TC26512A, ID: []byte{0xAB}, Label: "generated"})
	if err != nil {
		t.Fatal(err)
	}
	digest := make([]byte, 64)
	if _, err := gen.Sign(nil, digest, nil); err != nil {
		t.Fatal(err)
	}
	st, err := soft.Open(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Login([]byte(testPIN)); err != nil {
		t.Fatal(err)
	}
	objs, err := st.Objects()
	if err != nil || len(objs) != 3 {
		t.Fatalf("soft objects after GenerateKey: %d %v", len(objs), err)
	}

	// RSA and ECDSA keys made by the soft token sign through CKM_RSA_PKCS and
	// CKM_ECDSA; the package verifies every signature before returning it.
	for _, kt := range []pkcs11.KeyType{pkcs11.KeyRSA, pkcs11.KeyECDSA} {
		obj, err := st.GenerateKey(pkcs11.KeyOptions{Type: kt})
		if err != nil {
			t.Fatal(err)
		}
		key, err := tok.FindKey(ctx, obj.ID)
		if err != nil {
			t.Fatal(err)
		}
		d := sha256.Sum256(content)
		sig, err := key.Sign(nil, d[:], crypto.SHA256)
		if err != nil {
			t.Fatalf("%T: %v", obj.Public, err)
		}
		if err := certs.VerifyDigest(obj.Public, sigAlg(t, obj.Public), certs.DefaultDigestFor(obj.Public), d[:], sig); err != nil {
			t.Fatalf("%T: %v", obj.Public, err)
		}
	}

	// The token goes away mid-session: typed errors, no panic.
	if err := os.RemoveAll(f.dir); err != nil {
		t.Fatal(err)
	}
	_, err = gostKey.Sign(nil, make([]byte, 64), nil)
	if !errors.Is(err, pkcs11.ErrTokenRemoved) && !errors.Is(err, pkcs11.ErrTokenNotPresent) {
		t.Fatalf("Sign on a removed token: %v", err)
	}
	if _, err := tok.Identities(ctx); !errors.Is(err, pkcs11.ErrTokenRemoved) {
		t.Fatalf("Identities on a removed token: %v", err)
	}
	if toks, err := m.Tokens(ctx); err != nil || len(toks) != 0 {
		t.Fatalf("Tokens after removal: %v %v", toks, err)
	}
}

func sigAlg(t *testing.T, pub crypto.PublicKey) pkix.AlgorithmIdentifier {
	t.Helper()
	a, err := certs.SignatureAlgorithmFor(pub, certs.DefaultDigestFor(pub))
	if err != nil {
		t.Fatal(err)
	}
	return a
}
