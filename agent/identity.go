package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kepkit/kep/internal/atomicfile"
)

// Identity lets pages tell this user's kep agent from another program on
// its port (another local user can bind 127.0.0.1:24321 first and receive
// every page's traffic). It is a 32-byte secret kept in the user's config
// directory (0600); from it each origin gets its own ECDSA P-256 key, so
// that two sites cannot link the user by the agent's key. kep.js pins the
// key of its origin when the site is first approved and, on every
// connection, has the agent sign a fresh nonce with it (agent.prove): a
// program without the secret cannot answer.
//
// Warning: the first approval trusts whichever agent answers then (trust on
// first use); the wss mode (--tls, a CA the user installed) proves the agent
// without that window, and the native-messaging transport has no port.
type Identity struct {
	secret []byte
}

// identitySize is the secret's size on disk.
const identitySize = 32

// NewIdentity makes an identity that lives only in memory (tests, and
// agents that keep no state): pages must pin again after a restart.
func NewIdentity() *Identity {
	b := make([]byte, identitySize)
	rand.Read(b)
	return &Identity{secret: b}
}

// DefaultIdentityFile is kep/agent/identity.key in the user's config directory.
func DefaultIdentityFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kep", "agent", "identity.key"), nil
}

// LoadIdentity reads the secret at path, making it (0600) when missing.
func LoadIdentity(path string) (*Identity, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		id := NewIdentity()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(path, id.secret, 0o600); err != nil {
			return nil, err
		}
		return id, nil
	}
	if err != nil {
		return nil, err
	}
	if len(data) != identitySize {
		return nil, fmt.Errorf("agent: %s is not a kep identity (%d bytes)", path, len(data))
	}
	return &Identity{secret: data}, nil
}

// key derives origin's key: HKDF-SHA-256 over the secret with the origin
// as info, the first candidate that is a valid P-256 scalar.
func (id *Identity) key(origin string) (*ecdsa.PrivateKey, error) {
	for i := uint32(0); i < 16; i++ {
		info := binary.BigEndian.AppendUint32([]byte("kep-agent-identity-v1\x00"+origin+"\x00"), i)
		d, err := hkdf.Key(sha256.New, id.secret, nil, string(info), 32)
		if err != nil {
			return nil, err
		}
		if k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d); err == nil {
			return k, nil
		}
	}
	return nil, errors.New("agent: no identity key could be derived")
}

// PublicKey is origin's public key as DER SubjectPublicKeyInfo (what
// WebCrypto imports as "spki").
func (id *Identity) PublicKey(origin string) ([]byte, error) {
	k, err := id.key(origin)
	if err != nil {
		return nil, err
	}
	return x509.MarshalPKIXPublicKey(&k.PublicKey)
}

// proofMessage is what agent.prove signs: bound to the origin the browser
// reported and to the page's nonce.
func proofMessage(origin string, nonce []byte) []byte {
	m := []byte("kep-agent-proof-v1\n" + origin + "\n")
	return append(m, nonce...)
}

// Prove signs the nonce for origin: ECDSA P-256 with SHA-256, the
// signature as r‖s (32 bytes each, what WebCrypto verifies).
func (id *Identity) Prove(origin string, nonce []byte) ([]byte, error) {
	k, err := id.key(origin)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(proofMessage(origin, nonce))
	r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out, nil
}
