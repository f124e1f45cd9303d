package serve

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/internal/hint"
	"github.com/kepkit/kep/verify"
	"github.com/kepkit/kep/verify/login"
)

// OpenAPI is the API's OpenAPI 3.1 document, served at /v1/openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, ep endpoint) { mux.Handle(pattern, s.wrap(ep)) }
	handle("POST /v1/signatures/verify", endpoint{"signatures_verify", true, true, s.verifySignature})
	handle("POST /v1/certificates/verify", endpoint{"certificates_verify", true, true, s.verifyCertificate})
	handle("GET /v1/certificates/{thumbprint}", endpoint{"certificates_get", true, true, s.getCertificate})
	handle("POST /v1/login/challenges", endpoint{"login_challenges", true, true, s.loginChallenge})
	handle("POST /v1/login/verify", endpoint{"login_verify", true, true, s.loginVerify})
	handle("GET /v1/trust", endpoint{"trust", true, false, s.getTrust})
	handle("GET /v1/openapi.json", endpoint{"openapi", false, false, s.openapi})
	handle("GET /healthz", endpoint{"healthz", false, false, s.healthz})
	handle("GET /readyz", endpoint{"readyz", false, false, s.readyz})
	mux.Handle("GET /metrics", s.metrics.handler())
	notFound := s.wrap(endpoint{"other", false, false, func(w http.ResponseWriter, r *http.Request) (string, error) {
		_, pattern := mux.Handler(r)
		if pattern == "" {
			// The path exists with another method?
			for _, m := range []string{http.MethodGet, http.MethodPost} {
				r2 := r.Clone(r.Context())
				r2.Method = m
				if _, p := mux.Handler(r2); p != "" {
					w.Header().Set("Allow", m)
					return "", errMethod
				}
			}
		}
		return "", errNotFound
	}})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			notFound.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// writeJSON writes v as kep's CLI prints JSON: two-space indentation and a
// final newline, so that the bytes equal kep verify --json's and kep login's.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return errInternal(err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

func mediaType(r *http.Request) string {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return ""
	}
	return mt
}

// readJSONBody reads a JSON body up to limit.
func (s *Server) readJSONBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if mt := mediaType(r); mt != "application/json" {
		return nil, errUnsupportedMedia(r.Header.Get("Content-Type"), "application/json")
	}
	b, err := io.ReadAll(s.limitBody(w, r, limit))
	if err != nil {
		return nil, bodyError(err)
	}
	return b, nil
}

// bodyError names what went wrong reading a body.
func bodyError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errBadRequest("the request body ended early", "тело запроса оборвалось", nil)
	}
	return err
}

