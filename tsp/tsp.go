// Package tsp gets RFC 3161 time-stamp tokens from a time-stamping authority
// (TSA) and reads them: the signature-time-stamp of CAdES-T, which proves
// that a signature existed at the TSA's time, and the other time-stamps of
// CAdES (content, CAdES-C, certificate and CRL references). Signing (sign:
// Client is its Timestamper) and verification (verify: Parse) share it.
//
// Client.Timestamp sends a request with a random nonce and the certificate
// requested, and checks the answer before returning the token: the status,
// the imprint (the digest asked for, with its algorithm) and the nonce. It
// does not validate the TSA's signature and certificate: the verifier does
// (verify checks the token's CMS signature and the TSA's chain with purpose
// timestamping).
//
// Warning: a TSA reached over plain HTTP can be impersonated on the way;
// that is caught only when the token is verified against trusted roots.
package tsp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/cms"
)

// OIDTSTInfo is id-ct-TSTInfo, the content type of a time-stamp token.
var OIDTSTInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}

// MaxResponse bounds a TSA's answer.
const MaxResponse = 1 << 20

// Errors.
var (
	// ErrRejected: the TSA answered with a status other than granted.
	ErrRejected = errors.New("tsp: the TSA refused")
	// ErrMismatch: the token is not for the digest or nonce asked for.
	ErrMismatch = errors.New("tsp: the token does not answer the request")
	// ErrFormat: the answer or the token does not parse.
	ErrFormat = errors.New("tsp: malformed time-stamp data")
)

// Client asks one TSA. The zero value (with a URL) uses an http.Client with
// a 30-second timeout.
type Client struct {
	URL  string
	HTTP *http.Client
	// Policy, when set, is the TSA policy requested.
	Policy asn1.ObjectIdentifier
}

// Info is what a time-stamp token says.
type Info struct {
	GenTime time.Time
	Policy  asn1.ObjectIdentifier
	Serial  *big.Int
	// Digest and Hash are the message imprint: what was time-stamped.
	Digest *certs.Digest
	Hash   []byte
	Nonce  *big.Int
	// SignedData is the token's CMS structure.
	SignedData *cms.SignedData
}

type messageImprint struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	HashedMessage []byte
}

type timeStampReq struct {
	Version        int
	MessageImprint messageImprint
	ReqPolicy      asn1.ObjectIdentifier `asn1:"optional"`
	Nonce          *big.Int              `asn1:"optional"`
	CertReq        bool                  `asn1:"optional,default:false"`
}

// failInfo names the PKIFailureInfo bits.
var failInfo = []string{0: "badAlg", 2: "badRequest", 5: "badDataFormat", 14: "timeNotAvailable", 15: "unacceptedPolicy",
	16: "unacceptedExtension", 17: "addInfoNotAvailable", 25: "systemFailure"}

// Timestamp asks the TSA to time-stamp digest (computed with d) and returns
// the TimeStampToken (a DER ContentInfo holding a SignedData).
func (c *Client) Timestamp(ctx context.Context, d *certs.Digest, digest []byte) ([]byte, error) {
	if d == nil || len(digest) != d.Size {
		return nil, fmt.Errorf("tsp: a %d-byte digest is not a %v digest", len(digest), d)
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, err
	}
	req, err := asn1.Marshal(timeStampReq{Version: 1, MessageImprint: messageImprint{pkix.AlgorithmIdentifier{Algorithm: d.OID}, digest},
		ReqPolicy: c.Policy, Nonce: nonce, CertReq: true})
	if err != nil {
		return nil, err
	}
	client := c.HTTP
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("tsp: %w", err)
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	resp, err := client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("tsp: %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("tsp: %s: %w", c.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tsp: %s: HTTP %s", c.URL, resp.Status)
	}
	if len(body) > MaxResponse {
		return nil, fmt.Errorf("%w: the answer of %s is over %d bytes", ErrFormat, c.URL, MaxResponse)
	}
	token, err := ParseResponse(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.URL, err)
	}
	info, err := Parse(token)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.URL, err)
	}
	switch {
	case !info.Digest.OID.Equal(d.OID) || !bytes.Equal(info.Hash, digest):
		return nil, fmt.Errorf("%w: it time-stamps another digest", ErrMismatch)
	case info.Nonce == nil || info.Nonce.Cmp(nonce) != 0:
		return nil, fmt.Errorf("%w: the nonce differs (a replayed or foreign token)", ErrMismatch)
	}
	return token, nil
}

