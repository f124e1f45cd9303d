package verify

import (
	"testing"
	"time"
)

// TestTimestampOrder: content ≤ signature ≤ CAdES-C/certCRL time-stamps
// (EN 319 102-1), failed time-stamps take no part, the first failure is
// INDETERMINATE/TIMESTAMP_ORDER_FAILURE.
func TestTimestampOrder(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ts := func(kind string, d time.Duration, ind string) *Timestamp {
		return &Timestamp{Kind: kind, Time: t0.Add(d), Indication: ind}
	}
	for _, c := range []struct {
		name           string
		content, sig   *Timestamp
		later          []*Timestamp
		status, subInd string // "" status: no TIMESTAMP_ORDER check
	}{
		{"in order", ts(TimestampContent, 0, TotalPassed), ts(TimestampSignature, time.Minute, TotalPassed),
			[]*Timestamp{ts(TimestampCAdESC, 2*time.Minute, TotalPassed), nil}, Passed, ""},
		{"equal times", ts(TimestampContent, 0, TotalPassed), ts(TimestampSignature, 0, TotalPassed), nil, Passed, ""},
		{"signature before content", ts(TimestampContent, time.Minute, TotalPassed), ts(TimestampSignature, 0, TotalPassed), nil, Failed, TimestampOrderFailure},
		{"CAdES-C before signature", nil, ts(TimestampSignature, time.Minute, TotalPassed),
			[]*Timestamp{ts(TimestampCAdESC, 0, TotalPassed)}, Failed, TimestampOrderFailure},
		{"certCRL before signature", nil, ts(TimestampSignature, time.Minute, TotalPassed),
			[]*Timestamp{nil, ts(TimestampRefs, 0, TotalPassed)}, Failed, TimestampOrderFailure},
		{"a failed time-stamp takes no part", ts(TimestampContent, time.Hour, TotalFailed), ts(TimestampSignature, 0, TotalPassed), nil, "", ""},
		{"only a signature time-stamp", nil, ts(TimestampSignature, 0, TotalPassed), []*Timestamp{nil, nil}, "", ""},
	} {
		r := &SignerReport{}
		checkTimestampOrder(signerState{r}, c.content, c.sig, c.later...)
		got := ""
		for _, ch := range r.Checks {
			if ch.Code == "TIMESTAMP_ORDER" && (got == "" || ch.Status == Failed) {
				got = ch.Status
			}
		}
		if got != c.status || r.SubIndication != c.subInd || (c.subInd != "" && r.Indication != Indeterminate) {
			t.Errorf("%s: check %q %s/%s, want %q %s", c.name, got, r.Indication, r.SubIndication, c.status, c.subInd)
		}
	}
}

// TestOutcome: a signer's indication is its worst failure — TOTAL_FAILED
// beats INDETERMINATE — and among failures of one kind the first keeps its
// sub-indication.
func TestOutcome(t *testing.T) {
	type step struct{ ind, sub string }
	for _, c := range []struct {
		name     string
		steps    []step
		ind, sub string
	}{
		{"indeterminate", []step{{Indeterminate, "A"}}, Indeterminate, "A"},
		{"the first indeterminate", []step{{Indeterminate, "A"}, {Indeterminate, "B"}}, Indeterminate, "A"},
		{"failed beats indeterminate", []step{{Indeterminate, "A"}, {TotalFailed, "B"}}, TotalFailed, "B"},
		{"indeterminate after failed", []step{{TotalFailed, "A"}, {Indeterminate, "B"}}, TotalFailed, "A"},
		{"the first failure", []step{{TotalFailed, "A"}, {TotalFailed, "B"}}, TotalFailed, "A"},
	} {
		r := &SignerReport{Indication: TotalPassed}
		for _, s := range c.steps {
			signerState{r}.outcome(s.ind, s.sub)
		}
		if r.Indication != c.ind || r.SubIndication != c.sub {
			t.Errorf("%s: %s/%s, want %s/%s", c.name, r.Indication, r.SubIndication, c.ind, c.sub)
		}
	}
}