func (s *Server) verifySignature(w http.ResponseWriter, r *http.Request) (string, error) {
	ts := s.trust.Load()
	var sig []byte
	var o VerifyOptions
	var content io.Reader
	switch mediaType(r) {
	case "application/json":
		body, err := s.readJSONBody(w, r, s.cfg.MaxJSONBytes)
		if err != nil {
			return "", err
		}
		var c []byte
		if sig, c, o, err = ParseSignatureRequest(body); err != nil {
			return "", errBadRequest("bad JSON request", "неверный JSON-запрос", err)
		}
		if c != nil {
			content = bytes.NewReader(c)
		}
	case "multipart/form-data":
		// The body is read through the limits.
		r.Body = io.NopCloser(s.limitBody(w, r, s.cfg.MaxBodyBytes))
		mr, err := r.MultipartReader()
		if err != nil {
			return "", errBadRequest("bad multipart body", "неверное тело multipart", err)
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return "", bodyOrMultipart(err)
			}
			name := part.FormName()
			if name == "content" {
				if sig == nil {
					return "", errBadRequest("the signature part must come before the content part (the content is hashed as it arrives)",
						"часть signature должна идти перед частью content (содержимое хэшируется по мере поступления)", nil)
				}
				content = part
				break
			}
			var limit int64
			switch name {
			case "signature":
				limit = s.cfg.MaxSignatureBytes
			case "options":
				limit = maxOptionsSize
			default:
				return "", errBadRequest(fmt.Sprintf("unknown part %q (parts: signature, options, content)", name),
					fmt.Sprintf("неизвестная часть %q (части: signature, options, content)", name), nil)
			}
			b, err := io.ReadAll(io.LimitReader(part, limit+1))
			if err != nil {
				return "", bodyOrMultipart(err)
			}
			if int64(len(b)) > limit {
				return "", errTooLarge(limit)
			}
			if name == "signature" {
				sig = b
			} else if o, err = ParseVerifyOptions(b); err != nil {
				return "", errBadRequest("bad options", "неверные options", err)
			}
		}
		if sig == nil {
			return "", errBadRequest("the signature part is missing", "нет части signature", nil)
		}
	default:
		return "", errUnsupportedMedia(r.Header.Get("Content-Type"), "multipart/form-data", "application/json")
	}
	if k := hint.Detect(sig); k != hint.CMS {
		return "", &Error{Status: http.StatusUnprocessableEntity, Code: CodeNotCMS,
			Message:   fmt.Sprintf("the signature is not a CMS signature (it looks like %s)", k.Describe()),
			MessageRu: "переданная подпись — не подпись CMS"}
	}
	opts, e := s.build(o, ts, true)
	if e != nil {
		return "", e
	}
	opts.Content = content
	rep, err := verify.Verify(r.Context(), pemOrDER(sig), opts)
	if err != nil {
		return "", bodyOrMultipart(err)
	}
	if rep.SubIndication == verify.FormatFailure && len(rep.Signers) == 0 {
		return "", &Error{Status: http.StatusUnprocessableEntity, Code: CodeSignatureMalformed, Report: rep,
			Message:   "the signature cannot be read (truncated or malformed CMS); the report says why",
			MessageRu: "подпись не читается (обрезана или повреждена); причина — в отчёте"}
	}
	for _, sr := range rep.Signers {
		if sr.Chain != nil {
			for _, c := range sr.Chain.Chain {
				s.seen.add(r.Context(), c, "signature")
			}
		}
	}
	s.metrics.verdicts.WithLabelValues("signatures_verify", rep.Indication).Inc()
	w.Header().Set("Kep-Indication", rep.Indication)
	return rep.Indication, writeJSON(w, http.StatusOK, rep)
}

func bodyOrMultipart(err error) error {
	if _, ok := errAs[*http.MaxBytesError](err); ok {
		return err
	}
	if isTimeout(err) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errBadRequest("the request body ended early", "тело запроса оборвалось", nil)
	}
	if errors.Is(err, context.Canceled) {
		return errBadRequest("the client went away", "клиент отключился", err)
	}
	return errBadRequest("bad multipart body", "неверное тело multipart", err)
}

func (s *Server) verifyCertificate(w http.ResponseWriter, r *http.Request) (string, error) {
	ts := s.trust.Load()
	body, err := s.readJSONBody(w, r, certs.MaxInputSize)
	if err != nil {
		return "", err
	}
	var req CertificateRequest
	if err := decodeStrict(body, &req); err != nil {
		return "", errBadRequest("bad JSON request", "неверный JSON-запрос", err)
	}
	var o VerifyOptions
	if req.Options != nil {
		o = *req.Options
	}
	opts, e := s.build(o, ts, false)
	if e != nil {
		return "", e
	}
	der, err := decodeBinary(req.Certificate)
	var cs []*certs.Certificate
	if err == nil {
		cs, err = certs.ParseCertificates(der)
	}
	if err != nil || len(cs) == 0 {
		return "", &Error{Status: http.StatusUnprocessableEntity, Code: CodeCertMalformed, Err: err,
			Message: fmt.Sprintf("certificate is not an X.509 certificate (PEM or base64 DER): %v", err), MessageRu: "certificate — не сертификат X.509 (PEM или DER в base64)"}
	}
	vo := certs.VerifyOptions{Roots: opts.Roots, Intermediates: append(opts.Intermediates, cs[1:]...), CRLs: opts.CRLs,
		At: opts.At, Purpose: opts.Purpose, Revocation: opts.Revocation}
	res := certs.VerifyContext(r.Context(), cs[0], vo)
	s.seen.add(r.Context(), cs[0], "certificate")
	for _, c := range res.Chain {
		s.seen.add(r.Context(), c, "certificate")
	}
	s.metrics.verdicts.WithLabelValues("certificates_verify", res.Indication).Inc()
	w.Header().Set("Kep-Indication", res.Indication)
	return res.Indication, writeJSON(w, http.StatusOK, res)
}

