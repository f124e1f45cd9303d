package agent

import (
	"context"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kepkit/kep/agent/cades"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/revocation"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/tsp"
	"github.com/kepkit/kep/verify"
)

// The CryptoPro plug-in API (agent/client/cadesplugin.js): the page's
// proxy objects name objects of the connection's cades.Session by id.
//
//	cades.create  {progId}                → {"$obj", class, props, methods}
//	cades.get     {id, name}              → value
//	cades.set     {id, name, value}       → {}
//	cades.call    {id, name, args: [...]} → value
//	cades.release {ids: [...]} | {all: true}
//
// Values are JSON null, booleans, numbers, strings (dates as ISO 8601) and
// objects as {"$obj": id}. Errors carry reason CADES_ERROR, the message
// "Russian text (0x8XXXXXXX)" and details.hresult.

// ReasonCades is the reason of the errors of the cades.* methods.
const ReasonCades = "CADES_ERROR"

const cadesErrorCode = 1060

// cadesSession returns the connection's objects, made on first use.
func (c *conn) cadesSession() *cades.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cades == nil {
		c.cades = cades.NewSession(cadesBackend{a: c.a, c: c}, cades.Limits{})
	}
	return c.cades
}

// releaseCades frees the connection's objects when it ends.
func (c *conn) releaseCades() {
	c.mu.Lock()
	s := c.cades
	c.mu.Unlock()
	if s != nil {
		s.ReleaseAll()
	}
}

