package serve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/verify"
)

// VerifyOptions are the options of POST /v1/signatures/verify (the JSON
// "options" member or multipart part) and, without profile and qualified,
// of POST /v1/certificates/verify — kep verify's flags. Every member may be
// left out; the zero value is kep verify's default (profile cms, purpose
// sign, now, the server's revocation policy, the server's trust).
type VerifyOptions struct {
	Profile    string `json:"profile,omitempty"`    // cms, cades-bes, cades-t
	Purpose    string `json:"purpose,omitempty"`    // sign, login, any
	At         string `json:"at,omitempty"`         // RFC 3339 validation time
	Revocation string `json:"revocation,omitempty"` // auto, ocsp, crl, off
	SoftFail   *bool  `json:"softFail,omitempty"`
	Qualified  bool   `json:"qualified,omitempty"` // fail a signature whose CA was not accredited
	// TrustList "none" leaves the server's list of accredited CAs out.
	TrustList string `json:"trustList,omitempty"`
	// Trust, Intermediates: more certificates (PEM, or base64 DER), added to
	// the server's; CRLs: more CRLs (PEM or base64 DER).
	Trust         []string `json:"trust,omitempty"`
	Intermediates []string `json:"intermediates,omitempty"`
	CRLs          []string `json:"crls,omitempty"`
}

// maxOptionsSize bounds the options part.
const maxOptionsSize = 1 << 20

// decodeStrict decodes one JSON value, refusing unknown members and
// trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// ParseVerifyOptions reads the options JSON.
func ParseVerifyOptions(data []byte) (VerifyOptions, error) {
	var o VerifyOptions
	if len(bytes.TrimSpace(data)) == 0 {
		return o, nil
	}
	if err := decodeStrict(data, &o); err != nil {
		return o, fmt.Errorf("options: %w", err)
	}
	return o, nil
}

// decodeBinary reads base64 (standard, padded or not) or PEM text.
func decodeBinary(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		return []byte(s), nil
	}
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func pemOrDER(data []byte) []byte {
	if b, _ := pem.Decode(data); b != nil {
		return b.Bytes
	}
	return data
}

func parseCertList(field string, items []string) ([]*certs.Certificate, *Error) {
	var out []*certs.Certificate
	for i, s := range items {
		b, err := decodeBinary(s)
		if err == nil {
			var cs []*certs.Certificate
			if cs, err = certs.ParseCertificates(b); err == nil {
				out = append(out, cs...)
				continue
			}
		}
		return nil, errBadOptions(fmt.Sprintf("%s[%d] is not a certificate (PEM or base64 DER): %v", field, i, err),
			fmt.Sprintf("%s[%d] — не сертификат (PEM или DER в base64)", field, i))
	}
	return out, nil
}

// build turns the options into verify.Options over the trust in use.
func (s *Server) build(o VerifyOptions, ts *trustState, signatures bool) (verify.Options, *Error) {
	opts := verify.Options{}
	if !signatures && (o.Profile != "" || o.Qualified) {
		return opts, errBadOptions("profile and qualified apply to signatures only", "profile и qualified относятся только к подписям")
	}
	extraRoots, e := parseCertList("trust", o.Trust)
	if e != nil {
		return opts, e
	}
	extraInter, e := parseCertList("intermediates", o.Intermediates)
	if e != nil {
		return opts, e
	}
	crls := slices.Clone(ts.crls)
	for i, c := range o.CRLs {
		b, err := decodeBinary(c)
		var crl *certs.CRL
		if err == nil {
			crl, err = certs.ParseCRL(b)
		}
		if err != nil {
			return opts, errBadOptions(fmt.Sprintf("crls[%d] is not a CRL: %v", i, err), fmt.Sprintf("crls[%d] — не список отзыва", i))
		}
		crls = append(crls, crl)
	}
	opts.CRLs = crls
	switch o.TrustList {
	case "":
		opts.Roots = slices.Concat(ts.roots, extraRoots)
		opts.Intermediates = slices.Concat(ts.inter, extraInter)
		if ts.list != nil {
			opts.Accreditation, opts.RequireQualified = ts.list, o.Qualified
		}
	case "none":
		// Only the configured files, without the list's CAs.
		n := len(ts.roots)
		if ts.list != nil {
			r, _ := ts.list.Certificates()
			n -= len(r)
		}
		opts.Roots = slices.Concat(ts.roots[:n], extraRoots)
		ni := len(ts.inter)
		if ts.list != nil {
			_, i := ts.list.Certificates()
			ni -= len(i)
		}
		opts.Intermediates = slices.Concat(ts.inter[:ni], extraInter)
	default:
		return opts, errBadOptions(`trustList is "none" or absent`, `trustList — "none" или не задан`)
	}
	if o.Qualified && opts.Accreditation == nil {
		return opts, errBadOptions("qualified needs the list of accredited CAs, and this server has none (or trustList is none)",
			"для qualified нужен список аккредитованных УЦ, а у сервера его нет (или trustList = none)")
	}
	if o.At != "" {
		t, err := time.Parse(time.RFC3339, o.At)
		if err != nil {
			return opts, errBadOptions("at: "+err.Error(), "at: время в формате RFC 3339")
		}
		opts.At = t
	}
	switch o.Profile {
	case "", "cms":
	case "cades-bes":
		opts.Profile = verify.ProfileCAdESBES
	case "cades-t":
		opts.Profile = verify.ProfileCAdEST
	case "xl", "xlt1":
		opts.Profile = verify.ProfileXL
	default:
		return opts, errBadOptions("profile: cms, cades-bes, cades-t or xl", "profile: cms, cades-bes, cades-t или xl")
	}
	purpose := o.Purpose
	if purpose == "" {
		purpose = "sign"
	}
	p, err := certs.ParsePurpose(purpose)
	if err != nil || purpose == certs.PurposeTimeStamping.String() {
		return opts, errBadOptions("purpose: sign, login or any", "purpose: sign, login или any")
	}
	opts.Purpose = p
	rc, err := s.checker(o.Revocation, o.SoftFail)
	if err != nil {
		return opts, errBadOptions("revocation: auto, ocsp, crl or off", "revocation: auto, ocsp, crl или off")
	}
	if rc != nil {
		opts.Revocation = rc
	}
	return opts, nil
}

