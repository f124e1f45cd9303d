package agent

import (
	"context"
	"sync"
)

// Prompt queue limits: how many prompts may wait for the user.
const (
	maxPromptsPerDomain = 4  // waiting or shown, per registrable domain
	maxPromptsWaiting   = 32 // waiting or shown, in all
)

// turns puts everything that asks the user in one line: one window at a
// time for the whole agent, and one site (registrable domain) cannot fill
// the line. A prompt whose request goes away (its page closed) leaves the
// line, or closes its window when it is shown.
type turns struct {
	global chan struct{}

	mu       sync.Mutex
	waiting  int
	byDomain map[string]int
}

func newTurns() *turns {
	return &turns{global: make(chan struct{}, 1), byDomain: map[string]int{}}
}

// wait takes the user's turn for a prompt of origin; release gives it back.
func (t *turns) wait(ctx context.Context, origin string) (release func(), err error) {
	domain := registrableDomain(origin)
	t.mu.Lock()
	if t.byDomain[domain] >= maxPromptsPerDomain || t.waiting >= maxPromptsWaiting {
		t.mu.Unlock()
		return nil, rpcError(ReasonBusy, "too many kep windows are waiting for the user; try again when they are answered")
	}
	t.byDomain[domain]++
	t.waiting++
	t.mu.Unlock()
	leave := func() {
		t.mu.Lock()
		if t.byDomain[domain]--; t.byDomain[domain] <= 0 {
			delete(t.byDomain, domain)
		}
		t.waiting--
		t.mu.Unlock()
	}
	select {
	case t.global <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-t.global; leave() }) }, nil
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
}
