package revocation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/kepkit/kep/certs"
)

// maxIssuerSize bounds a downloaded issuer certificate (or bundle).
const maxIssuerSize = 1 << 20

// ErrNoIssuer: no caIssuers address gave the certificate's issuer.
var ErrNoIssuer = errors.New("revocation: the issuer's certificate could not be fetched")

// FetchIssuer downloads the certificate of cert's issuer from the caIssuers
// addresses of its authorityInfoAccess extension (RFC 5280 4.2.2.1; http://
// only, at most 1 MiB, DER or PEM) and returns the one whose subject is
// cert's issuer and whose key verifies cert's signature. It says nothing
// about trust: the chain is validated by whoever uses it (sign.Options'
// Issuers, for the chains of CAdES-X Long).
func (c *Checker) FetchIssuer(ctx context.Context, cert *certs.Certificate) (*certs.Certificate, error) {
	urls := httpOnly(cert.IssuingCertificateURL)
	if len(urls) == 0 {
		return nil, fmt.Errorf("%w: %q names no http caIssuers address", ErrNoIssuer, cert.SubjectString())
	}
	var why []string
	for _, u := range urls {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		_, body, err := c.do(ctx, req, maxIssuerSize)
		if err != nil {
			why = append(why, u+": "+err.Error())
			continue
		}
		list, err := certs.ParseCertificates(body)
		if err != nil {
			why = append(why, u+": "+err.Error())
			continue
		}
		for _, cand := range list {
			if bytes.Equal(cand.RawSubject, cert.RawIssuer) && cert.CheckSignatureFrom(cand) == nil {
				return cand, nil
			}
		}
		why = append(why, u+": no certificate there issued "+cert.SubjectString())
	}
	return nil, fmt.Errorf("%w: %s", ErrNoIssuer, strings.Join(why, "; "))
}
