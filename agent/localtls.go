package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/kepkit/kep/internal/atomicfile"
)

// Files of the local TLS setup, in its directory.
const (
	LocalCAFile   = "kep-local-ca.pem" // the CA certificate users add to their trust store
	localCertFile = "agent.pem"
	localKeyFile  = "agent-key.pem"
)

// LocalTLS is the agent's TLS identity for wss://127.0.0.1: a certificate
// for localhost, 127.0.0.1 and ::1 issued by a CA made for this install
// alone. The CA's private key exists only in memory while the certificate
// is issued and is never written, and the CA is name-constrained to those
// names: trusting it lets nobody, not even someone who steals the files,
// impersonate another site.
type LocalTLS struct {
	Dir string
	// CA is the CA certificate (PEM) to trust.
	CA []byte
	// Certificate is the server certificate and key.
	Certificate tls.Certificate
	// Created reports that a new CA was made (it must be trusted again).
	Created bool
}

// EnsureLocalTLS loads the TLS identity from dir, or makes a new one when
// there is none or the certificate expires within 30 days.
func EnsureLocalTLS(dir string, now time.Time) (*LocalTLS, error) {
	lt, err := loadLocalTLS(dir, now)
	if err == nil {
		return lt, nil
	}
	if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errRenew) {
		return nil, err
	}
	return newLocalTLS(dir, now)
}

var errRenew = errors.New("agent: local TLS certificate due for renewal")

func loadLocalTLS(dir string, now time.Time) (*LocalTLS, error) {
	caPEM, err := os.ReadFile(filepath.Join(dir, LocalCAFile))
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, localCertFile), filepath.Join(dir, localKeyFile))
	if err != nil {
		return nil, fmt.Errorf("agent: local TLS in %s: %w", dir, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, err
	}
	if now.Add(30 * 24 * time.Hour).After(leaf.NotAfter) {
		return nil, errRenew
	}
	return &LocalTLS{Dir: dir, CA: caPEM, Certificate: cert}, nil
}

func newLocalTLS(dir string, now time.Time) (*LocalTLS, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	serial := func() *big.Int {
		n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		return n
	}
	loopback := []net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	ca := &x509.Certificate{
		SerialNumber:                serial(),
		Subject:                     pkix.Name{CommonName: "kep local agent CA (" + host + ", " + randomHex(4) + ")", Organization: []string{"kep"}},
		NotBefore:                   now.Add(-time.Hour),
		NotAfter:                    now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                        true,
		BasicConstraintsValid:       true,
		MaxPathLenZero:              true,
		KeyUsage:                    x509.KeyUsageCertSign,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         []string{"localhost"},
		PermittedIPRanges: []*net.IPNet{
			{IP: loopback[0], Mask: net.CIDRMask(32, 32)},
			{IP: loopback[1], Mask: net.CIDRMask(128, 128)},
		},
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  loopback,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(397 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, key.Public(), caKey)
	if err != nil {
		return nil, err
	}
	// The CA key is dropped here: nothing else will ever be issued by it.
	caKey = nil
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	certPEM := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), caPEM...)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
		perm os.FileMode
	}{{localKeyFile, keyPEM, 0o600}, {localCertFile, certPEM, 0o644}, {LocalCAFile, caPEM, 0o644}} {
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), f.data, f.perm); err != nil {
			return nil, err
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &LocalTLS{Dir: dir, CA: caPEM, Certificate: cert, Created: true}, nil
}

// DefaultTLSDir is kep/agent/tls in the user's config directory.
func DefaultTLSDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kep", "agent", "tls"), nil
}
