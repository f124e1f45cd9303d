package agent

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/kepkit/kep/agent/diagnose"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/revocation"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/pkcs11/soft"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
	"github.com/kepkit/kep/verify/login"
)

// method is a JSON-RPC method of the agent.
type method struct {
	// open methods answer origins that were not approved.
	open bool
	call func(a *Agent, c *conn, params json.RawMessage) (any, error)
}

// Methods lists the agent's methods; agent.info reports their names.
var methods = map[string]method{
	"agent.info":          {open: true, call: (*Agent).info},
	"agent.requestAccess": {open: true, call: (*Agent).requestAccessMethod},
	"agent.diagnose":      {open: true, call: (*Agent).diagnose},
	"agent.prove":         {call: (*Agent).prove},
	"tokens.list":         {call: (*Agent).tokensList},
	"certs.list":          {call: (*Agent).certsList},
	"certs.check":         {call: (*Agent).certsCheck},
	"upload.begin":        {call: (*Agent).uploadBegin},
	"upload.chunk":        {call: (*Agent).uploadChunk},
	"upload.cancel":       {call: (*Agent).uploadCancel},
	"sign":                {call: (*Agent).sign},
	"verify":              {call: (*Agent).verify},
	"login.sign":          {call: (*Agent).loginSign},
	"cades.create":        {call: (*Agent).cadesCreate},
	"cades.get":           {call: (*Agent).cadesGet},
	"cades.set":           {call: (*Agent).cadesSet},
	"cades.call":          {call: (*Agent).cadesCall},
	"cades.release":       {call: (*Agent).cadesRelease},
}

// methodNames lists the methods, sorted (agent.info cannot read methods
// itself: it is one of them).
func methodNames() []string {
	return append([]string(nil), sortedMethods...)
}

var sortedMethods []string

func init() {
	for n := range methods {
		sortedMethods = append(sortedMethods, n)
	}
	sort.Strings(sortedMethods)
}

func (a *Agent) dispatch(c *conn, req request) (any, error) {
	m, ok := methods[req.Method]
	if !ok {
		return nil, rpcError(ReasonMethodNotFound, "no method %q", req.Method)
	}
	if !m.open && !a.approved(c.origin) {
		return nil, rpcError(ReasonOriginNotApproved, "%s is not approved: call agent.requestAccess first", c.origin)
	}
	if req.big != nil {
		return a.uploadChunkText(c, req.Params, req.big)
	}
	return m.call(a, c, req.Params)
}

// decodeParams reads params into v (a pointer to a struct), refusing
// unknown members. It uses json.Unmarshal and wipes its own copies, so that
// a PIN in params (a secret field) leaves no copy behind.
func decodeParams(params json.RawMessage, v any) error {
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	// The members' names only: their values are not copied (a chunk's
	// data is megabytes, a PIN a secret).
	var members map[string]skipValue
	if err := json.Unmarshal(params, &members); err != nil {
		return rpcError(ReasonInvalidParams, "params: must be an object: %v", err)
	}
	known := jsonFields(reflect.TypeOf(v).Elem())
	for name := range members {
		if !known[name] {
			return rpcError(ReasonInvalidParams, "params: unknown member %q", name)
		}
	}
	if err := json.Unmarshal(params, v); err != nil {
		return rpcError(ReasonInvalidParams, "params: %v", err)
	}
	return nil
}

// skipValue reads any JSON value and keeps nothing of it.
type skipValue struct{}

func (*skipValue) UnmarshalJSON([]byte) error { return nil }

// jsonFields lists the JSON member names of a struct type.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
		case name != "":
			out[name] = true
		case f.IsExported():
			out[f.Name] = true
		}
	}
	return out
}

// Info is agent.info's result.
type Info struct {
	Name     string   `json:"name"`
	Version  string   `json:"version"`
	Protocol int      `json:"protocol"`
	Origin   string   `json:"origin"`
	Approved bool     `json:"approved"`
	PagePIN  bool     `json:"pagePin"`
	Methods  []string `json:"methods"`
	// Capabilities: "gost2012-256", "gost2012-512", "rsa", "ecdsa",
	// "cades-bes", "detached", "attached", "hash", "upload", "login-bound",
	// "login-esia-compatible".
	Capabilities []string `json:"capabilities"`
	// MaxMessage is the largest message the agent takes from this site
	// now (smaller until the site is approved).
	MaxMessage int64 `json:"maxMessage"`
	// AgentKey is the agent's key for this origin (DER SPKI, ECDSA P-256),
	// given to approved sites: kep.js pins it and checks agent.prove.
	AgentKey []byte `json:"agentKey,omitempty"`
}

