package gost3410

import (
	"bytes"
	"errors"
	"testing"
)

// TestDestroy: a destroyed key's scalar is zero in memory, it no longer
// signs, and its public key still verifies what it signed before.
func TestDestroy(t *testing.T) {
	ps, err := ParamSetByName("tc26-256-a")
	if err != nil {
		t.Fatal(err)
	}
	k, err := GenerateKey(ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	digest := bytes.Repeat([]byte{7}, 32)
	sig, err := k.Sign(nil, digest, nil)
	if err != nil {
		t.Fatal(err)
	}
	k.Destroy()
	if !bytes.Equal(k.dBytes, make([]byte, len(k.dBytes))) || k.d != (fe{}) {
		t.Error("the scalar is still in memory")
	}
	if _, err := k.Sign(nil, digest, nil); !errors.Is(err, ErrDestroyed) {
		t.Errorf("Sign after Destroy: %v, want ErrDestroyed", err)
	}
	if err := k.PublicKey().VerifyDigest(digest, sig); err != nil {
		t.Errorf("the public key after Destroy: %v", err)
	}
}
