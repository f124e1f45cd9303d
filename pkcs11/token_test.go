package pkcs11

import (
	"context"
	"crypto"
	"errors"
	"testing"
	"time"

	"github.com/kepkit/kep/gost/gost3410"
)

func TestOpenTokenSelection(t *testing.T) {
	f := newFakeModule()
	f.tokens[1] = newFakeToken("alpha", 3)
	f.tokens[2] = newFakeToken("beta", 3)
	f.tokens[3] = newFakeToken("", 3)
	f.tokens[3].flags = 0 // uninitialised
	m := openFake(t, f)
	ctx := context.Background()
	for _, tc := range []struct {
		sel  Selector
		slot uint
		err  error
	}{
		{Selector{Label: "beta"}, 2, nil},
		{Selector{Serial: "SN-alpha"}, 1, nil},
		{Selector{Label: "alpha", Serial: "SN-beta"}, 0, ErrTokenNotFound},
		{Selector{Label: "gamma"}, 0, ErrTokenNotFound},
		{Selector{}, 0, ErrTokenAmbiguous},
	} {
		tok, err := m.OpenToken(ctx, tc.sel, UI{})
		if !errors.Is(err, tc.err) || (err == nil && tok.slot != tc.slot) {
			t.Errorf("%+v: %v, %v", tc.sel, tok, err)
		}
	}
	delete(f.tokens, 2)
	tok, err := m.OpenToken(ctx, Selector{}, UI{})
	if err != nil || tok.info.Label != "alpha" {
		t.Fatalf("the only initialised token: %v %v", tok, err)
	}
	tok, err = m.OpenSlot(ctx, 3, UI{})
	if err != nil || tok.info.Initialized {
		t.Fatalf("OpenSlot: %v %v", tok, err)
	}
	if _, err := m.OpenSlot(ctx, 9, UI{}); !errors.Is(err, ErrTokenNotPresent) {
		t.Fatalf("OpenSlot of an empty slot: %v", err)
	}
	// A write-protected token gets a read-only session.
	f.tokens[1].readOnly = true
	if _, err := m.OpenToken(ctx, Selector{Label: "alpha"}, UI{}); err != nil {
		t.Fatalf("write-protected token: %v", err)
	}
}

// A token pulled out between calls: the failing call and every later one
// give ErrTokenRemoved, also once another token is in the slot.
func TestTokenPulledOut(t *testing.T) {
	key, _ := gost3410.GenerateKey(gost3410.CryptoProA, nil)
	f := newFakeModule()
	f.tokens[1] = newFakeToken("rt", 3, raw256)
	f.addGOST(1, key, []byte{1}, "k", "bare", nil)
	tok := openFakeToken(t, f, (&recordUI{pins: []string{"123456"}}).ui())
	ctx := context.Background()
	k, err := tok.FindKey(ctx, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	digest := streebogSum(gost3410.CryptoProA, []byte("x"))
	if _, err := k.Sign(nil, digest, crypto.Hash(0)); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	delete(f.tokens, 1)
	f.mu.Unlock()
	if _, err := k.Sign(nil, digest, crypto.Hash(0)); !errors.Is(err, ErrTokenRemoved) {
		t.Fatalf("Sign after removal: %v", err)
	}
	f.mu.Lock()
	f.tokens[1] = newFakeToken("rt", 3, raw256) // the same token back
	f.mu.Unlock()
	if _, err := tok.Info(ctx); !errors.Is(err, ErrTokenRemoved) {
		t.Fatalf("Info with the token back: %v (the session is gone)", err)
	}
	if err := tok.Close(); err != nil {
		t.Fatal(err)
	}
}

// An object handle that turns invalid while the token stays is not a
// removal: the token keeps working.
func TestKeyDeletedTokenStays(t *testing.T) {
	key, _ := gost3410.GenerateKey(gost3410.CryptoProA, nil)
	f := newFakeModule()
	f.tokens[1] = newFakeToken("rt", 3, raw256)
	f.addGOST(1, key, []byte{1}, "k", "bare", nil)
	tok := openFakeToken(t, f, (&recordUI{pins: []string{"123456"}}).ui())
	ctx := context.Background()
	k, err := tok.FindKey(ctx, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	delete(f.tokens[1].objects, k.handle)
	f.mu.Unlock()
	digest := streebogSum(gost3410.CryptoProA, []byte("x"))
	if _, err := k.Sign(nil, digest, crypto.Hash(0)); !errors.Is(err, ErrKeyNotFound) || errors.Is(err, ErrTokenRemoved) {
		t.Fatalf("Sign with a deleted key: %v", err)
	}
	if _, err := tok.Info(ctx); err != nil {
		t.Fatalf("Info: %v", err)
	}
}

func TestWatchFake(t *testing.T) {
	f := newFakeModule()
	f.tokens[1] = newFakeToken("alpha", 3)
	m := openFake(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	events := m.Watch(ctx, time.Millisecond)
	next := func() Event {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		return Event{}
	}
	expect := func(kind EventKind, label string) {
		t.Helper()
		if e := next(); e.Kind != kind || e.Token.Label != label {
			t.Fatalf("event %v %q, want %v %q", e.Kind, e.Token.Label, kind, label)
		}
	}
	set := func(slot uint, tok *fakeToken) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if tok == nil {
			delete(f.tokens, slot)
		} else {
			f.tokens[slot] = tok
		}
	}
	expect(TokenInserted, "alpha")
	set(2, newFakeToken("beta", 3))
	expect(TokenInserted, "beta")
	set(1, nil)
	expect(TokenRemoved, "alpha")
	set(2, newFakeToken("gamma", 3)) // swapped between two polls
	expect(TokenRemoved, "beta")
	expect(TokenInserted, "gamma")
	cancel()
	for range events {
	}
	if TokenInserted.String() != "inserted" || WatchFailed.String() != "failed" {
		t.Fatal("EventKind.String")
	}
}

func TestWatchEndsWithModule(t *testing.T) {
	f := newFakeModule()
	f.tokens[1] = newFakeToken("alpha", 3)
	m := openFake(t, f)
	events := m.Watch(context.Background(), time.Millisecond)
	if e := <-events; e.Kind != TokenInserted {
		t.Fatalf("first event %+v", e)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	var last Event
	for e := range events {
		last = e
	}
	if last.Kind != WatchFailed || !errors.Is(last.Err, ErrClosed) {
		t.Fatalf("last event %+v, want WatchFailed with ErrClosed", last)
	}
	if !f.finalized {
		t.Fatal("C_Finalize not called by the last Close")
	}
}
