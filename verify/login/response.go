package login

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Format names a response format.
type Format string

// The response formats.
const (
	// FormatBound: the signed content is a BoundDocument naming the origin
	// and the nonce (like Web eID's token).
	FormatBound Format = "bound"
	// FormatESIACompatible: the signed content is the challenge string (the
	// nonce) exactly as received, as ЕСИА has Госплагин sign its
	// digital_challenge. Only the nonce store ties it to an origin.
	FormatESIACompatible Format = "esia-compatible"
)

// ParseFormat returns the format named s.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatBound, FormatESIACompatible:
		return f, nil
	}
	return "", fmt.Errorf("login: unknown format %q (want bound or esia-compatible)", s)
}

// BoundFormat is the value of a BoundDocument's format member.
const BoundFormat = "kep-login-v1"

// MaxResponseSize bounds a response (the CMS carries the certificate chain).
const MaxResponseSize = 256 << 10

// Response is what the client sends back: {"format":…,"cms":base64}.
type Response struct {
	Format Format `json:"format"`
	CMS    []byte `json:"cms"` // standard base64 with padding in JSON
}

// Marshal returns the response's JSON form.
func (r *Response) Marshal() ([]byte, error) {
	return json.Marshal(r)
}

// ParseResponse reads a response. Unknown members, a missing or unknown
// format, an empty or badly encoded cms, trailing data and responses over
// MaxResponseSize are errors.
func ParseResponse(data []byte) (*Response, error) {
	if len(data) > MaxResponseSize {
		return nil, fmt.Errorf("login: response of %d bytes exceeds %d", len(data), MaxResponseSize)
	}
	var raw struct {
		Format *string `json:"format"`
		CMS    *string `json:"cms"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("login: response: %w", err)
	}
	if dec.More() {
		return nil, errors.New("login: response: data after the JSON object")
	}
	if raw.Format == nil || raw.CMS == nil {
		return nil, errors.New("login: response: format and cms are required")
	}
	f, err := ParseFormat(*raw.Format)
	if err != nil {
		return nil, err
	}
	cms, err := base64.StdEncoding.Strict().DecodeString(*raw.CMS)
	if err != nil {
		return nil, fmt.Errorf("login: response: cms: %w", err)
	}
	if len(cms) == 0 {
		return nil, errors.New("login: response: cms is empty")
	}
	return &Response{Format: f, CMS: cms}, nil
}

// BoundDocument is the signed content of a bound response. Its encoding is
// canonical: exactly
//
//	{"format":"kep-login-v1","origin":ORIGIN,"nonce":NONCE,"serverTime":T1,"clientTime":T2}
//
// with the members in this order, no white space, ORIGIN normalised (see
// NormalizeOrigin), NONCE 43–128 base64url characters, and the times RFC 3339
// in UTC with whole seconds and a Z ("2026-01-02T15:04:05Z"). serverTime is
// the challenge's, clientTime the client's clock when it signed. A document
// that is not in this exact form is refused.
type BoundDocument struct {
	Format     string `json:"format"`
	Origin     string `json:"origin"`
	Nonce      string `json:"nonce"`
	ServerTime string `json:"serverTime"`
	ClientTime string `json:"clientTime"`
}

const timeLayout = "2006-01-02T15:04:05Z"

// formatTime writes t in the canonical form (UTC, whole seconds).
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// NewBoundDocument returns the document for the given values.
func NewBoundDocument(origin, nonce string, serverTime, clientTime time.Time) BoundDocument {
	return BoundDocument{Format: BoundFormat, Origin: origin, Nonce: nonce,
		ServerTime: formatTime(serverTime), ClientTime: formatTime(clientTime)}
}

// Marshal returns the canonical encoding.
func (d BoundDocument) Marshal() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(d) // a struct of strings always encodes
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Times returns the parsed serverTime and clientTime.
func (d BoundDocument) Times() (server, client time.Time, err error) {
	if server, err = time.Parse(timeLayout, d.ServerTime); err != nil {
		return
	}
	client, err = time.Parse(timeLayout, d.ClientTime)
	return
}

// ParseBoundDocument reads a bound document and refuses anything but its
// canonical encoding.
func ParseBoundDocument(data []byte) (BoundDocument, error) {
	var d BoundDocument
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return BoundDocument{}, fmt.Errorf("login: signed document: %w", err)
	}
	if d.Format != BoundFormat {
		return BoundDocument{}, fmt.Errorf("login: signed document: format %q, want %q", d.Format, BoundFormat)
	}
	if err := checkNonce(d.Nonce); err != nil {
		return BoundDocument{}, err
	}
	if o, err := NormalizeOrigin(d.Origin); err != nil {
		return BoundDocument{}, err
	} else if o != d.Origin {
		return BoundDocument{}, fmt.Errorf("login: signed document: origin %q is not normalised", d.Origin)
	}
	st, ct, err := d.Times()
	if err != nil {
		return BoundDocument{}, fmt.Errorf("login: signed document: %w", err)
	}
	// time.Parse also takes a fraction of a second the layout lacks.
	if formatTime(st) != d.ServerTime || formatTime(ct) != d.ClientTime {
		return BoundDocument{}, errors.New("login: signed document: times not in whole seconds")
	}
	if !bytes.Equal(d.Marshal(), data) {
		return BoundDocument{}, errors.New("login: signed document: not in canonical form")
	}
	return d, nil
}
