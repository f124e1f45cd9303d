package serve

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/kepkit/kep/certs"
)

// seenCerts remembers the certificates an instance has been given or has
// seen: the trust anchors and the list's CA certificates, the certificates of
// every signature and login it verified (each path's certificates) and those
// sent to POST /v1/certificates/verify. GET /v1/certificates/{thumbprint}
// answers from here — this instance's memory (up to maxSeen certificates),
// then, with a shared cache, what any instance saw in the last seenTTL.
type seenCerts struct {
	mem    *memCache[seenEntry]
	shared *shared
	now    func() time.Time
}

const (
	maxSeen = 50000
	seenTTL = 30 * 24 * time.Hour
)

type seenEntry struct {
	DER       []byte    `json:"der"`
	Source    string    `json:"source"`
	FirstSeen time.Time `json:"firstSeen"`
}

func (s *seenCerts) add(ctx context.Context, c *certs.Certificate, source string) {
	if c == nil || c.Certificate == nil {
		return
	}
	now := s.now()
	tp := c.Thumbprint()
	if _, ok := s.mem.get(tp, now); ok {
		return
	}
	e := seenEntry{DER: c.Raw, Source: source, FirstSeen: now.UTC().Truncate(time.Second)}
	s.mem.put(tp, e, now.Add(seenTTL), now)
	if s.shared != nil && source != "trust" {
		if b, err := json.Marshal(e); err == nil {
			s.shared.client.SetNX(ctx, s.shared.prefix+"cert:"+tp, b, seenTTL)
		}
	}
}

func (s *seenCerts) get(ctx context.Context, thumbprint string) (seenEntry, bool) {
	tp := strings.ToUpper(thumbprint)
	now := s.now()
	if e, ok := s.mem.get(tp, now); ok {
		return e, true
	}
	if s.shared != nil {
		if b, err := s.shared.get(ctx, "cert:"+tp); err == nil && b != nil {
			var e seenEntry
			if json.Unmarshal(b, &e) == nil {
				return e, true
			}
		}
	}
	return seenEntry{}, false
}
