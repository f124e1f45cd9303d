package login

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/sign"
)

// DefaultMaxSkew is the clock difference allowed by default, on the client
// (against the challenge's serverTime) and on the server (signingTime against
// its own clock). Kerberos and Microsoft IdentityModel use the same.
const DefaultMaxSkew = 5 * time.Minute

// SkewError is returned by the client before anything is signed when its
// clock and the relying party's differ by more than the allowed skew. The
// server would refuse the response with CLOCK_SKEW; a caller that wants to go
// on anyway sets Client.IgnoreSkew.
type SkewError struct {
	Skew    time.Duration // client clock minus serverTime
	MaxSkew time.Duration
}

func (e *SkewError) Error() string {
	return fmt.Sprintf("login: this computer's clock differs from the site's by %v (more than %v): set the clock right, the site will refuse the login", e.Skew.Round(time.Second), e.MaxSkew)
}

// Client builds login responses.
type Client struct {
	// Now is the client's clock (time.Now when nil); it gives signingTime
	// and clientTime.
	Now func() time.Time
	// MaxSkew is the allowed difference from the challenge's serverTime
	// (DefaultMaxSkew when zero).
	MaxSkew time.Duration
	// IgnoreSkew signs even when the skew exceeds MaxSkew.
	IgnoreSkew bool
	// Chain lists further certificates to put in the CMS (intermediates).
	Chain []*certs.Certificate
}

// Sign builds a response to ch in format f with signer, whose certificate
// is cert; now is the client's clock (time.Now when nil). It is
// (&Client{Now: now}).Sign.
//
// For FormatBound the origin signed is ch.Origin: an agent serving browsers
// must set it from the browser's Origin header, never from the page.
func Sign(ctx context.Context, ch *Challenge, f Format, signer crypto.Signer, cert *certs.Certificate, now func() time.Time) ([]byte, error) {
	return (&Client{Now: now}).Sign(ctx, ch, f, signer, cert)
}

// SignString builds an esia-compatible response to a challenge known only as
// a string (no server time, so no skew check): the CMS signs challenge's bytes
// exactly as given.
func SignString(ctx context.Context, challenge string, signer crypto.Signer, cert *certs.Certificate, now func() time.Time) ([]byte, error) {
	return (&Client{Now: now}).SignString(ctx, challenge, signer, cert)
}

// Sign builds a response to ch in format f. When the client's clock differs
// from ch.ServerTime by more than MaxSkew it returns a *SkewError and signs
// nothing, unless IgnoreSkew is set.
func (c *Client) Sign(ctx context.Context, ch *Challenge, f Format, signer crypto.Signer, cert *certs.Certificate) ([]byte, error) {
	if ch == nil {
		return nil, errors.New("login: no challenge")
	}
	if err := checkNonce(ch.Nonce); err != nil {
		return nil, err
	}
	now := nowFunc(c.Now)()
	max := c.MaxSkew
	if max == 0 {
		max = DefaultMaxSkew
	}
	if skew := now.Sub(ch.ServerTime); !c.IgnoreSkew && (skew > max || skew < -max) {
		return nil, &SkewError{Skew: skew, MaxSkew: max}
	}
	var content []byte
	switch f {
	case FormatBound:
		o, err := NormalizeOrigin(ch.Origin)
		if err != nil {
			return nil, err
		}
		content = NewBoundDocument(o, ch.Nonce, ch.ServerTime, now).Marshal()
	case FormatESIACompatible:
		content = []byte(ch.Nonce)
	default:
		return nil, fmt.Errorf("login: unknown format %q", f)
	}
	return c.sign(ctx, f, content, signer, cert, now)
}

// SignString builds an esia-compatible response to the challenge string.
func (c *Client) SignString(ctx context.Context, challenge string, signer crypto.Signer, cert *certs.Certificate) ([]byte, error) {
	if challenge == "" {
		return nil, errors.New("login: empty challenge")
	}
	return c.sign(ctx, FormatESIACompatible, []byte(challenge), signer, cert, nowFunc(c.Now)())
}

func (c *Client) sign(ctx context.Context, f Format, content []byte, signer crypto.Signer, cert *certs.Certificate, now time.Time) ([]byte, error) {
	der, err := sign.Sign(ctx, bytes.NewReader(content), signer, cert, sign.Options{Attached: true, SigningTime: now, Chain: c.Chain})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return (&Response{Format: f, CMS: der}).Marshal()
}