func (a *Agent) cadesCreate(c *conn, params json.RawMessage) (any, error) {
	var p struct {
		ProgID string `json:"progId"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	ref, err := c.cadesSession().Create(p.ProgID)
	return ref, cadesRPC(err)
}

type cadesMember struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func (a *Agent) cadesGet(c *conn, params json.RawMessage) (any, error) {
	var p cadesMember
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	v, err := c.cadesSession().Get(c.ctx, p.ID, p.Name)
	return cadesValue(v), cadesRPC(err)
}

func (a *Agent) cadesSet(c *conn, params json.RawMessage) (any, error) {
	var p struct {
		ID    int64           `json:"id"`
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	}
	defer func() { clear(p.Value) }() // may be a KeyPin
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if len(p.Value) == 0 {
		p.Value = json.RawMessage("null")
	}
	return nil, cadesRPC(c.cadesSession().Set(p.ID, p.Name, p.Value))
}

func (a *Agent) cadesCall(c *conn, params json.RawMessage) (any, error) {
	var p struct {
		ID   int64           `json:"id"`
		Name string          `json:"name"`
		Args json.RawMessage `json:"args"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	v, err := c.cadesSession().Call(c.ctx, p.ID, p.Name, p.Args)
	return cadesValue(v), cadesRPC(err)
}

func (a *Agent) cadesRelease(c *conn, params json.RawMessage) (any, error) {
	var p struct {
		IDs []int64 `json:"ids"`
		All bool    `json:"all"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	s := c.cadesSession()
	if p.All {
		s.ReleaseAll()
	} else {
		s.Release(p.IDs)
	}
	return map[string]int{"objects": s.Len()}, nil
}

// cadesValue wraps a result so that null and false survive the reply
// (a nil result would become {}).
func cadesValue(v any) any { return map[string]any{"value": v} }

// cadesRPC makes a CAdESCOM error a JSON-RPC error.
func cadesRPC(err error) error {
	if err == nil {
		return nil
	}
	ce := cadesError(err)
	return &Error{Code: cadesErrorCode, Message: ce.Error(), Data: &ErrorData{Reason: ReasonCades, MessageRU: ce.Error(),
		Details: map[string]any{"hresult": fmt.Sprintf("0x%08X", ce.HRESULT)}}}
}

// reasonHRESULTs are the HRESULTs CryptoPro's plug-in reports for the
// agent's reasons.
var reasonHRESULTs = map[string]uint32{
	ReasonUserCancelled:     cades.HResultCancelled,
	ReasonConsentDenied:     cades.HResultCancelled,
	ReasonPromptTimeout:     cades.HResultTimeout,
	ReasonOriginNotApproved: cades.HResultAccessDenied,
	ReasonCertNotFound:      cades.HResultNotFound,
	ReasonKeyUnusable:       cades.HResultNoKeyProperty,
	ReasonKeyMismatch:       cades.HResultNoKeyProperty,
	ReasonUnsupportedKey:    cades.HResultBadAlgID,
	ReasonPINIncorrect:      cades.HResultWrongPIN,
	ReasonPINLocked:         cades.HResultPINLocked,
	ReasonPINExpired:        cades.HResultWrongPIN,
	ReasonPINLength:         cades.HResultWrongPIN,
	ReasonPINFromPage:       cades.HResultAccessDenied,
	ReasonTokenNotPresent:   cades.HResultNoSmartCard,
	ReasonTokenRemoved:      cades.HResultCardRemoved,
	ReasonDevice:            cades.HResultFail,
	ReasonMechanism:         cades.HResultBadAlgID,
	ReasonPKCS11:            cades.HResultFail,
	ReasonInvalidParams:     cades.HResultInvalidArg,
	ReasonBusy:              cades.HResultBusy,
	ReasonLimit:             cades.HResultOutOfMemory,
}

// cadesError gives any error of the agent its HRESULT and Russian text.
func cadesError(err error) *cades.Error {
	var ce *cades.Error
	if errors.As(err, &ce) {
		return ce
	}
	re := toRPCError(err)
	hr, ok := reasonHRESULTs[re.Data.Reason]
	if !ok {
		hr = cades.HResultFail
	}
	msg := re.Data.MessageRU
	if msg == "" {
		msg = "Ошибка kep: " + re.Message
	}
	return &cades.Error{HRESULT: hr, Message: msg, Err: err}
}

// cadesBackend is the agent seen from one connection's objects.
type cadesBackend struct {
	a *Agent
	c *conn
}

func (b cadesBackend) Now() time.Time { return b.a.now() }

// LongTerm: X-L1 signatures fetch the revocation data (OCSP, CRL, cached
// in the user cache's kep/crl, as kep sign --profile xlt1) and missing
// issuers from the addresses in the certificates.
func (b cadesBackend) LongTerm() (sign.RevocationSource, sign.IssuerSource, []*certs.Certificate) {
	rc := &revocation.Checker{Now: b.a.now}
	if dir, err := os.UserCacheDir(); err == nil {
		rc.CacheDir = filepath.Join(dir, "kep", "crl")
	}
	return rc, rc, append(append([]*certs.Certificate(nil), b.a.cfg.Roots...), b.a.cfg.Intermediates...)
}

func (b cadesBackend) Certificates(ctx context.Context) ([]*keystore.Entry, error) {
	list, err := b.a.cfg.Keys.Certificates(ctx)
	var out []*keystore.Entry
	for _, e := range list {
		if b.a.allows(b.c.origin, e.ID) {
			out = append(out, e)
		}
	}
	if err != nil {
		return out, cadesError(err)
	}
	return out, nil
}

// WithKey signs through the same path as the sign method: the agent's
// window (or the page's PIN for --page-pin-origin origins only: elsewhere
// CPSigner.KeyPin is dropped and the user types the PIN in the window),
// and the audit log.
func (b cadesBackend) WithKey(ctx context.Context, use cades.KeyUse, fn func(ctx context.Context, signer crypto.Signer) error) error {
	a, c := b.a, b.c
	var pin *secret
	if use.PIN != nil && a.pagePIN[c.origin] {
		s := secret(append([]byte(nil), use.PIN...))
		pin = &s
	}
	clear(use.PIN)
	defer pin.wipe()
	desc := limitText(use.Description)
	err := a.withUser(c, pin, Operation{Kind: OpSign, Origin: c.origin, Entry: use.Entry, Description: desc, Size: use.Size,
		DigestAlg: use.DigestAlg, Digest: use.Digest}, fn)
	a.audit(AuditEntry{Origin: c.origin, Method: "cades." + use.Method, CertID: use.Entry.ID, Subject: use.Entry.Certificate.SubjectString(),
		DigestAlg: use.DigestAlg, Digest: hex.EncodeToString(use.Digest), Description: desc, Result: resultOf(err)})
	if err != nil {
		return cadesError(err)
	}
	return nil
}

func (b cadesBackend) Verify(ctx context.Context, sig []byte, opts verify.Options) (*verify.Report, error) {
	opts.Roots, opts.Intermediates, opts.At = b.a.cfg.Roots, b.a.cfg.Intermediates, b.a.now()
	rep, err := verify.Verify(ctx, sig, opts)
	if err != nil {
		return nil, cadesError(err)
	}
	return rep, nil
}

func (b cadesBackend) ValidateCertificate(_ context.Context, c *certs.Certificate, chain []*certs.Certificate) error {
	res := certs.Verify(c, certs.VerifyOptions{Roots: b.a.cfg.Roots,
		Intermediates: append(append([]*certs.Certificate(nil), b.a.cfg.Intermediates...), chain...), At: b.a.now(), Purpose: certs.PurposeSigning})
	if res.Valid() {
		return nil
	}
	return &cades.Error{HRESULT: cades.HResultChaining, Message: "Сертификат не прошёл проверку: " + res.Summary("ru")}
}

// Timestamper is the TSA the page named (CPSigner.TSAAddress), else the
// agent's own (--tsa). The time-stamp is requested only after the user
// approved the signature.
func (b cadesBackend) Timestamper(url string) (sign.Timestamper, error) {
	if url != "" {
		return &tsp.Client{URL: url}, nil
	}
	if b.a.cfg.Timestamper != nil {
		return b.a.cfg.Timestamper, nil
	}
	return nil, &cades.Error{HRESULT: cades.HResultInvalidArg, Message: "Не задан адрес службы штампов времени (CPSigner.TSAAddress) для подписи CAdES-T"}
}
