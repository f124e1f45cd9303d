package gost3410_test

import (
	"bytes"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
	"github.com/kepkit/kep/gost/streebog"
	"github.com/kepkit/kep/internal/ossltest"
)

// TestOpenSSLInterop signs digests with OpenSSL's gost engine and verifies
// them with kep, and the reverse, on every set the engine offers; then does
// the same over whole messages with `openssl dgst -sign/-verify`, which ties
// the Streebog byte order to the signature convention.
func TestOpenSSLInterop(t *testing.T) {
	o := ossltest.New(t)
	perSet := 15
	if testing.Short() {
		perSet = 3
	}
	total := 0
	for _, s := range ossltest.GOSTKeys {
		ps, err := gost3410.ParamSetByName(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		keyPEM := o.MustRun(t, nil, append([]string{"genpkey"}, s.GenpkeyArgs()...)...)
		block, _ := pem.Decode(keyPEM)
		if block == nil {
			t.Fatalf("%s: no PEM from genpkey", s.Name)
		}
		info, err := gostkey.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		priv := info.Key
		keyFile := o.WriteFile(t, s.Name+".key", keyPEM)
		pubFile := o.WriteFile(t, s.Name+".pub", o.MustRun(t, keyPEM, "pkey", "-pubout"))
		n := ps.Size()
		for i := 0; i < perSet; i++ {
			digest := randBytes(t, n)
			dFile := o.WriteFile(t, "d.bin", digest)
			// OpenSSL signs, kep verifies.
			sig := o.MustRun(t, nil, "pkeyutl", "-sign", "-inkey", keyFile, "-in", dFile)
			if err := priv.PublicKey().VerifyDigest(digest, sig); err != nil {
				t.Fatalf("%s: kep rejects OpenSSL's signature %x: %v", s.Name, sig, err)
			}
			// kep signs, OpenSSL verifies.
			ours, err := priv.Sign(nil, digest, nil)
			if err != nil {
				t.Fatal(err)
			}
			sFile := o.WriteFile(t, "s.bin", ours)
			if out, err := o.Run(nil, "pkeyutl", "-verify", "-pubin", "-inkey", pubFile, "-in", dFile, "-sigfile", sFile); err != nil || !strings.Contains(string(out), "Verified Successfully") {
				t.Fatalf("%s: OpenSSL rejects kep's signature: %v %s", s.Name, err, out)
			}
			total += 2
		}
		// A changed signature must fail in OpenSSL too (the peer can say no).
		digest := randBytes(t, n)
		ours, _ := priv.Sign(nil, digest, nil)
		ours[len(ours)-1] ^= 1
		dFile := o.WriteFile(t, "d.bin", digest)
		sFile := o.WriteFile(t, "s.bin", ours)
		if _, err := o.Run(nil, "pkeyutl", "-verify", "-pubin", "-inkey", pubFile, "-in", dFile, "-sigfile", sFile); err == nil {
			t.Fatalf("%s: OpenSSL accepts a changed signature", s.Name)
		}

		// Whole messages: hash with Streebog, sign the digest.
		md := "-md_gost12_256"
		hash := func(m []byte) []byte { h := streebog.Sum256(m); return h[:] }
		if n == 64 {
			md = "-md_gost12_512"
			hash = func(m []byte) []byte { h := streebog.Sum512(m); return h[:] }
		}
		for i := 0; i < 3; i++ {
			msg := randBytes(t, 1+i*1000)
			mFile := o.WriteFile(t, "m.bin", msg)
			sig := o.MustRun(t, nil, "dgst", md, "-sign", keyFile, mFile)
			if err := priv.PublicKey().VerifyDigest(hash(msg), sig); err != nil {
				t.Fatalf("%s: message signature by OpenSSL: %v", s.Name, err)
			}
			ours, err := priv.Sign(nil, hash(msg), nil)
			if err != nil {
				t.Fatal(err)
			}
			sFile := o.WriteFile(t, "s.bin", ours)
			if out, err := o.Run(nil, "dgst", md, "-verify", pubFile, "-signature", sFile, mFile); err != nil || !bytes.Contains(out, []byte("Verified OK")) {
				t.Fatalf("%s: OpenSSL rejects kep's message signature: %v %s", s.Name, err, out)
			}
			total += 2
		}
	}
	t.Logf("%d signatures exchanged with OpenSSL", total)
	if total == 0 {
		t.Fatal("nothing exchanged")
	}
}
