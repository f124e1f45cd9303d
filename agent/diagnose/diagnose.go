// Package diagnose names every reason a КЭП login or signature fails on the
// user's side — no token driver, no pcscd, no token, a locked PIN, an
// expired, revoked or untrusted certificate, a wrong clock, the agent not
// running — with a stable code, a Russian and an English message, the
// evidence and what to do. `kep doctor` prints the findings; the agent's
// agent.diagnose method returns them to pages.
//
// Run works on what the caller gathered (Input): it never prompts and never
// logs in to a token, so running it costs no PIN try.
package diagnose

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/peercred"
	"github.com/kepkit/kep/pkcs11"
	"github.com/kepkit/kep/pkcs11/keystore"
)

// Severity of a finding.
type Severity string

// Severities, from the worst.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Finding is one thing found.
type Finding struct {
	Code      string         `json:"code"`
	Severity  Severity       `json:"severity"`
	Message   string         `json:"message"`
	MessageRU string         `json:"messageRu"`
	Fix       string         `json:"fix,omitempty"`
	FixRU     string         `json:"fixRu,omitempty"`
	Evidence  map[string]any `json:"evidence,omitempty"`
}

// Text is the finding's message and fix in lang ("ru" or "en").
func (f Finding) Text(lang string) (msg, fix string) {
	if lang == "ru" {
		return f.MessageRU, f.FixRU
	}
	return f.Message, f.Fix
}

// Report is the outcome of Run.
type Report struct {
	Time     time.Time `json:"time"`
	Findings []Finding `json:"findings"`
}