func (a *Agent) info(c *conn, _ json.RawMessage) (any, error) {
	names := methodNames()
	caps := []string{"gost2012-256", "gost2012-512", "rsa", "ecdsa", "cades-bes", "detached", "attached",
		"hash", "upload", "login-bound", "login-esia-compatible"}
	if a.cfg.Timestamper != nil {
		caps = append(caps, "cades-t", "xlt1")
	}
	approved := a.approved(c.origin)
	info := Info{Name: "kep", Version: a.cfg.Version, Protocol: ProtocolVersion, Origin: c.origin,
		Approved: approved, PagePIN: a.pagePIN[c.origin], Methods: names,
		Capabilities: caps, MaxMessage: a.limits.MaxUnapprovedMessage}
	if approved {
		info.MaxMessage = a.limits.MaxMessage
		key, err := a.identity.PublicKey(c.origin)
		if err != nil {
			return nil, err
		}
		info.AgentKey = key
	}
	return info, nil
}

// prove signs the page's nonce with the agent's key for the origin (see
// Identity): a program squatting the agent's port cannot.
func (a *Agent) prove(c *conn, params json.RawMessage) (any, error) {
	var p struct {
		Nonce []byte `json:"nonce"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if len(p.Nonce) < 16 || len(p.Nonce) > 64 {
		return nil, rpcError(ReasonInvalidParams, "nonce: 16 to 64 bytes")
	}
	sig, err := a.identity.Prove(c.origin, p.Nonce)
	if err != nil {
		return nil, err
	}
	return map[string]any{"origin": c.origin, "signature": sig}, nil
}

func (a *Agent) requestAccessMethod(c *conn, _ json.RawMessage) (any, error) {
	if err := a.requestAccess(c.ctx, c.origin); err != nil {
		return nil, err
	}
	return map[string]bool{"approved": true}, nil
}

func (a *Agent) diagnose(c *conn, _ json.RawMessage) (any, error) {
	// An unapproved site learns only about the agent and its own approval,
	// not about the user's tokens and certificates.
	in := diagnose.Input{Origin: c.origin, Approved: a.approved(c.origin), Now: a.now()}
	if in.Approved {
		in.Modules = a.cfg.Keys.Modules()
		in.SoftToken = a.cfg.SoftToken
		in.Tokens, _ = a.cfg.Keys.Tokens(c.ctx)
		in.Entries, in.ListErr = a.cfg.Keys.Certificates(c.ctx)
		in.Roots, in.Intermediates = a.cfg.Roots, a.cfg.Intermediates
	}
	rep := diagnose.Run(c.ctx, in)
	if in.Approved {
		// The extension road: which browsers kep install registered.
		rep.Findings = append(rep.Findings, diagnose.Extension(HostRegistrations(c.ctx), "")...)
	}
	return rep, nil
}

// TokenJSON is a token in tokens.list and tokens.changed. Its serial number
// is not given to sites: it identifies the device across every site.
type TokenJSON struct {
	Source       string `json:"source"`
	Label        string `json:"label"`
	Model        string `json:"model"`
	Manufacturer string `json:"manufacturer"`
	PINPad       bool   `json:"pinPad"`
	PINCountLow  bool   `json:"pinCountLow"`
	PINFinalTry  bool   `json:"pinFinalTry"`
	PINLocked    bool   `json:"pinLocked"`
}

func tokenJSON(t keystore.Token) TokenJSON {
	ti := t.Info
	return TokenJSON{Source: t.Source, Label: ti.Label, Model: ti.Model, Manufacturer: ti.Manufacturer,
		PINPad: ti.ProtectedAuthPath, PINCountLow: ti.PINCountLow, PINFinalTry: ti.PINFinalTry, PINLocked: ti.PINLocked}
}

// siteAll reports whether origin may see every certificate.
func (a *Agent) siteAll(origin string) bool {
	if a.allowed[origin] || a.pagePIN[origin] {
		return true
	}
	site, ok := a.sites.Lookup(origin)
	return ok && site.Scope != ScopeChosen
}

func (a *Agent) tokensList(c *conn, _ json.RawMessage) (any, error) {
	toks, err := a.cfg.Keys.Tokens(c.ctx)
	out := []TokenJSON{}
	if !a.siteAll(c.origin) {
		// A site given chosen certificates sees the tokens that hold them.
		visible := map[string]bool{}
		entries, _ := a.cfg.Keys.Certificates(c.ctx)
		for _, e := range entries {
			if a.allows(c.origin, e.ID) {
				visible[pinKey("", e.Token)] = true
			}
		}
		kept := toks[:0]
		for _, t := range toks {
			if visible[pinKey("", t)] {
				kept = append(kept, t)
			}
		}
		toks = kept
	}
	for _, t := range toks {
		out = append(out, tokenJSON(t))
	}
	res := map[string]any{"tokens": out}
	if err != nil {
		res["errors"] = a.redact.siteErrors(err)
	}
	return res, nil
}

// CertJSON is a certificate in certs.list.
type CertJSON struct {
	ID           string           `json:"id"` // SHA-1 thumbprint
	Subject      string           `json:"subject"`
	Issuer       string           `json:"issuer"`
	Serial       string           `json:"serial"`
	NotBefore    time.Time        `json:"notBefore"`
	NotAfter     time.Time        `json:"notAfter"`
	KeyAlgorithm string           `json:"keyAlgorithm"`
	Qualified    *certs.Qualified `json:"qualified"`
	KeyID        string           `json:"keyId"`
	Key          string           `json:"key"` // keystore.Key* state
	CanSign      bool             `json:"canSign"`
	Token        TokenJSON        `json:"token"`
	Certificate  string           `json:"certificate"` // base64 DER
	// NonExportable: a CryptoPro container whose key CryptoPro marked
	// non-exportable (it still signs: the user owns the key).
	NonExportable bool `json:"nonExportable,omitempty"`
}

func certJSON(e *keystore.Entry) CertJSON {
	c := e.Certificate
	return CertJSON{ID: e.ID, Subject: c.SubjectString(), Issuer: c.IssuerString(), Serial: c.SerialHex(),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), KeyAlgorithm: c.KeyAlgorithm, Qualified: &c.Qualified,
		KeyID: e.HexID(), Key: e.Key, CanSign: e.CanSign(), Token: tokenJSON(e.Token),
		Certificate: base64.StdEncoding.EncodeToString(c.Raw), NonExportable: e.NonExportable}
}

func (a *Agent) certsList(c *conn, _ json.RawMessage) (any, error) {
	list, err := a.cfg.Keys.Certificates(c.ctx)
	out := []CertJSON{}
	for _, e := range list {
		if a.allows(c.origin, e.ID) {
			out = append(out, certJSON(e))
		}
	}
	res := map[string]any{"certificates": out}
	if err != nil {
		res["errors"] = a.redact.siteErrors(err)
	}
	return res, nil
}

func (a *Agent) certsCheck(c *conn, params json.RawMessage) (any, error) {
	var p struct {
		CertID  string `json:"certId"`
		Purpose string `json:"purpose"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	e, err := a.find(c, p.CertID)
	if err != nil {
		return nil, err
	}
	purpose := certs.PurposeSigning
	if p.Purpose != "" {
		if purpose, err = certs.ParsePurpose(p.Purpose); err != nil {
			return nil, rpcError(ReasonInvalidParams, "%v", err)
		}
	}
	res := certs.Verify(e.Certificate, certs.VerifyOptions{Roots: a.cfg.Roots,
		Intermediates: append(append([]*certs.Certificate(nil), a.cfg.Intermediates...), e.Chain...), At: a.now(), Purpose: purpose})
	return map[string]any{"certId": e.ID, "valid": res.Valid(), "result": res,
		"summary": map[string]string{"ru": res.Summary("ru"), "en": res.Summary("en")}}, nil
}

// find looks up a certificate the site may use; one it was not given is
// reported as not found, as if it were not there.
func (a *Agent) find(c *conn, certID string) (*keystore.Entry, error) {
	if !a.allows(c.origin, keystore.NormalizeID(certID)) {
		return nil, rpcError(ReasonCertNotFound, "no certificate %q for this site", certID)
	}
	return a.cfg.Keys.Find(c.ctx, certID)
}

// limitText makes a site's text fit for the agent's window and the
// terminal: control characters (C0, DEL, C1 — U+009B is a terminal's CSI),
// line and paragraph separators and bidi controls become spaces, invalid
// UTF-8 is replaced, and the text is cut at 200 characters.
func limitText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unsafeRune(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

// unsafeRune reports the characters that could disguise what is shown.
func unsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// SignParams are the params of sign.
type SignParams struct {
	CertID string `json:"certId"`
	// One of Data (the document), Hash with HashAlg (its digest), UploadID.
	Data     []byte `json:"data,omitempty"`
	Hash     []byte `json:"hash,omitempty"`
	HashAlg  string `json:"hashAlg,omitempty"`
	UploadID string `json:"uploadId,omitempty"`
	// Detached (the default) leaves the document out of the CMS.
	Detached *bool `json:"detached,omitempty"`
	// Description names the document in the agent's window.
	Description string `json:"description,omitempty"`
	// PIN is accepted only from --page-pin-origin origins.
	PIN *secret `json:"pin,omitempty"`
	// Profile is cades-bes (the default; cades-t when the agent has a TSA),
	// cades-t or xlt1 (CAdES-X Long Type 1: the chains, their OCSP/CRL data
	// and the CAdES-C time-stamp); the last two need the agent's TSA.
	Profile string `json:"profile,omitempty"`
}

// SignResult is sign's result.
type SignResult struct {
	CMS         []byte    `json:"cms"`
	CertID      string    `json:"certId"`
	HashAlg     string    `json:"hashAlg"`
	Hash        []byte    `json:"hash"`
	SigningTime time.Time `json:"signingTime"`
}

func (a *Agent) sign(c *conn, params json.RawMessage) (any, error) {
	var p SignParams
	defer p.PIN.wipe()
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	detached := p.Detached == nil || *p.Detached
	n := 0
	for _, set := range []bool{p.Data != nil, p.Hash != nil, p.UploadID != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, rpcError(ReasonInvalidParams, "give exactly one of data, hash (with hashAlg) or uploadId")
	}
	if !detached && p.Data == nil {
		return nil, rpcError(ReasonInvalidParams, "an attached signature needs the document in data")
	}
	var (
		e      *keystore.Entry
		d      *certs.Digest
		digest []byte
		size   int64 = -1
		desc         = limitText(p.Description)
		err    error
	)
	switch {
	case p.UploadID != "":
		u, err := c.takeUpload(p.UploadID)
		if err != nil {
			return nil, err
		}
		if keystore.NormalizeID(p.CertID) != u.entry.ID {
			return nil, rpcError(ReasonInvalidParams, "the upload was begun for certificate %s", u.entry.ID)
		}
		e, d, digest, size = u.entry, u.digest, u.h.Sum(nil), u.size
		if desc == "" {
			desc = u.desc
		}
	default:
		if e, err = a.find(c, p.CertID); err != nil {
			return nil, err
		}
		d = certs.DefaultDigestFor(e.Certificate.PublicKey)
		if p.Hash != nil {
			if d, err = certs.DigestByName(p.HashAlg); err != nil {
				return nil, rpcError(ReasonInvalidParams, "hashAlg: %v", err)
			}
			if len(p.Hash) != d.Size {
				return nil, rpcError(ReasonInvalidParams, "hash has %d bytes, %s has %d", len(p.Hash), d.Name, d.Size)
			}
			// Before the user is asked: a hash the key cannot sign with, or
			// one too weak to sign with at all.
			if err := digestFits(e.Certificate.PublicKey, d); err != nil {
				return nil, err
			}
			digest = p.Hash
		} else {
			digest, size = d.Sum(p.Data), int64(len(p.Data))
		}
	}
	if d == nil {
		return nil, rpcError(ReasonUnsupportedKey, "no digest for the key of %s", e.ID)
	}
	opts := sign.Options{Digest: d, Chain: e.Chain, Attached: !detached, Timestamper: a.cfg.Timestamper}
	if opts.Profile, err = sign.ParseProfile(p.Profile); err != nil {
		return nil, rpcError(ReasonInvalidParams, "profile: %v", err)
	}
	if opts.Profile != sign.ProfileBES && a.cfg.Timestamper == nil {
		return nil, rpcError(ReasonInvalidParams, "profile %s needs a time-stamping authority: the agent has none (kep agent --tsa)", opts.Profile)
	}
	if opts.Profile == sign.ProfileXLT1 {
		// As kep sign --profile xlt1: revocation data for every certificate,
		// and an issuer the agent's trust settings lack fetched from its
		// caIssuers address (http only, bounded; it must have signed).
		rc := &revocation.Checker{}
		opts.Revocation, opts.Issuers = rc, rc
		opts.ValidationCerts = append(append([]*certs.Certificate{}, a.cfg.Intermediates...), a.cfg.Roots...)
	}
	var cms []byte
	err = a.withUser(c, p.PIN, Operation{Kind: OpSign, Origin: c.origin, Entry: e, Description: desc, Size: size,
		DigestAlg: d.Name, Digest: digest}, func(ctx context.Context, signer crypto.Signer) error {
		opts.SigningTime = a.now()
		var err error
		if detached {
			cms, err = sign.SignDigestContext(ctx, digest, signer, e.Certificate, opts)
		} else {
			cms, err = sign.Sign(ctx, bytes.NewReader(p.Data), signer, e.Certificate, opts)
		}
		return err
	})
	a.audit(AuditEntry{Origin: c.origin, Method: "sign", CertID: e.ID, Subject: e.Certificate.SubjectString(),
		DigestAlg: d.Name, Digest: hex.EncodeToString(digest), Description: desc, Result: resultOf(err)})
	if err != nil {
		return nil, err
	}
	return SignResult{CMS: cms, CertID: e.ID, HashAlg: d.Name, Hash: digest, SigningTime: opts.SigningTime.UTC()}, nil
}

// digestFits refuses a digest the key cannot sign with: GOST keys sign
// Streebog of their own size, RSA and ECDSA keys SHA-2 (never SHA-1 or
// MD5: a collision makes one approval sign two documents).
func digestFits(pub crypto.PublicKey, d *certs.Digest) error {
	want := certs.DefaultDigestFor(pub)
	gost := want == certs.Streebog256 || want == certs.Streebog512
	switch {
	case gost && d != want:
		return rpcError(ReasonInvalidParams, "a %s key signs %s, not %s", keyName(want), want.Name, d.Name)
	case !gost && d != certs.SHA256 && d != certs.SHA384 && d != certs.SHA512:
		return rpcError(ReasonInvalidParams, "hashAlg %s is not accepted for signing: use sha256, sha384 or sha512", d.Name)
	}
	return nil
}

func keyName(d *certs.Digest) string {
	if d == certs.Streebog512 {
		return "GOST R 34.10-2012 512-bit"
	}
	return "GOST R 34.10-2012 256-bit"
}

// withUser asks the user to approve op (with the PIN), then runs fn with
// the certificate's key.
func (a *Agent) withUser(c *conn, pagePINParam *secret, op Operation, fn func(ctx context.Context, signer crypto.Signer) error) error {
	if !op.Entry.CanSign() {
		return rpcError(ReasonKeyUnusable, "certificate %s cannot sign: %v", op.Entry.ID, op.Entry.KeyErr)
	}
	if pagePINParam != nil && !a.pagePIN[c.origin] {
		return rpcError(ReasonPINFromPage, "%s may not pass the PIN: it is entered in the agent's window", c.origin)
	}
	ctx := c.ctx
	var conf Confirmation
	if pagePINParam != nil {
		conf = &pagePIN{pin: append([]byte(nil), *pagePINParam...)}
		pagePINParam.wipe()
	} else {
		if until := a.coolingDown(c.origin); !until.IsZero() {
			return coolDownError(c.origin, until)
		}
		release, err := a.turns.wait(ctx, c.origin)
		if err != nil {
			return err
		}
		defer release()
		cached, until := a.pins.get(c.origin, op.Entry.Token)
		defer clear(cached)
		op.NeedPIN = op.Entry.AsksPIN() && cached == nil
		op.PINCachedUntil = until
		if a.pins != nil && cached == nil && op.NeedPIN {
			op.PINCacheFor = a.pins.ttl
		}
		if conf, err = a.cfg.UI.Confirm(ctx, op); err != nil {
			return err
		}
		// The user clicked: the site may have been revoked meanwhile
		// (kep agent sites revoke in another process).
		if !a.approved(c.origin) || !a.allows(c.origin, op.Entry.ID) {
			err := rpcError(ReasonOriginNotApproved, "%s was revoked while the window was open", c.origin)
			conf.Done(err)
			return err
		}
		if cached != nil {
			conf = &cachedConfirmation{Confirmation: conf, pin: cached, forget: func() { a.pins.forget(c.origin, op.Entry.Token) }}
		}
	}
	var typed []byte            // the last PIN given to the token, kept when it worked
	var softKeys *soft.KeyCache // the PIN cache's, for PINs from the agent's window
	var containerKeys *keystore.ContainerKeyCache
	if pagePINParam == nil {
		softKeys, containerKeys = a.pins.softKeys(), a.pins.containerKeys()
	}
	err := a.cfg.Keys.UseEntry(ctx, op.Entry, keystore.UI{SoftKeys: softKeys, ContainerKeys: containerKeys, RequestPIN: func(ctx context.Context, req keystore.PINRequest) ([]byte, error) {
		if req.Retry != nil {
			// Every wrong PIN is on the record, not only the outcome.
			a.audit(AuditEntry{Origin: c.origin, Method: op.Kind + ".pin", CertID: op.Entry.ID,
				Subject: op.Entry.Certificate.SubjectString(), Description: req.Retry.Error(), Result: ReasonPINIncorrect})
		}
		pin, err := conf.PIN(ctx, req)
		clear(typed)
		typed = nil
		if cc, ok := conf.(*cachedConfirmation); !ok || !cc.lastFromCache {
			typed = append([]byte(nil), pin...) // typed by the user: kept if it works
		}
		return pin, err
	}}, func(k keystore.Signer) error {
		return fn(ctx, k.Signer)
	})
	if err == nil && pagePINParam == nil && len(typed) > 0 {
		a.pins.put(c.origin, op.Entry.Token, typed)
	}
	clear(typed)
	conf.Done(err)
	return err
}

// cachedConfirmation answers the token's first PIN request with the PIN
// kept from an earlier operation; when the token refuses it, the PIN is
// forgotten and the user asked as usual.
type cachedConfirmation struct {
	Confirmation
	pin           []byte
	used          bool
	lastFromCache bool
	forget        func()
}

func (c *cachedConfirmation) PIN(ctx context.Context, req keystore.PINRequest) ([]byte, error) {
	c.lastFromCache = !c.used && req.Retry == nil && req.Key == ""
	if c.lastFromCache {
		c.used = true
		return append([]byte(nil), c.pin...), nil
	}
	if req.Retry != nil {
		c.forget()
	}
	return c.Confirmation.PIN(ctx, req)
}

func (a *Agent) verify(c *conn, params json.RawMessage) (any, error) {
	var p struct {
		CMS     []byte `json:"cms"`
		Data    []byte `json:"data,omitempty"`
		Purpose string `json:"purpose,omitempty"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if len(p.CMS) == 0 {
		return nil, rpcError(ReasonInvalidParams, "cms is required")
	}
	opts := verify.Options{Roots: a.cfg.Roots, Intermediates: a.cfg.Intermediates, At: a.now()}
	if p.Data != nil {
		opts.Content = bytes.NewReader(p.Data)
	}
	if p.Purpose != "" {
		var err error
		if opts.Purpose, err = certs.ParsePurpose(p.Purpose); err != nil {
			return nil, rpcError(ReasonInvalidParams, "%v", err)
		}
	}
	rep, err := verify.Verify(c.ctx, p.CMS, opts)
	if err != nil {
		return nil, rpcError(ReasonInvalidParams, "%v", err)
	}
	return map[string]any{"report": rep, "summary": map[string]string{"ru": rep.Summary("ru"), "en": rep.Summary("en")}}, nil
}

// LoginParams are the params of login.sign.
type LoginParams struct {
	CertID string `json:"certId"`
	// Challenge is the relying party's challenge: the JSON object of
	// verify/login for "bound", a string for "esia-compatible".
	Challenge json.RawMessage `json:"challenge"`
	Format    string          `json:"format,omitempty"` // "bound" (default) or "esia-compatible"
	PIN       *secret         `json:"pin,omitempty"`
}

// ESIA-compatible challenge bounds. A real one is a nonce (base64url, hex,
// a UUID) or ЕСИА's client_secret string: scope, timestamp
// ("2006.01.02 15:04:05 +0300"), client_id and state (a UUID) run together
// — ASCII letters, digits, space and a few punctuation marks. Free text (a
// power of attorney in Russian, a contract) is none of these and is refused:
// a "login" must never sign a document.
const (
	minESIAChallenge = 16
	maxESIAChallenge = 512
)

// checkESIAChallenge refuses what cannot be an ЕСИА-style login challenge.
func checkESIAChallenge(s string) error {
	if len(s) < minESIAChallenge || len(s) > maxESIAChallenge {
		return rpcError(ReasonInvalidParams, "an esia-compatible challenge has %d to %d characters, not %d", minESIAChallenge, maxESIAChallenge, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte(" +-_.:/=", c) >= 0:
		default:
			return rpcError(ReasonInvalidParams, "an esia-compatible challenge is a nonce or ЕСИА's client_secret string: character %q at %d is not allowed", c, i)
		}
	}
	if strings.Contains(s, "  ") || s[0] == ' ' || s[len(s)-1] == ' ' {
		return rpcError(ReasonInvalidParams, "an esia-compatible challenge does not start or end with spaces or hold two in a row")
	}
	return nil
}

func (a *Agent) loginSign(c *conn, params json.RawMessage) (any, error) {
	var p LoginParams
	defer p.PIN.wipe()
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	format := login.FormatBound
	if p.Format != "" {
		f, err := login.ParseFormat(p.Format)
		if err != nil {
			return nil, rpcError(ReasonInvalidParams, "%v", err)
		}
		format = f
	}
	e, err := a.find(c, p.CertID)
	if err != nil {
		return nil, err
	}
	var (
		ch  *login.Challenge
		str string
	)
	if format == login.FormatBound {
		if ch, err = login.ParseChallenge(p.Challenge); err != nil {
			return nil, rpcError(ReasonInvalidParams, "challenge: %v", err)
		}
		// The origin signed is the browser's, never the page's word: a
		// challenge fetched from another site is refused here.
		if co, err := login.NormalizeOrigin(ch.Origin); err != nil || co != c.origin {
			return nil, rpcError(ReasonOriginMismatch, "the challenge is for %q, the page is %s", ch.Origin, c.origin)
		}
		ch.Origin = c.origin
		// Warn before asking for the PIN when the clocks disagree.
		if skew := a.now().Sub(ch.ServerTime); skew > login.DefaultMaxSkew || skew < -login.DefaultMaxSkew {
			return nil, &login.SkewError{Skew: skew, MaxSkew: login.DefaultMaxSkew}
		}
	} else if err := json.Unmarshal(p.Challenge, &str); err != nil {
		return nil, rpcError(ReasonInvalidParams, "an esia-compatible challenge is a JSON string")
	} else if err := checkESIAChallenge(str); err != nil {
		return nil, err
	}
	nonce := str
	if ch != nil {
		nonce = ch.Nonce
	}
	d := certs.DefaultDigestFor(e.Certificate.PublicKey)
	var (
		resp   []byte // the response JSON, {"format","cms"}
		digest []byte // of the content signed
	)
	err = a.withUser(c, p.PIN, Operation{Kind: OpLogin, Origin: c.origin, Entry: e, Size: -1, Challenge: nonce},
		func(ctx context.Context, signer crypto.Signer) error {
			client := &login.Client{Now: a.now, Chain: e.Chain}
			var err error
			if ch != nil {
				resp, err = client.Sign(ctx, ch, format, signer, e.Certificate)
			} else {
				resp, err = client.SignString(ctx, str, signer, e.Certificate)
			}
			if err == nil {
				digest, err = signedContentDigest(resp, d)
			}
			return err
		})
	entry := AuditEntry{Origin: c.origin, Method: "login.sign", CertID: e.ID, Subject: e.Certificate.SubjectString(),
		Description: "login " + string(format) + " nonce " + limitText(nonce), Result: resultOf(err)}
	if digest != nil {
		entry.DigestAlg, entry.Digest = d.Name, hex.EncodeToString(digest)
	}
	a.audit(entry)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(resp), nil
}

// signedContentDigest is the digest of what a login response signed (the
// CMS's encapsulated content), for the audit log.
func signedContentDigest(resp []byte, d *certs.Digest) ([]byte, error) {
	r, err := login.ParseResponse(resp)
	if err != nil {
		return nil, err
	}
	sd, err := cms.Parse(r.CMS)
	if err != nil {
		return nil, err
	}
	return d.Sum(sd.EContent), nil
}
