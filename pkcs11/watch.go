package pkcs11

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"
)

// EventKind says what happened to a token.
type EventKind int

// The kinds of Event.
const (
	TokenInserted EventKind = iota + 1 // a token appeared (or was present when Watch started)
	TokenRemoved                       // a token went away (or another one took its slot)
	WatchFailed                        // listing the tokens failed; Err says why
)

func (k EventKind) String() string {
	switch k {
	case TokenInserted:
		return "inserted"
	case TokenRemoved:
		return "removed"
	case WatchFailed:
		return "failed"
	}
	return "unknown"
}

// Event is a change Watch saw.
type Event struct {
	Kind  EventKind
	Token TokenInfo // the token inserted or removed (as it was when last seen)
	Err   error     // for WatchFailed
}

// Watch polls the module's tokens every interval (one second when not
// positive) and reports insertions and removals: first a TokenInserted for
// every token present, then the changes. Polling works with every module;
// C_WaitForSlotEvent is not used (many modules do not implement it, and it
// blocks a thread that cannot be cancelled). A token is identified by slot,
// label and serial number, so a token swapped in the same slot between two
// polls is a removal and an insertion. A failed poll is reported as
// WatchFailed and polling goes on; the channel is closed when ctx is done
// or the module is closed. Read the channel promptly: Watch waits for the
// reader before polling again.
func (m *Module) Watch(ctx context.Context, interval time.Duration) <-chan Event {
	if interval <= 0 {
		interval = time.Second
	}
	ch := make(chan Event)
	go func() {
		defer close(ch)
		send := func(e Event) bool {
			select {
			case ch <- e:
				return true
			case <-ctx.Done():
				return false
			}
		}
		seen := map[uint]TokenInfo{}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			tokens, err := m.Tokens(ctx)
			switch {
			case ctx.Err() != nil:
				return
			case errors.Is(err, ErrClosed):
				send(Event{Kind: WatchFailed, Err: err})
				return
			case err != nil:
				if !send(Event{Kind: WatchFailed, Err: err}) {
					return
				}
			default:
				if !diff(seen, tokens, send) {
					return
				}
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// diff sends the events that turn seen into now and updates seen; false
// when the receiver is gone.
func diff(seen map[uint]TokenInfo, now []TokenInfo, send func(Event) bool) bool {
	cur := make(map[uint]TokenInfo, len(now))
	for _, t := range now {
		cur[t.Slot] = t
	}
	for _, slot := range slices.Sorted(maps.Keys(seen)) {
		old := seen[slot]
		if t, ok := cur[slot]; ok && t.Label == old.Label && t.Serial == old.Serial {
			continue
		}
		delete(seen, slot)
		if !send(Event{Kind: TokenRemoved, Token: old}) {
			return false
		}
	}
	for _, t := range now {
		if _, ok := seen[t.Slot]; ok {
			continue
		}
		seen[t.Slot] = t
		if !send(Event{Kind: TokenInserted, Token: t}) {
			return false
		}
	}
	return true
}
