package agent

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/net/publicsuffix"
)

// registrableDomain is the part of origin's host one owner controls: its
// registrable domain (eTLD+1 by the public suffix list), or the host itself
// for IP addresses, localhost and hosts the list cannot split. Sub-origins
// of one site (a.evil.example, b.evil.example) share it, so limits and
// cool-downs keyed by it cannot be multiplied with subdomains.
func registrableDomain(origin string) string {
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return origin
	}
	host := strings.ToLower(u.Hostname())
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return host
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return d
}

// connQuota shares the connection slots: every connection takes one of
// Limits.MaxConnections; a connection of a site the user has not approved
// also takes one of the smaller shares for unapproved sites, per origin and
// per registrable domain, so that a hostile page cannot take the slots an
// approved site needs.
type connQuota struct {
	lim Limits

	mu         sync.Mutex
	total      int
	unapproved int
	perDomain  map[string]int
	perOrigin  map[string]int
}

func newConnQuota(lim Limits) *connQuota {
	return &connQuota{lim: lim, perDomain: map[string]int{}, perOrigin: map[string]int{}}
}

// take reserves a slot for a connection of origin; approved says whether
// the site is approved now. It returns the slot, or nil when the limits
// are reached.
func (q *connQuota) take(origin string, approved bool) *connSlot {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.total >= q.lim.MaxConnections {
		return nil
	}
	s := &connSlot{q: q, origin: origin, domain: registrableDomain(origin)}
	if !approved {
		if q.unapproved >= q.lim.MaxUnapprovedConnections ||
			q.perDomain[s.domain] >= q.lim.MaxUnapprovedPerDomain ||
			q.perOrigin[origin] >= q.lim.MaxUnapprovedPerOrigin {
			return nil
		}
		q.unapproved++
		q.perDomain[s.domain]++
		q.perOrigin[origin]++
		s.unapproved = true
	}
	q.total++
	return s
}

// connSlot is one connection's reservation.
type connSlot struct {
	q              *connQuota
	origin, domain string
	unapproved     bool // holds an unapproved share
	released       bool
}

// approve gives back the unapproved share once the site is approved.
func (s *connSlot) approve() {
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	s.dropShareLocked()
}

func (s *connSlot) dropShareLocked() {
	if !s.unapproved {
		return
	}
	s.unapproved = false
	q := s.q
	q.unapproved--
	if q.perDomain[s.domain]--; q.perDomain[s.domain] <= 0 {
		delete(q.perDomain, s.domain)
	}
	if q.perOrigin[s.origin]--; q.perOrigin[s.origin] <= 0 {
		delete(q.perOrigin, s.origin)
	}
}

func (s *connSlot) release() {
	s.q.mu.Lock()
	defer s.q.mu.Unlock()
	if s.released {
		return
	}
	s.released = true
	s.dropShareLocked()
	s.q.total--
}

// budget is the memory the agent lets messages in flight take, all
// connections together: a message is read in steps, each reserved before
// it is read, and given back when its request is over. A client that would
// go past it waits (its socket is not read, so TCP slows the sender), and
// is disconnected when it waits too long.
type budget struct {
	mu   sync.Mutex
	free int64
	wake chan struct{}
}

func newBudget(n int64) *budget { return &budget{free: n} }

func (b *budget) acquire(ctx context.Context, n int64) error {
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			return nil
		}
		if b.wake == nil {
			b.wake = make(chan struct{})
		}
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (b *budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.free += n
	if b.wake != nil {
		close(b.wake)
		b.wake = nil
	}
	b.mu.Unlock()
}
