package soft

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/crypto/pkcs12"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
	"github.com/kepkit/kep/pkcs11"
)

// MaxIDLen is the longest CKA_ID the token stores.
const MaxIDLen = 64

// Object is a key pair on the token with its certificates: what a PKCS#11
// token shows as a private key, a public key and certificate objects sharing
// one CKA_ID. Everything in it is readable without the PIN.
type Object struct {
	ID          []byte             // CKA_ID
	Label       string             // CKA_LABEL
	Public      crypto.PublicKey   // *gost3410.PublicKey, *rsa.PublicKey or *ecdsa.PublicKey
	Certificate *certs.Certificate // the key's certificate, nil when none was stored
	Chain       []*certs.Certificate
}

type keyFile struct {
	ID          []byte   `json:"id"`
	Label       string   `json:"label"`
	PublicKey   []byte   `json:"publicKey"`             // DER SubjectPublicKeyInfo
	Certificate []byte   `json:"certificate,omitempty"` // DER
	Chain       [][]byte `json:"chain,omitempty"`       // DER
	// PrivateKey is nonce || XChaCha20-Poly1305 of the DER PKCS#8 key under
	// the master key, with keyAD as associated data.
	PrivateKey []byte `json:"privateKey"`
}

func keyAD(serial string, id, spki []byte) []byte {
	h := sha256.Sum256(spki)
	return ad([]byte(format), []byte("key"), []byte(serial), id, h[:])
}

func (t *Token) keyPath(id []byte) string {
	return filepath.Join(t.dir, keysDir, hex.EncodeToString(id)+".json")
}

// Objects lists the token's key pairs, ordered by CKA_ID. It needs no login.
// A key file that does not parse fails the whole listing with ErrCorrupt.
func (t *Token) Objects() ([]*Object, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var objs []*Object
	err := t.locked(false, func() error {
		names, err := filepath.Glob(filepath.Join(t.dir, keysDir, "*.json"))
		if err != nil {
			return fmt.Errorf("soft: %w", err)
		}
		sort.Strings(names)
		for _, name := range names {
			_, obj, err := readKeyFile(name)
			if err != nil {
				return err
			}
			objs = append(objs, obj)
		}
		return nil
	})
	return objs, err
}

func readKeyFile(name string) (*keyFile, *Object, error) {
	data, err := readFile(name, maxKeyFile)
	if err != nil {
		return nil, nil, err
	}
	return parseKeyFile(filepath.Base(name), data)
}

// parseKeyFile parses and checks the contents of the key file called base
// (<hex CKA_ID>.json): the CKA_ID must be the name's, the public key one this
// token stores and the certificate, when there is one, that key's.
func parseKeyFile(base string, data []byte) (*keyFile, *Object, error) {
	var kf keyFile
	bad := func(why string, err error) (*keyFile, *Object, error) {
		return nil, nil, fmt.Errorf("%w: %s: %s: %w", ErrCorrupt, base, why, err)
	}
	if err := json.Unmarshal(data, &kf); err != nil {
		return bad("not JSON", err)
	}
	if len(kf.ID) == 0 || len(kf.ID) > MaxIDLen || base != hex.EncodeToString(kf.ID)+".json" {
		return bad("CKA_ID", errors.New("does not match the file name"))
	}
	obj := &Object{ID: kf.ID, Label: kf.Label}
	var err error
	if obj.Public, err = parsePublicKey(kf.PublicKey); err != nil {
		return bad("public key", err)
	}
	if kf.Certificate != nil {
		if obj.Certificate, err = certs.ParseCertificate(kf.Certificate); err != nil {
			return bad("certificate", err)
		}
		if !publicEqual(obj.Public, obj.Certificate.PublicKey) {
			return bad("certificate", errors.New("is not the stored public key's"))
		}
	}
	for _, der := range kf.Chain {
		c, err := certs.ParseCertificate(der)
		if err != nil {
			return bad("chain certificate", err)
		}
		obj.Chain = append(obj.Chain, c)
	}
	return &kf, obj, nil
}

