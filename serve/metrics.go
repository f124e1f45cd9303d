package serve

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the service's Prometheus collectors, in a registry of their
// own (no package-level state).
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec   // endpoint, outcome
	latency      *prometheus.HistogramVec // endpoint, outcome
	inFlight     prometheus.Gauge
	revFetches   *prometheus.CounterVec // kind (ocsp|crl), result (ok|error)
	revCache     *prometheus.CounterVec // level (memory|shared), result (hit|miss)
	revChecks    *prometheus.CounterVec // state
	trustVersion prometheus.Gauge
	trustReloads *prometheus.CounterVec // result
	verdicts     *prometheus.CounterVec // endpoint, indication
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kep_serve_requests_total", Help: "Requests answered, by endpoint and outcome (ok or the error code).",
	}, []string{"endpoint", "outcome"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "kep_serve_request_duration_seconds", Help: "Time from the request's headers to the end of the answer.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"endpoint", "outcome"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kep_serve_requests_in_flight", Help: "Requests being answered now.",
	})
	m.revFetches = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kep_serve_revocation_fetches_total", Help: "HTTP requests to OCSP responders and CRL distribution points.",
	}, []string{"kind", "result"})
	m.revCache = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kep_serve_revocation_cache_total", Help: "Revocation answers looked up in the per-instance and the shared cache.",
	}, []string{"level", "result"})
	m.revChecks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kep_serve_revocation_checks_total", Help: "Revocation checks made (not from a cache), by state.",
	}, []string{"state"})
	m.trustVersion = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kep_serve_trust_list_version", Help: "Version of the list of accredited CAs in use (0: none).",
	})
	m.trustReloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kep_serve_trust_list_reloads_total", Help: "Reloads of the list of accredited CAs.",
	}, []string{"result"})
	m.verdicts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kep_serve_verdicts_total", Help: "Verification results, by endpoint and indication (or login refusal reason).",
	}, []string{"endpoint", "result"})
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.revFetches, m.revCache, m.revChecks,
		m.trustVersion, m.trustReloads, m.verdicts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// countingTransport counts the revocation checker's HTTP requests.
type countingTransport struct {
	next http.RoundTripper
	m    *metrics
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	kind := "crl"
	if strings.Contains(req.Header.Get("Content-Type"), "ocsp") || strings.Contains(req.Header.Get("Accept"), "ocsp") {
		kind = "ocsp"
	}
	resp, err := t.next.RoundTrip(req)
	result := "ok"
	if err != nil || resp.StatusCode >= 400 {
		result = "error"
	}
	t.m.revFetches.WithLabelValues(kind, result).Inc()
	return resp, err
}
