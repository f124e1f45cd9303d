package serve

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/trustlist"
)

// trustState is one consistent set of trust anchors: the configured files
// plus the list of accredited CAs. A new one replaces the old atomically
// (Server.trust), so a request sees one version from start to end.
type trustState struct {
	roots, inter []*certs.Certificate
	crls         []*certs.CRL
	list         *trustlist.List // nil without a list
	loaded       time.Time
	source       string
}

// TrustInfo is what GET /v1/trust and /readyz report.
type TrustInfo struct {
	// List is the list of accredited CAs in use, absent when there is none.
	List *TrustListInfo `json:"list,omitempty"`
	// Roots and Intermediates count the anchors and CA certificates in use
	// (the configured files and the list's).
	Roots         int `json:"roots"`
	Intermediates int `json:"intermediates"`
	CRLs          int `json:"crls"`
}

// TrustListInfo identifies a list of accredited CAs.
type TrustListInfo struct {
	Version  int64     `json:"version"`
	Date     time.Time `json:"date"`
	CAs      int       `json:"cas"`
	Source   string    `json:"source"`
	LoadedAt time.Time `json:"loadedAt"`
}

func (t *trustState) info() TrustInfo {
	ti := TrustInfo{Roots: len(t.roots), Intermediates: len(t.inter), CRLs: len(t.crls)}
	if t.list != nil {
		ti.List = &TrustListInfo{Version: t.list.Version, Date: t.list.Date, CAs: len(t.list.CAs), Source: t.source, LoadedAt: t.loaded}
	}
	return ti
}

// loadTrust reads the configured files and the list.
func loadTrust(ctx context.Context, c Config) (*trustState, error) {
	t := &trustState{loaded: time.Now().UTC(), source: c.TrustList}
	var err error
	if t.roots, err = certs.ReadCertificateFiles(c.Trust); err != nil {
		return nil, err
	}
	if t.inter, err = certs.ReadCertificateFiles(c.Intermediates); err != nil {
		return nil, err
	}
	for _, p := range c.CRLs {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		crl, err := certs.ParseCRL(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		t.crls = append(t.crls, crl)
	}
	if c.TrustList != "" {
		if strings.HasPrefix(c.TrustList, "http://") || strings.HasPrefix(c.TrustList, "https://") {
			_, t.list, err = trustlist.Fetch(ctx, nil, c.TrustList)
		} else {
			var data []byte
			if data, err = os.ReadFile(c.TrustList); err == nil {
				t.list, err = trustlist.Parse(bytes.NewReader(data))
			}
		}
		if err != nil {
			return nil, fmt.Errorf("trust list %s: %w", c.TrustList, err)
		}
		r, i := t.list.Certificates()
		t.roots = append(t.roots, r...)
		t.inter = append(t.inter, i...)
	}
	return t, nil
}

// refreshTrust reloads the trust state every interval until ctx ends; a
// failed reload keeps the state in use (and is logged and counted).
func (s *Server) refreshTrust(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.ReloadTrust(ctx)
		}
	}
}

// ReloadTrust reads the trust files and the list again and swaps them in.
func (s *Server) ReloadTrust(ctx context.Context) error {
	ts, err := loadTrust(ctx, s.cfg)
	if err != nil {
		s.metrics.trustReloads.WithLabelValues("error").Inc()
		s.log.Warn("trust reload failed; the previous trust stays in use", "err", err.Error())
		return err
	}
	old := s.trust.Swap(ts)
	s.metrics.trustReloads.WithLabelValues("ok").Inc()
	s.setTrustGauge(ts)
	for _, c := range append(append([]*certs.Certificate{}, ts.roots...), ts.inter...) {
		s.seen.add(ctx, c, "trust")
	}
	if old == nil || old.info().List == nil || ts.list == nil || old.list.Version != ts.list.Version {
		s.log.Info("trust loaded", "trust", ts.info())
	}
	return nil
}

func (s *Server) setTrustGauge(ts *trustState) {
	if ts.list != nil {
		s.metrics.trustVersion.Set(float64(ts.list.Version))
	} else {
		s.metrics.trustVersion.Set(0)
	}
}
