package keptsecret

import (
	"bytes"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestGetPut(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	c := New(time.Minute, clk.now)
	defer c.Close()
	secret := []byte("master key")
	c.Put("tok", []byte("state1"), []byte("1234"), secret)
	secret[0] = 'X' // the cache keeps its own copy
	for _, tc := range []struct {
		name, tok   string
		state, pass string
		want        string
	}{
		{"hit", "tok", "state1", "1234", "master key"},
		{"wrong password", "tok", "state1", "12345", ""},
		{"empty password", "tok", "state1", "", ""},
		{"other name", "tok2", "state1", "1234", ""},
		{"hit again after a wrong password", "tok", "state1", "1234", "master key"},
	} {
		if got := c.Get(tc.tok, []byte(tc.state), []byte(tc.pass)); string(got) != tc.want {
			t.Errorf("%s: Get = %q, want %q", tc.name, got, tc.want)
		}
	}
	got := c.Get("tok", []byte("state1"), []byte("1234"))
	got[0] = 'Y' // a copy: the kept secret is unchanged
	if again := c.Get("tok", []byte("state1"), []byte("1234")); string(again) != "master key" {
		t.Errorf("the kept secret changed through a returned copy: %q", again)
	}
	// Another state (a new PIN, a changed container) drops the entry.
	if got := c.Get("tok", []byte("state2"), []byte("1234")); got != nil || c.Len() != 0 {
		t.Errorf("another state: %q, %d kept", got, c.Len())
	}
	// Expiry on the cache's clock.
	c.Put("tok", []byte("s"), []byte("p"), []byte("k"))
	clk.t = clk.t.Add(time.Minute - time.Nanosecond)
	if c.Get("tok", []byte("s"), []byte("p")) == nil {
		t.Error("dropped before its time")
	}
	clk.t = clk.t.Add(time.Nanosecond)
	if c.Get("tok", []byte("s"), []byte("p")) != nil || c.Len() != 0 {
		t.Error("kept at its time")
	}
}

// TestTagFieldBoundaries: the HMAC covers the fields with their lengths, so
// moving bytes between name, state and password never matches.
func TestTagFieldBoundaries(t *testing.T) {
	c := New(time.Minute, nil)
	defer c.Close()
	if bytes.Equal(c.tag("ab", []byte("c"), []byte("d")), c.tag("a", []byte("bc"), []byte("d"))) ||
		bytes.Equal(c.tag("a", []byte("bc"), []byte("d")), c.tag("a", []byte("b"), []byte("cd"))) {
		t.Error("tags of differently split fields are equal")
	}
}

func TestDropClearClose(t *testing.T) {
	c := New(time.Minute, nil)
	c.Put("a", nil, []byte("p"), []byte("secret-a"))
	c.Put("b", nil, []byte("p"), []byte("secret-b"))
	kept := c.items["a"].secret
	c.Drop("a")
	if !bytes.Equal(kept, make([]byte, len(kept))) || c.Len() != 1 {
		t.Errorf("Drop: secret %q not zeroed or %d kept", kept, c.Len())
	}
	kept = c.items["b"].secret
	c.Clear()
	if !bytes.Equal(kept, make([]byte, len(kept))) || c.Len() != 0 {
		t.Errorf("Clear: secret %q not zeroed or %d kept", kept, c.Len())
	}
	c.Close()
	c.Put("a", nil, []byte("p"), []byte("x"))
	if c.Len() != 0 {
		t.Error("a closed cache keeps a secret")
	}
	var none *Cache
	none.Put("a", nil, nil, []byte("x"))
	none.Drop("a")
	none.Clear()
	none.Close()
	if none.Get("a", nil, nil) != nil || none.Len() != 0 {
		t.Error("a nil cache keeps something")
	}
	zero := New(0, nil)
	zero.Put("a", nil, nil, []byte("x"))
	if zero.Len() != 0 {
		t.Error("a cache with no time keeps a secret")
	}
}

// TestZeroedOnTime: a kept secret is zeroed when its time runs out even if
// nobody asks again (the timer, on the real clock).
func TestZeroedOnTime(t *testing.T) {
	c := New(20*time.Millisecond, nil)
	defer c.Close()
	c.Put("a", nil, []byte("p"), []byte("secret"))
	c.mu.Lock()
	kept := c.items["a"].secret
	c.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for c.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("still kept 10 s after a 20 ms time")
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !bytes.Equal(kept, make([]byte, len(kept))) {
		t.Errorf("not zeroed: %q", kept)
	}
}