var thumbprintPattern = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)

// CertificateInfo is the answer of GET /v1/certificates/{thumbprint}.
type CertificateInfo struct {
	// Certificate is what kep certs show --json prints for it.
	Certificate *certs.Certificate `json:"certificate"`
	PEM         string             `json:"pem"`
	// Source is how the instance came to know it: trust (a configured
	// anchor or a CA of the list), signature, certificate (sent to
	// /v1/certificates/verify) or login.
	Source    string    `json:"source"`
	FirstSeen time.Time `json:"firstSeen"`
}

func (s *Server) getCertificate(w http.ResponseWriter, r *http.Request) (string, error) {
	tp := r.PathValue("thumbprint")
	if !thumbprintPattern.MatchString(tp) {
		return "", errBadRequest("the thumbprint is the certificate's SHA-1, 40 hex digits", "отпечаток — SHA-1 сертификата, 40 шестнадцатеричных цифр", nil)
	}
	e, ok := s.seen.get(r.Context(), tp)
	if !ok {
		return "", newError(http.StatusNotFound, CodeNotFound,
			"this certificate has not been seen here (trust anchors, signatures, logins and certificates verified are remembered)",
			"сертификат здесь не встречался (запоминаются доверенные УЦ, сертификаты из проверенных подписей, входов и проверок)")
	}
	c, err := certs.ParseCertificate(e.DER)
	if err != nil {
		return "", errInternal(err)
	}
	info := CertificateInfo{Certificate: c, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.DER})),
		Source: e.Source, FirstSeen: e.FirstSeen}
	return "", writeJSON(w, http.StatusOK, info)
}

func (s *Server) checkOrigin(origin string) (string, error) {
	o, err := login.NormalizeOrigin(origin)
	if err != nil {
		return "", &Error{Status: http.StatusBadRequest, Code: CodeBadOrigin, Err: err,
			Message: err.Error(), MessageRu: "origin — это scheme://host[:port] (https; http только для localhost)"}
	}
	if s.origins != nil && !s.origins[o] {
		return "", newError(http.StatusForbidden, CodeOriginNotAllowed,
			fmt.Sprintf("origin %s is not one this server logs in for", o), fmt.Sprintf("для %s вход через этот сервер не настроен", o))
	}
	return o, nil
}

func (s *Server) loginChallenge(w http.ResponseWriter, r *http.Request) (string, error) {
	body, err := s.readJSONBody(w, r, 64<<10)
	if err != nil {
		return "", err
	}
	var req LoginChallengeRequest
	if err := decodeStrict(body, &req); err != nil {
		return "", errBadRequest("bad JSON request", "неверный JSON-запрос", err)
	}
	if _, err := s.checkOrigin(req.Origin); err != nil {
		return "", err
	}
	ch, err := (&login.Issuer{Store: s.store, TTL: time.Duration(s.cfg.LoginTTL)}).Challenge(r.Context(), req.Origin)
	if err != nil {
		return "", errUnavailable("the nonce store", err)
	}
	return "", writeJSON(w, http.StatusOK, ch)
}

// Refusal is a refused login, as kep login verify prints it.
type Refusal struct {
	Refused bool `json:"refused"`
	*login.RefusalError
}