func parsePublicKey(spki []byte) (crypto.PublicKey, error) {
	info, err := gostkey.ParsePKIXPublicKey(spki)
	if err == nil {
		return info.Key, nil
	}
	if !errors.Is(err, gostkey.ErrNotGOST) {
		return nil, err
	}
	pub, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		return nil, err
	}
	switch pub.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
		return pub, nil
	}
	return nil, fmt.Errorf("%w: %T", pkcs11.ErrUnsupportedKey, pub)
}

// marshalKey returns the DER SubjectPublicKeyInfo and PKCS#8 of a key this
// token stores.
func marshalKey(signer crypto.Signer) (spki, pkcs8 []byte, err error) {
	switch k := signer.(type) {
	case *gost3410.PrivateKey:
		if k.Params().Legacy {
			return nil, nil, fmt.Errorf("%w: GOST R 34.10-2001 test parameter set", pkcs11.ErrUnsupportedKey)
		}
		if spki, err = gostkey.MarshalPKIXPublicKey(k.PublicKey()); err == nil {
			pkcs8, err = gostkey.MarshalPKCS8PrivateKey(k)
		}
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
		if k, ok := k.(*ecdsa.PrivateKey); ok && k.Curve != elliptic.P256() && k.Curve != elliptic.P384() && k.Curve != elliptic.P521() {
			return nil, nil, fmt.Errorf("%w: ECDSA on %s", pkcs11.ErrUnsupportedKey, k.Curve.Params().Name)
		}
		if spki, err = x509.MarshalPKIXPublicKey(signer.Public()); err == nil {
			pkcs8, err = x509.MarshalPKCS8PrivateKey(k)
		}
	default:
		return nil, nil, fmt.Errorf("%w: %T", pkcs11.ErrUnsupportedKey, signer)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("soft: %w", err)
	}
	return spki, pkcs8, nil
}

// ImportKey stores signer (a *gost3410.PrivateKey, *rsa.PrivateKey or
// *ecdsa.PrivateKey) with its certificate and chain: of chain, the first
// certificate with signer's public key becomes the key's certificate, the
// others are kept as its chain; when chain is not empty and none matches,
// the import is refused with pkcs11.ErrKeyMismatch. The CKA_ID is the SHA-1
// of the public key value (as OpenSC and most CAs' tools make it); the label
// is label, else the certificate's common name, else the ID in hex. It needs
// a login; a key already on the token is ErrExists.
func (t *Token) ImportKey(signer crypto.Signer, label string, chain ...*certs.Certificate) (*Object, error) {
	var cert *certs.Certificate
	var rest []*certs.Certificate
	for _, c := range chain {
		if cert == nil && publicEqual(signer.Public(), c.PublicKey) {
			cert = c
		} else {
			rest = append(rest, c)
		}
	}
	if len(chain) > 0 && cert == nil {
		return nil, fmt.Errorf("%w: no certificate has the key's public key", pkcs11.ErrKeyMismatch)
	}
	return t.store(signer, nil, label, cert, rest)
}