// SignatureRequest is the application/json form of POST
// /v1/signatures/verify.
type SignatureRequest struct {
	// Signature: base64 of the DER/BER, or the PEM text.
	Signature string `json:"signature"`
	// Content: base64 of the signed document (detached signatures).
	Content *string        `json:"content,omitempty"`
	Options *VerifyOptions `json:"options,omitempty"`
}

// ParseSignatureRequest decodes the JSON form: signature, content (nil when
// absent) and options.
func ParseSignatureRequest(data []byte) (sig, content []byte, o VerifyOptions, err error) {
	var req SignatureRequest
	if err = decodeStrict(data, &req); err != nil {
		return nil, nil, o, err
	}
	if req.Signature == "" {
		return nil, nil, o, errors.New("signature is required")
	}
	if sig, err = decodeBinary(req.Signature); err != nil {
		return nil, nil, o, fmt.Errorf("signature: %w", err)
	}
	if req.Content != nil {
		if content, err = base64.StdEncoding.DecodeString(*req.Content); err != nil {
			if content, err = base64.RawStdEncoding.DecodeString(*req.Content); err != nil {
				return nil, nil, o, fmt.Errorf("content: %w", err)
			}
		}
		if content == nil {
			content = []byte{}
		}
	}
	if req.Options != nil {
		o = *req.Options
	}
	return sig, content, o, nil
}

// CertificateRequest is the body of POST /v1/certificates/verify.
type CertificateRequest struct {
	// Certificate: PEM (a bundle: the others serve as intermediates, as
	// with kep certs verify) or base64 DER.
	Certificate string         `json:"certificate"`
	Options     *VerifyOptions `json:"options,omitempty"`
}

// LoginChallengeRequest is the body of POST /v1/login/challenges.
type LoginChallengeRequest struct {
	Origin string `json:"origin"`
}

// LoginVerifyRequest is the body of POST /v1/login/verify. Response is what
// kep login sign prints (the JSON object, or that JSON as a string).
type LoginVerifyRequest struct {
	Origin   string          `json:"origin"`
	Response json.RawMessage `json:"response"`
}

// ParseLoginVerify decodes a login verification request; the response is
// returned as the bytes kep login verify would read.
func ParseLoginVerify(data []byte) (origin string, response []byte, err error) {
	var req LoginVerifyRequest
	if err = decodeStrict(data, &req); err != nil {
		return "", nil, err
	}
	if req.Origin == "" {
		return "", nil, errors.New("origin is required")
	}
	raw := bytes.TrimSpace(req.Response)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		return "", nil, errors.New("response is required")
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", nil, err
		}
		return req.Origin, []byte(s), nil
	case raw[0] == '{':
		return req.Origin, raw, nil
	}
	return "", nil, errors.New("response is the JSON object kep login sign prints, or that JSON as a string")
}