// HasErrors reports whether a finding is an error.
func (r *Report) HasErrors() bool {
	for _, f := range r.Findings {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

// Has reports whether a finding has the code.
func (r *Report) Has(code string) bool {
	for _, f := range r.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

// New makes the finding code with its catalogue texts; args fill the
// messages' %s verbs, evidence is attached as is.
func New(code string, evidence map[string]any, args ...any) Finding {
	e, ok := catalogue[code]
	if !ok {
		return Finding{Code: code, Severity: Error, Message: code, MessageRU: code, Evidence: evidence}
	}
	return Finding{Code: code, Severity: e.severity, Message: fmt.Sprintf(e.en, args...), MessageRU: fmt.Sprintf(e.ru, args...),
		Fix: e.fixEN, FixRU: e.fixRU, Evidence: evidence}
}

// FromError names the user-side cause of an operation's error, when it has
// one (a wrong or locked PIN, a missing token, a key that does not match).
func FromError(err error, token string) (Finding, bool) {
	ev := map[string]any{"error": err.Error()}
	switch {
	case errors.Is(err, pkcs11.ErrPINIncorrect):
		return New(PINIncorrect, ev, token), true
	case errors.Is(err, pkcs11.ErrPINLocked):
		return New(PINLocked, ev, token), true
	case errors.Is(err, pkcs11.ErrTokenNotPresent), errors.Is(err, pkcs11.ErrTokenRemoved), errors.Is(err, pkcs11.ErrTokenNotFound):
		return New(TokenNotPresent, ev), true
	case errors.Is(err, pkcs11.ErrKeyMismatch):
		return New(KeyCertMismatch, ev, token), true
	case errors.Is(err, pkcs11.ErrModuleLoad):
		return New(ModuleLoadFailed, ev, "", err.Error()), true
	}
	return Finding{}, false
}

// Reference is a clock to compare this computer's with.
type Reference struct {
	Time   time.Time
	Source string // e.g. "the server of https://portal.example.ru"
}

// Input is what Run looks at. The zero value of each field means "not
// gathered": its checks are skipped.
type Input struct {
	// Modules are the PKCS#11 modules tried (keystore.Store.Modules).
	Modules []pkcs11.ModuleStatus
	// SoftToken is set when a software token is configured.
	SoftToken bool
	// Tokens and Entries are what the keystore lists; ListErr its error.
	Tokens  []keystore.Token
	Entries []*keystore.Entry
	ListErr error
	// CertID limits the certificate checks to one certificate.
	CertID string
	// Roots, Intermediates, CRLs and Revocation validate the chains.
	Roots, Intermediates []*certs.Certificate
	// ReportUnchecked adds a CHAIN_NOT_CHECKED warning when there are
	// certificates but no Roots, instead of skipping the chain checks
	// silently.
	ReportUnchecked bool
	CRLs            []*certs.CRL
	Revocation      certs.RevocationChecker
	// Accredited, when set, says whether the CA certificate was an
	// accredited CA at a time (the Минцифры list).
	Accredited func(ca *certs.Certificate, at time.Time) (bool, error)
	// PCSCSocket is pcscd's socket (/run/pcscd/pcscd.comm when empty); its
	// absence matters only for smart-card modules on Linux.
	PCSCSocket string
	// References are clocks to compare with; MaxSkew the tolerance (5
	// minutes when zero).
	References []Reference
	MaxSkew    time.Duration
	// AgentURL is the agent's discovery address to try (skipped when empty).
	AgentURL string
	HTTP     *http.Client
	// Origin is a site the user wants to use; Approved whether the agent
	// allows it.
	Origin   string
	Approved bool
	// Now is this computer's clock (time.Now when zero).
	Now time.Time
}

// smartCardVendors are the module vendors whose tokens go through pcscd.
var smartCardVendors = map[string]bool{"Rutoken": true, "JaCarta": true, "SafeNet eToken": true, "OpenSC": true}

// Run makes every check the input allows and returns the findings, errors
// first.
func Run(ctx context.Context, in Input) *Report {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	r := &Report{Time: now.UTC()}
	add := func(f Finding) { r.Findings = append(r.Findings, f) }

	// Modules and readers.
	loaded, smartCard := 0, false
	for _, m := range in.Modules {
		switch {
		case m.Loaded:
			loaded++
			smartCard = smartCard || smartCardVendors[m.Vendor]
		case m.Source != pkcs11.SourceWellKnown || !errors.Is(m.Err, pkcs11.ErrModuleLoad) || fileExists(m.Path):
			// Explicit and configured modules that fail, and vendor libraries
			// that are installed but do not load; not the paths merely tried.
			msg := ""
			if m.Err != nil {
				msg = m.Err.Error()
			}
			add(New(ModuleLoadFailed, map[string]any{"module": m.Path, "source": string(m.Source), "error": msg}, m.Path, msg))
		}
	}
	if in.Modules != nil && loaded == 0 && !in.SoftToken {
		add(New(ModuleNotFound, map[string]any{"tried": len(in.Modules)}))
	}
	if smartCard && pcscMissing(in.PCSCSocket) {
		f := New(PCSCNotRunning, map[string]any{"socket": pcscSocket(in.PCSCSocket)})
		if len(in.Tokens) > 0 || in.SoftToken {
			f.Severity = Warning // other tokens (or the software token) work; a USB token would not
		}
		add(f)
	}

	// Tokens and their PINs.
	if (loaded > 0 || in.SoftToken) && len(in.Tokens) == 0 {
		ev := map[string]any{}
		if in.ListErr != nil {
			ev["error"] = in.ListErr.Error()
		}
		add(New(TokenNotPresent, ev))
	}
	withCerts := map[string]bool{}
	for _, e := range in.Entries {
		withCerts[tokenKey(e.Token)] = true
	}
	for _, t := range in.Tokens {
		ti := t.Info
		ev := map[string]any{"token": ti.Label, "serial": ti.Serial, "source": t.Source}
		switch {
		case ti.PINLocked:
			add(New(PINLocked, ev, ti.Label))
		case ti.PINFinalTry:
			add(New(PINFinalTry, ev, ti.Label))
		case ti.PINCountLow:
			add(New(PINIncorrect, ev, ti.Label))
		}
		if !withCerts[tokenKey(t)] {
			add(New(NoCertificates, ev, ti.Label))
		}
	}

	// Certificates. The OCSP answers fetched on the way are clocks too.
	var ocsp *producedAtRecorder
	if in.Revocation != nil {
		ocsp = &producedAtRecorder{inner: in.Revocation}
		in.Revocation = ocsp
	}
	if in.ReportUnchecked && in.Roots == nil && len(in.Entries) > 0 {
		add(New(ChainNotChecked, map[string]any{"certificates": len(in.Entries)}))
	}
	want := keystore.NormalizeID(in.CertID)
	for _, e := range in.Entries {
		if want != "" && e.ID != want {
			continue
		}
		for _, f := range checkCertificate(ctx, e, in, now) {
			add(f)
		}
	}

	// Clock.
	maxSkew := in.MaxSkew
	if maxSkew <= 0 {
		maxSkew = 5 * time.Minute
	}
	for _, ref := range in.References {
		if skew := now.Sub(ref.Time); skew > maxSkew || skew < -maxSkew {
			add(New(ClockSkew, map[string]any{"skewSeconds": int64(skew.Seconds()), "reference": ref.Source,
				"referenceTime": ref.Time.UTC(), "localTime": now.UTC()}, ref.Source, formatSkew(skew)))
		}
	}
	if ocsp != nil {
		// An OCSP response cannot be produced in the future: one that was
		// shows this clock is behind. (Responses may be hours old, so an
		// old producedAt says nothing.)
		if ref, ok := ocsp.latest(); ok && ref.Time.Sub(now) > maxSkew && len(in.References) == 0 {
			skew := now.Sub(ref.Time)
			add(New(ClockSkew, map[string]any{"skewSeconds": int64(skew.Seconds()), "reference": ref.Source,
				"referenceTime": ref.Time.UTC(), "localTime": now.UTC()}, ref.Source, formatSkew(skew)))
		}
	}

	// The agent and the site.
	if in.AgentURL != "" {
		// Another local user's program on the port receives what pages
		// send, even when it answers as kep.
		if o, ok := foreignListener(in.AgentURL); ok {
			add(New(PortTaken, map[string]any{"port": o.port, "uid": o.UID, "user": o.user, "pid": o.PID, "command": o.Command}, o.port, o.who()))
		} else if err := probeAgent(ctx, in.HTTP, in.AgentURL); err != nil {
			add(New(AgentUnreachable, map[string]any{"url": in.AgentURL, "error": err.Error()}, in.AgentURL))
		}
	}
	if in.Origin != "" && !in.Approved {
		add(New(OriginNotApproved, map[string]any{"origin": in.Origin}, in.Origin))
	}

	rank := map[Severity]int{Error: 0, Warning: 1, Info: 2}
	sort.SliceStable(r.Findings, func(i, j int) bool { return rank[r.Findings[i].Severity] < rank[r.Findings[j].Severity] })
	return r
}

func tokenKey(t keystore.Token) string { return t.Source + "\x00" + t.Module + "\x00" + t.Info.Serial }

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func pcscSocket(p string) string {
	if p == "" {
		return "/run/pcscd/pcscd.comm"
	}
	return p
}

func pcscMissing(p string) bool {
	if os.PathSeparator == '\\' {
		return false // Windows has its own smart card service
	}
	return !fileExists(pcscSocket(p))
}

func formatSkew(d time.Duration) string {
	sign := "ahead"
	if d < 0 {
		sign, d = "behind", -d
	}
	return fmt.Sprintf("%v (%s)", d.Round(time.Second), sign)
}

func name(c *certs.Certificate) string {
	q := c.Qualified
	switch {
	case q.Organization != "" && q.Surname != "":
		return q.Organization + " (" + strings.TrimSpace(q.Surname+" "+q.GivenName) + ")"
	case q.CommonName != "":
		return q.CommonName
	}
	return c.SubjectString()
}

func date(t time.Time) string { return t.Local().Format("02.01.2006") }

// checkCertificate makes the findings about one certificate.
func checkCertificate(ctx context.Context, e *keystore.Entry, in Input, now time.Time) []Finding {
	c := e.Certificate
	who := name(c)
	ev := map[string]any{"thumbprint": e.ID, "subject": c.SubjectString(), "notBefore": c.NotBefore.UTC(), "notAfter": c.NotAfter.UTC(), "token": e.Token.Info.Label}
	var out []Finding
	if e.Key == keystore.KeyMismatch {
		out = append(out, New(KeyCertMismatch, ev, who))
	}
	if strings.Contains(c.KeyAlgorithm, "2001") {
		out = append(out, New(AlgorithmUnsupported, ev, who, c.KeyAlgorithm))
	}
	switch {
	case now.After(c.NotAfter):
		out = append(out, New(CertExpired, ev, who, date(c.NotAfter)))
	case now.Before(c.NotBefore):
		out = append(out, New(CertNotYetValid, ev, who, date(c.NotBefore)))
	case c.NotAfter.Sub(now) < 30*24*time.Hour:
		out = append(out, New(CertExpiring, ev, who, date(c.NotAfter)))
	}
	if in.Roots == nil {
		return out
	}
	res := certs.VerifyContext(ctx, c, certs.VerifyOptions{Roots: in.Roots, Intermediates: append(append([]*certs.Certificate(nil), in.Intermediates...), e.Chain...),
		CRLs: in.CRLs, Revocation: in.Revocation, At: now, Purpose: certs.PurposeAny})
	switch res.SubIndication {
	case certs.SubNoCertificateChainFound:
		last := res.Chain[len(res.Chain)-1]
		if selfSigned(last) {
			out = append(out, New(RootNotTrusted, withKV(ev, "root", last.SubjectString(), "rootThumbprint", last.Thumbprint()), name(last)))
		} else {
			out = append(out, New(ChainIncomplete, withKV(ev, "missingIssuer", last.IssuerString()), who, last.Issuer.CommonName))
		}
	case certs.SubRevokedNoPOE, certs.SubRevokedCANoPOE:
		out = append(out, New(CertRevoked, withKV(ev, "detail", failedDetail(res, certs.CheckRevocation)), who))
	case certs.SubTryLater, certs.SubRevocationOutOfBoundsNoPOE:
		out = append(out, New(RevocationUnknown, withKV(ev, "detail", failedDetail(res, certs.CheckRevocation)), who))
	}
	if in.Accredited != nil && res.Valid() && len(res.Chain) > 1 {
		issuer := res.Chain[1]
		if ok, err := in.Accredited(issuer, now); err == nil && !ok {
			out = append(out, New(IssuerNotAccredited, withKV(ev, "issuer", issuer.SubjectString()), issuer.Subject.CommonName, date(now)))
		}
	}
	if len(out) == 0 && res.Valid() {
		out = append(out, New(CertOK, ev, who, date(c.NotAfter)))
	}
	return out
}

func selfSigned(c *certs.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

func withKV(m map[string]any, kv ...string) map[string]any {
	out := make(map[string]any, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func failedDetail(r *certs.ChainResult, code string) string {
	for _, c := range r.Checks {
		if c.Code == code && c.Status == certs.StatusFailed {
			return c.Detail
		}
	}
	return ""
}

// producedAtRecorder passes revocation checks through and keeps the
// latest OCSP producedAt seen.
type producedAtRecorder struct {
	inner certs.RevocationChecker
	mu    sync.Mutex
	ref   Reference
}

func (p *producedAtRecorder) CheckRevocation(ctx context.Context, c, issuer *certs.Certificate, at time.Time) (*certs.RevocationStatus, error) {
	st, err := p.inner.CheckRevocation(ctx, c, issuer, at)
	if err == nil && st != nil && !st.ProducedAt.IsZero() {
		p.mu.Lock()
		if st.ProducedAt.After(p.ref.Time) {
			p.ref = Reference{Time: st.ProducedAt, Source: "the OCSP responder " + st.URL}
		}
		p.mu.Unlock()
	}
	return st, err
}

func (p *producedAtRecorder) latest() (Reference, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ref, !p.ref.Time.IsZero()
}

// probeAgent asks the agent's discovery endpoint whether kep answers.
func probeAgent(ctx context.Context, client *http.Client, url string) error {
	if client == nil {
		client = &http.Client{Timeout: 3 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var d struct{ Name string }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&d); err != nil || d.Name != "kep" {
		return fmt.Errorf("something else answers there (HTTP %d)", resp.StatusCode)
	}
	return nil
}

// ServerTime reads the Date header of url (HEAD) as a clock reference.
func ServerTime(ctx context.Context, client *http.Client, url string) (Reference, error) {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return Reference{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return Reference{}, err
	}
	resp.Body.Close()
	t, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return Reference{}, fmt.Errorf("%s sent no usable Date header", url)
	}
	return Reference{Time: t, Source: "the server of " + url}, nil
}

// portOwner is who listens on the agent's port.
type portOwner struct {
	peercred.Owner
	port int
	user string
}

func (o portOwner) who() string {
	s := "uid " + strconv.Itoa(o.UID)
	if o.user != "" {
		s = o.user
	}
	if o.PID > 0 {
		s += ", PID " + strconv.Itoa(o.PID)
		if o.Command != "" {
			s += " " + o.Command
		}
	}
	return s
}

// foreignListener reports a program of another user listening on the
// loopback port of url, where the system tells who listens.
func foreignListener(url string) (portOwner, bool) {
	u, err := neturl.Parse(url)
	if err != nil {
		return portOwner{}, false
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port <= 0 {
		return portOwner{}, false
	}
	o, err := peercred.Listener(port)
	if err != nil || o.UID == peercred.CurrentUID() {
		return portOwner{}, false
	}
	po := portOwner{Owner: o, port: port}
	if usr, err := user.LookupId(strconv.Itoa(o.UID)); err == nil {
		po.user = usr.Username
	}
	return po, true
}