// GenerateKey makes a key pair on the token (it needs a login):
// opts.Type pkcs11.KeyGOST (opts.ParamSet, gost3410.CryptoProA when nil),
// pkcs11.KeyRSA (opts.RSABits, 2048 when zero, at least 2048) or
// pkcs11.KeyECDSA (opts.Curve: P-256 when nil, P-384 or P-521). opts.ID is the CKA_ID (the
// SHA-1 of the public key value when empty; an ID on the token is
// ErrExists), opts.Label the label (the ID in hex when empty).
func (t *Token) GenerateKey(opts pkcs11.KeyOptions) (*Object, error) {
	if !t.LoggedIn() {
		return nil, fmt.Errorf("%w: log in to generate a key", pkcs11.ErrNotLoggedIn)
	}
	var signer crypto.Signer
	var err error
	switch opts.Type {
	case pkcs11.KeyGOST:
		ps := opts.ParamSet
		if ps == nil {
			ps = gost3410.CryptoProA
		}
		signer, err = gost3410.GenerateKey(ps, rand.Reader)
	case pkcs11.KeyRSA:
		bits := opts.RSABits
		if bits == 0 {
			bits = 2048
		}
		if bits < 2048 {
			return nil, fmt.Errorf("%w: RSA keys have at least 2048 bits", pkcs11.ErrUnsupportedKey)
		}
		signer, err = rsa.GenerateKey(rand.Reader, bits)
	case pkcs11.KeyECDSA:
		c := opts.Curve
		if c == nil {
			c = elliptic.P256()
		}
		signer, err = ecdsa.GenerateKey(c, rand.Reader)
	default:
		return nil, fmt.Errorf("%w: key type %d", pkcs11.ErrUnsupportedKey, opts.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("soft: generating the key: %w", err)
	}
	return t.store(signer, opts.ID, opts.Label, nil, nil)
}

func (t *Token) store(signer crypto.Signer, id []byte, label string, cert *certs.Certificate, chain []*certs.Certificate) (*Object, error) {
	spki, pkcs8, err := marshalKey(signer)
	if err != nil {
		return nil, err
	}
	defer clear(pkcs8)
	if len(id) == 0 {
		h := sha1.Sum(publicValue(signer.Public()))
		id = h[:]
	}
	if len(id) > MaxIDLen {
		return nil, fmt.Errorf("soft: a CKA_ID has at most %d bytes", MaxIDLen)
	}
	if label == "" && cert != nil {
		label = cert.Subject.CommonName
	}
	if label == "" {
		label = hex.EncodeToString(id)
	}
	kf := keyFile{ID: id, Label: label, PublicKey: spki}
	obj := &Object{ID: id, Label: label, Public: signer.Public(), Certificate: cert, Chain: chain}
	if cert != nil {
		kf.Certificate = cert.Raw
	}
	for _, c := range chain {
		kf.Chain = append(kf.Chain, c.Raw)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	err = t.locked(true, func() error {
		if t.master == nil {
			return fmt.Errorf("%w: log in to store a key", pkcs11.ErrNotLoggedIn)
		}
		if _, err := os.Stat(t.keyPath(id)); err == nil {
			return fmt.Errorf("%w: a key with CKA_ID %x", ErrExists, id)
		}
		kf.PrivateKey = seal(t.master, pkcs8, keyAD(t.tf.Serial, id, spki))
		return writeJSON(t.keyPath(id), kf)
	})
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// publicValue is the public key as PKCS#11 shows it: X||Y little-endian for
// GOST, the uncompressed point for ECDSA, the modulus for RSA.
func publicValue(pub crypto.PublicKey) []byte {
	switch p := pub.(type) {
	case *gost3410.PublicKey:
		return gostkey.MarshalPublicKeyValue(p)
	case *ecdsa.PublicKey:
		b, _ := p.Bytes()
		return b
	case *rsa.PublicKey:
		return p.N.Bytes()
	}
	return nil
}

func publicEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && b != nil && e.Equal(b)
}

// ImportPEM imports a private key as OpenSSL writes it (PKCS#8 GOST, RSA or
// ECDSA; PKCS#1; SEC 1 — see certs.ParsePrivateKey) with the certificates
// in certPEM (PEM or DER; may be empty). See ImportKey.
func (t *Token) ImportPEM(keyPEM, certPEM []byte, label string) (*Object, error) {
	signer, err := certs.ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, err
	}
	var chain []*certs.Certificate
	if len(certPEM) > 0 {
		if chain, err = certs.ParseCertificates(certPEM); err != nil {
			return nil, err
		}
	}
	return t.ImportKey(signer, label, chain...)
}

// ImportPKCS12 imports the key and certificates of a PKCS#12 (PFX) file with
// an RSA or ECDSA key in the encryption golang.org/x/crypto/pkcs12 reads
// (3DES or RC2 with SHA-1 MACs; OpenSSL 3 writes it with -legacy). GOST PFX
// files, as CryptoPro exports them, are not supported. See ImportKey.
func (t *Token) ImportPKCS12(pfx []byte, password, label string) (*Object, error) {
	blocks, err := pkcs12.ToPEM(pfx, password)
	if err != nil {
		var ni pkcs12.NotImplementedError
		if errors.As(err, &ni) {
			return nil, fmt.Errorf("soft: PKCS#12: %w (GOST PFX files and AES encryption are not supported: export the key as PKCS#8 PEM, or the PFX with openssl pkcs12 -legacy)", err)
		}
		return nil, fmt.Errorf("soft: PKCS#12: %w", err)
	}
	var signer crypto.Signer
	var chain []*certs.Certificate
	for _, b := range blocks {
		switch {
		case b.Type == "CERTIFICATE":
			c, err := certs.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, err
			}
			chain = append(chain, c)
		case b.Type == "PRIVATE KEY" && signer == nil:
			// ToPEM labels PKCS#1 and SEC 1 keys "PRIVATE KEY".
			if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
				signer = k
			} else if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
				signer = k
			} else {
				return nil, fmt.Errorf("soft: PKCS#12: the private key does not parse: %w", err)
			}
		}
	}
	if signer == nil {
		return nil, errors.New("soft: the PKCS#12 file holds no private key")
	}
	return t.ImportKey(signer, label, chain...)
}