func (s *Server) loginVerify(w http.ResponseWriter, r *http.Request) (string, error) {
	ts := s.trust.Load()
	body, err := s.readJSONBody(w, r, 2*login.MaxResponseSize)
	if err != nil {
		return "", err
	}
	origin, resp, err := ParseLoginVerify(body)
	if err != nil {
		return "", errBadRequest("bad JSON request", "неверный JSON-запрос", err)
	}
	if _, err := s.checkOrigin(origin); err != nil {
		return "", err
	}
	rc, _ := s.checker("", nil)
	v := &login.Verifier{Store: s.store, Roots: slices.Clip(ts.roots), Intermediates: slices.Clip(ts.inter), CRLs: slices.Clip(ts.crls), Revocation: rc,
		MaxSkew: time.Duration(s.cfg.MaxSkew), AllowESIACompatible: !s.cfg.BoundOnly, RequireRevocation: s.cfg.RequireRevocation}
	if ts.list != nil {
		v.Accreditation = ts.list
	}
	id, err := v.Verify(r.Context(), origin, resp)
	if ref, ok := errAs[*login.RefusalError](err); ok {
		status := http.StatusForbidden
		if ref.Reason == login.ReasonIndeterminate {
			status = http.StatusServiceUnavailable
		}
		s.metrics.verdicts.WithLabelValues("login_verify", ref.Reason).Inc()
		s.log.Info("login refused", "id", r.Context().Value(reqIDKey), "reason", ref.Reason)
		return "refused_" + ref.Reason, writeJSON(w, status, Refusal{true, ref})
	}
	if err != nil {
		return "", errUnavailable("the nonce store or the revocation check", err)
	}
	s.metrics.verdicts.WithLabelValues("login_verify", "ok").Inc()
	s.rememberLogin(r.Context(), resp, id.Certificate.Thumbprint)
	attrs := []any{"id", r.Context().Value(reqIDKey), "origin", id.Origin, "format", string(id.Format)}
	if s.cfg.LogPersonalData {
		attrs = append(attrs, "surname", id.Surname, "givenName", id.GivenName, "snils", id.SNILS, "inn", id.INN,
			"ogrn", id.OGRN, "thumbprint", id.Certificate.Thumbprint)
	}
	s.log.Info("login accepted", attrs...)
	return "", writeJSON(w, http.StatusOK, id)
}

// rememberLogin records the certificate a user logged in with (from the
// response's CMS) for GET /v1/certificates/{thumbprint}.
func (s *Server) rememberLogin(ctx context.Context, response []byte, thumbprint string) {
	lr, err := login.ParseResponse(response)
	if err != nil {
		return
	}
	sd, err := cms.Parse(lr.CMS)
	if err != nil {
		return
	}
	for _, raw := range sd.Certificates {
		if c, err := certs.ParseCertificate(raw); err == nil && c.Thumbprint() == thumbprint {
			s.seen.add(ctx, c, "login")
		}
	}
}

func (s *Server) getTrust(w http.ResponseWriter, r *http.Request) (string, error) {
	return "", writeJSON(w, http.StatusOK, s.trust.Load().info())
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) (string, error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := w.Write(OpenAPI)
	return "", err
}

// Health is the answer of /healthz and /readyz.
type Health struct {
	Status string `json:"status"` // ok, or not_ready
	// Trust is the trust in use (readyz), Problems what is not ready.
	Trust    *TrustInfo `json:"trust,omitempty"`
	Problems []string   `json:"problems,omitempty"`
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) (string, error) {
	return "", writeJSON(w, http.StatusOK, Health{Status: "ok"})
}

// readyz is ready when not shutting down and the nonce store and the shared
// cache answer. The nonce store is probed by taking a nonce never issued.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) (string, error) {
	ti := s.trust.Load().info()
	h := Health{Status: "ok", Trust: &ti}
	if s.closing.Load() {
		h.Problems = append(h.Problems, "shutting down")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	probe := "readyz_probe_" + newRequestID() + newRequestID() + newRequestID() + newRequestID()
	if _, _, err := s.store.Take(ctx, probe); err != nil && !errors.Is(err, login.ErrNonceUnknown) {
		h.Problems = append(h.Problems, "nonce store: "+err.Error())
	}
	if s.shared != nil {
		if err := s.shared.ping(ctx); err != nil {
			h.Problems = append(h.Problems, "shared cache: "+err.Error())
		}
	}
	status := http.StatusOK
	if len(h.Problems) > 0 {
		h.Status, status = "not_ready", http.StatusServiceUnavailable
	}
	return h.Status, writeJSON(w, status, h)
}