// ParseResponse reads a TimeStampResp and returns its token, or the TSA's
// refusal as an ErrRejected.
func ParseResponse(der []byte) ([]byte, error) {
	in := cryptobyte.String(der)
	var resp, status cryptobyte.String
	var code int
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !in.Empty() || !resp.ReadASN1(&status, cbasn1.SEQUENCE) || !status.ReadASN1Integer(&code) {
		return nil, fmt.Errorf("%w: not a TimeStampResp", ErrFormat)
	}
	if code != 0 && code != 1 { // granted, grantedWithMods
		var texts []string
		if status.PeekASN1Tag(cbasn1.SEQUENCE) {
			var free cryptobyte.String
			status.ReadASN1(&free, cbasn1.SEQUENCE)
			for !free.Empty() {
				var s cryptobyte.String
				if !free.ReadASN1(&s, cbasn1.UTF8String) {
					break
				}
				texts = append(texts, string(s))
			}
		}
		var bits asn1.BitString
		if status.PeekASN1Tag(cbasn1.BIT_STRING) {
			var raw cryptobyte.String
			if status.ReadASN1Element(&raw, cbasn1.BIT_STRING) {
				asn1.Unmarshal(raw, &bits)
			}
		}
		for i, name := range failInfo {
			if name != "" && bits.At(i) == 1 {
				texts = append(texts, name)
			}
		}
		return nil, fmt.Errorf("%w: status %d %s", ErrRejected, code, strings.Join(texts, "; "))
	}
	var token cryptobyte.String
	if !resp.ReadASN1Element(&token, cbasn1.SEQUENCE) || !resp.Empty() {
		return nil, fmt.Errorf("%w: a granted answer without a token", ErrFormat)
	}
	return []byte(token), nil
}

// Parse reads a TimeStampToken.
func Parse(token []byte) (*Info, error) {
	sd, err := cms.Parse(token)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if !sd.EContentType.Equal(OIDTSTInfo) || sd.EContent == nil {
		return nil, fmt.Errorf("%w: the token's content is %v, not a TSTInfo", ErrFormat, sd.EContentType)
	}
	info, err := parseTSTInfo(sd.EContent)
	if err != nil {
		return nil, err
	}
	info.SignedData = sd
	return info, nil
}

func parseTSTInfo(der []byte) (*Info, error) {
	bad := func(what string) (*Info, error) { return nil, fmt.Errorf("%w: TSTInfo: %s", ErrFormat, what) }
	in := cryptobyte.String(der)
	var tst, imprint, alg cryptobyte.String
	var version int
	info := &Info{Serial: new(big.Int)}
	var algOID asn1.ObjectIdentifier
	if !in.ReadASN1(&tst, cbasn1.SEQUENCE) || !tst.ReadASN1Integer(&version) || version != 1 {
		return bad("version")
	}
	if !tst.ReadASN1ObjectIdentifier(&info.Policy) {
		return bad("policy")
	}
	if !tst.ReadASN1(&imprint, cbasn1.SEQUENCE) || !imprint.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&algOID) {
		return bad("messageImprint")
	}
	var hash cryptobyte.String
	if !imprint.ReadASN1(&hash, cbasn1.OCTET_STRING) {
		return bad("messageImprint")
	}
	d, err := certs.DigestByOID(algOID)
	if err != nil {
		return nil, fmt.Errorf("%w: TSTInfo: imprint algorithm %v", ErrFormat, algOID)
	}
	if len(hash) != d.Size {
		return bad("imprint length")
	}
	info.Digest, info.Hash = d, []byte(hash)
	if !tst.ReadASN1Integer(info.Serial) {
		return bad("serialNumber")
	}
	var gt cryptobyte.String
	if !tst.ReadASN1(&gt, cbasn1.GeneralizedTime) {
		return bad("genTime")
	}
	if info.GenTime, err = parseGeneralizedTime(string(gt)); err != nil {
		return bad(err.Error())
	}
	tst.SkipOptionalASN1(cbasn1.SEQUENCE) // accuracy
	tst.SkipOptionalASN1(cbasn1.BOOLEAN)  // ordering
	if tst.PeekASN1Tag(cbasn1.INTEGER) {
		info.Nonce = new(big.Int)
		if !tst.ReadASN1Integer(info.Nonce) {
			return bad("nonce")
		}
	}
	return info, nil
}

// parseGeneralizedTime reads YYYYMMDDHHMMSS[.fraction]Z.
func parseGeneralizedTime(s string) (time.Time, error) {
	for _, layout := range []string{"20060102150405Z", "20060102150405.999999999Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("genTime %q", s)
}