// LoggedIn reports whether the Token is logged in.
func (t *Token) LoggedIn() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.master != nil
}

// Key is a private key of a logged-in token. It is a crypto.Signer, safe for
// concurrent use; it stops signing when the token is logged out, closed or
// removed.
type Key struct {
	t    *Token
	obj  *Object
	priv crypto.Signer
}

// Signer decrypts the private key with CKA_ID id. It needs a login
// (pkcs11.ErrNotLoggedIn); an unknown id is pkcs11.ErrKeyNotFound; a key
// whose decryption fails with the right PIN, or whose public key is not the
// stored one, is ErrCorrupt.
func (t *Token) Signer(id []byte) (*Key, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var k *Key
	err := t.locked(false, func() error {
		if t.master == nil {
			return fmt.Errorf("%w: log in to use a key", pkcs11.ErrNotLoggedIn)
		}
		if len(id) == 0 || len(id) > MaxIDLen {
			return fmt.Errorf("%w: CKA_ID %x", pkcs11.ErrKeyNotFound, id)
		}
		kf, obj, err := readKeyFile(t.keyPath(id))
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: no key with CKA_ID %x", pkcs11.ErrKeyNotFound, id)
		}
		if err != nil {
			return err
		}
		der, err := open(t.master, kf.PrivateKey, keyAD(t.tf.Serial, kf.ID, kf.PublicKey))
		if err != nil {
			return fmt.Errorf("%w: key %x does not decrypt", ErrCorrupt, id)
		}
		defer clear(der)
		priv, err := certs.ParsePrivateKey(der)
		if err != nil {
			return fmt.Errorf("%w: key %x: %w", ErrCorrupt, id, err)
		}
		if !publicEqual(priv.Public(), obj.Public) {
			return fmt.Errorf("%w: key %x is not the stored public key's", ErrCorrupt, id)
		}
		k = &Key{t: t, obj: obj, priv: priv}
		return nil
	})
	return k, err
}

// ID returns the key's CKA_ID.
func (k *Key) ID() []byte { return k.obj.ID }

// Object returns the key's object (label, certificates).
func (k *Key) Object() *Object { return k.obj }

// Public returns the public key.
func (k *Key) Public() crypto.PublicKey { return k.priv.Public() }

// Sign signs as the key type's Sign does: for GOST, digest is the Streebog
// hash as the hash emits it and the result s || r big-endian; RSA with
// opts.HashFunc() == 0 signs digest as a ready DigestInfo (PKCS#1 v1.5, as
// CKM_RSA_PKCS); ECDSA returns a DER signature. rand is crypto/rand when nil.
func (k *Key) Sign(rnd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.t.mu.Lock()
	err := k.t.check()
	k.t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	return k.priv.Sign(rnd, digest, opts)
}

// check reports whether the token may sign: open, present and logged in.
func (t *Token) check() error {
	if t.closed {
		return pkcs11.ErrClosed
	}
	if err := t.present(); err != nil {
		return err
	}
	if t.master == nil {
		return fmt.Errorf("%w: the token was logged out", pkcs11.ErrNotLoggedIn)
	}
	return nil
}
