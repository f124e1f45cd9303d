package soft

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"

	"github.com/kepkit/kep/internal/atomicfile"
	"github.com/kepkit/kep/pkcs11"
)

// Limits of the token, as a hardware token reports them in C_GetTokenInfo.
const (
	MaxPINTries = 10  // consecutive wrong PINs that lock the token
	MinPINLen   = 4   // bytes
	MaxPINLen   = 256 // bytes
	MaxLabelLen = 32  // bytes: the size of CK_TOKEN_INFO.label
)

// Errors of this package; the others are pkcs11's sentinels (see the
// package documentation).
var (
	// ErrExists: Init on a directory that already holds a token, or a key
	// with a CKA_ID the token already has.
	ErrExists = errors.New("soft: already exists")
	// ErrCorrupt: a token file does not parse, has impossible parameters or
	// fails its integrity check for a reason other than a wrong PIN.
	ErrCorrupt = errors.New("soft: token file damaged")
)

const (
	format    = "kep-soft-token-v1"
	tokenName = "token.json"
	pinName   = "pin.json"
	keysDir   = "keys"
	lockName  = ".lock"
)

// The scrypt parameters Init uses. Open accepts N from 2^14 to 2^20 (a power
// of two), r from 1 to 32 and p from 1 to 16, as long as a login needs at
// most maxScryptMemory bytes (128·N·r) and maxScryptWork times the work of
// N = 2^14, r = 1, p = 1 (N·r·p ≤ 2^22, 16 times Init's), so that a damaged
// file cannot make a login allocate gigabytes or run for minutes.
const (
	scryptN = 1 << 15
	scryptR = 8
	scryptP = 1

	maxScryptMemory = 256 << 20
	maxScryptWork   = 1 << 22 // N·r·p
)

// The largest token files read, far above what this package writes
// (token.json about 400 bytes, pin.json 20, a key file with a certificate
// chain a few KiB): a larger file, or one that is not a regular file, is
// ErrCorrupt, so that a damaged or hostile directory cannot make Open,
// Login or Objects read without end.
const (
	maxTokenFile = 64 << 10
	maxPINFile   = 4 << 10
	maxKeyFile   = 1 << 20
)

type kdfParams struct {
	Name string `json:"name"`
	Salt []byte `json:"salt"`
	N    int    `json:"N"`
	R    int    `json:"r"`
	P    int    `json:"p"`
}

func (k kdfParams) valid() bool {
	return k.Name == "scrypt" && len(k.Salt) >= 16 && k.N >= 1<<14 && k.N <= 1<<20 && k.N&(k.N-1) == 0 &&
		k.R >= 1 && k.R <= 32 && k.P >= 1 && k.P <= 16 &&
		k.N*k.R <= maxScryptMemory/128 && k.N*k.R*k.P <= maxScryptWork // no overflow in 32 bits
}

type tokenFile struct {
	Format string    `json:"format"`
	Label  string    `json:"label"`
	Serial string    `json:"serial"`
	KDF    kdfParams `json:"kdf"`
	// MasterKey is nonce || XChaCha20-Poly1305 of the 32-byte master key
	// under the scrypt key of the PIN.
	MasterKey []byte `json:"masterKey"`
}

type pinFile struct {
	Failures int `json:"failures"`
}

// Token is an open software token. It is safe for concurrent use, and
// several Tokens (in one process or several) may be open on one directory.
// Login state belongs to the Token value.
type Token struct {
	dir string
	tf  tokenFile

	mu     sync.Mutex
	master []byte // nil while logged out
	closed bool
}

// Info is the token's state.
type Info struct {
	Label  string
	Serial string // 16 hexadecimal digits
	// Failures counts the wrong PINs since the last correct one.
	Failures    int
	PINCountLow bool // a wrong PIN was entered since the last correct one
	PINFinalTry bool // one more wrong PIN locks the token
	PINLocked   bool // MaxPINTries wrong PINs: Login refuses
	LoggedIn    bool
}

// Init makes a new token in dir (created with mode 0700 when missing) with
// the user PIN pin and the label (1 to 32 bytes of UTF-8). A directory that
// already holds a token is refused with ErrExists.
func Init(dir string, pin []byte, label string) error {
	if err := checkPIN(pin); err != nil {
		return err
	}
	if label == "" || len(label) > MaxLabelLen || !utf8.ValidString(label) {
		return fmt.Errorf("soft: the label must be 1 to %d bytes of UTF-8", MaxLabelLen)
	}
	if err := os.MkdirAll(filepath.Join(dir, keysDir), 0o700); err != nil {
		return fmt.Errorf("soft: %w", err)
	}
	return withLock(dir, true, func() error {
		if _, err := os.Stat(filepath.Join(dir, tokenName)); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s already holds a token", ErrExists, dir)
		}
		tf := tokenFile{Format: format, Label: label, Serial: hex.EncodeToString(random(8)),
			KDF: kdfParams{Name: "scrypt", Salt: random(32), N: scryptN, R: scryptR, P: scryptP}}
		kek, err := deriveKey(tf.KDF, pin)
		if err != nil {
			return err
		}
		master := random(chacha20poly1305.KeySize)
		defer clear(master)
		tf.MasterKey = seal(kek, master, masterAD(tf.Serial))
		clear(kek)
		if err := writeJSON(filepath.Join(dir, pinName), pinFile{}); err != nil {
			return err
		}
		// token.json last: its presence makes the directory a token.
		return writeJSON(filepath.Join(dir, tokenName), tf)
	})
}

// Open opens the token in dir, logged out. A directory without a token is
// pkcs11.ErrTokenNotPresent.
func Open(dir string) (*Token, error) {
	t := &Token{dir: dir}
	err := withLock(dir, false, func() error {
		tf, err := readTokenFile(dir)
		t.tf = tf
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func readTokenFile(dir string) (tokenFile, error) {
	data, err := readFile(filepath.Join(dir, tokenName), maxTokenFile)
	if errors.Is(err, fs.ErrNotExist) {
		return tokenFile{}, fmt.Errorf("%w: no software token in %s", pkcs11.ErrTokenNotPresent, dir)
	}
	if err != nil {
		return tokenFile{}, err
	}
	return parseTokenFile(data)
}

// parseTokenFile parses and checks the contents of token.json.
func parseTokenFile(data []byte) (tokenFile, error) {
	var tf tokenFile
	if err := json.Unmarshal(data, &tf); err != nil {
		return tf, fmt.Errorf("%w: %s: %w", ErrCorrupt, tokenName, err)
	}
	if tf.Format != format || !tf.KDF.valid() || tf.Serial == "" ||
		len(tf.MasterKey) != chacha20poly1305.NonceSizeX+chacha20poly1305.KeySize+chacha20poly1305.Overhead {
		return tf, fmt.Errorf("%w: %s: unknown format or impossible parameters", ErrCorrupt, tokenName)
	}
	return tf, nil
}

// withLock runs fn holding dir's lock file, exclusively or shared.
func withLock(dir string, exclusive bool, fn func() error) error {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s does not exist", pkcs11.ErrTokenNotPresent, dir)
	}
	if err != nil {
		return fmt.Errorf("soft: %w", err)
	}
	defer f.Close()
	if err := lockFile(f, exclusive); err != nil {
		return fmt.Errorf("soft: locking %s: %w", f.Name(), err)
	}
	return fn()
}

// locked runs fn under the token's lock after checking that the token is
// open and still the one opened (not removed, not replaced).
func (t *Token) locked(exclusive bool, fn func() error) error {
	if t.closed {
		return pkcs11.ErrClosed
	}
	err := withLock(t.dir, exclusive, func() error {
		if err := t.present(); err != nil {
			return err
		}
		return fn()
	})
	if errors.Is(err, pkcs11.ErrTokenNotPresent) {
		return t.removed()
	}
	return err
}

// present checks that the token file is still there with the same serial.
func (t *Token) present() error {
	tf, err := readTokenFile(t.dir)
	if errors.Is(err, pkcs11.ErrTokenNotPresent) || err == nil && tf.Serial != t.tf.Serial {
		return t.removed()
	}
	return err
}

// removed forgets the login and returns ErrTokenRemoved.
func (t *Token) removed() error {
	clear(t.master)
	t.master = nil
	return fmt.Errorf("%w: software token %s (%s) is gone", pkcs11.ErrTokenRemoved, t.tf.Serial, t.dir)
}

// Info returns the token's state, read from disk.
func (t *Token) Info() (Info, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var info Info
	err := t.locked(false, func() error {
		n, err := readFailures(t.dir)
		info = Info{Label: t.tf.Label, Serial: t.tf.Serial, Failures: n, PINCountLow: n > 0,
			PINFinalTry: n == MaxPINTries-1, PINLocked: n >= MaxPINTries, LoggedIn: t.master != nil}
		return err
	})
	return info, err
}

// Login checks pin and, when it is right, logs the Token in. It counts like
// a hardware token: the try is recorded on disk before the PIN is checked, a
// correct PIN resets the count, and MaxPINTries wrong ones lock the token,
// after which Login fails with pkcs11.ErrPINLocked without checking. A PIN
// shorter than MinPINLen or longer than MaxPINLen is refused with
// pkcs11.ErrPINLenRange and costs no try. A wrong PIN is
// pkcs11.ErrPINIncorrect. Login checks the PIN even when already logged in.
func (t *Token) Login(pin []byte) error { return t.login(pin, nil) }

// LoginCached is Login with a KeyCache: when c keeps this token's key
// unlocked by the same PIN (and the token's PIN has not changed since), the
// Token is logged in from it without the key derivation and without a try
// on the counter (a correct PIN resets it, as always); otherwise it is
// Login, and a correct PIN's key is kept in c for c's time. A wrong PIN is
// checked and counted by Login and drops the key c kept; a locked token
// refuses and drops it too. A nil c is Login.
func (t *Token) LoginCached(pin []byte, c *KeyCache) error { return t.login(pin, c) }

func (t *Token) login(pin []byte, c *KeyCache) error {
	if err := checkPIN(pin); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	err := t.locked(true, func() error {
		n, err := readFailures(t.dir)
		if err != nil {
			return err
		}
		if n >= MaxPINTries {
			c.drop(t.dir, t.tf.Serial)
			return fmt.Errorf("%w: %d wrong PINs; no login attempted", pkcs11.ErrPINLocked, n)
		}
		// The PIN may have been changed through another Token.
		tf, err := readTokenFile(t.dir)
		if err != nil {
			return err
		}
		t.tf = tf
		if master := c.get(t.dir, tf, pin); master != nil {
			if n > 0 {
				if err := writeJSON(filepath.Join(t.dir, pinName), pinFile{}); err != nil {
					clear(master)
					return err
				}
			}
			clear(t.master)
			t.master = master
			return nil
		}
		if err := writeJSON(filepath.Join(t.dir, pinName), pinFile{Failures: n + 1}); err != nil {
			return err
		}
		kek, err := deriveKey(t.tf.KDF, pin)
		if err != nil {
			return err
		}
		master, err := open(kek, t.tf.MasterKey, masterAD(t.tf.Serial))
		clear(kek)
		if err != nil {
			c.drop(t.dir, t.tf.Serial)
			return &pkcs11.PINTriesError{Left: max(MaxPINTries-n-1, 0)}
		}
		if err := writeJSON(filepath.Join(t.dir, pinName), pinFile{}); err != nil {
			clear(master)
			return err
		}
		clear(t.master)
		t.master = master
		c.put(t.dir, t.tf, pin, master)
		return nil
	})
	if errors.Is(err, pkcs11.ErrTokenRemoved) {
		c.drop(t.dir, t.tf.Serial)
	}
	return err
}

// ChangePIN replaces the PIN: oldPIN is checked as Login checks it (a wrong
// one costs a try, a locked token refuses) and the master key is wrapped
// again under newPIN with a fresh salt. The keys themselves do not change.
// The Token is logged out afterwards.
func (t *Token) ChangePIN(oldPIN, newPIN []byte) error {
	if err := checkPIN(newPIN); err != nil {
		return err
	}
	if err := t.Login(oldPIN); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	defer func() { clear(t.master); t.master = nil }()
	if t.master == nil {
		return pkcs11.ErrNotLoggedIn
	}
	return t.locked(true, func() error {
		tf, err := readTokenFile(t.dir)
		if err != nil {
			return err
		}
		tf.KDF = kdfParams{Name: "scrypt", Salt: random(32), N: scryptN, R: scryptR, P: scryptP}
		kek, err := deriveKey(tf.KDF, newPIN)
		if err != nil {
			return err
		}
		tf.MasterKey = seal(kek, t.master, masterAD(tf.Serial))
		clear(kek)
		if err := writeJSON(filepath.Join(t.dir, tokenName), tf); err != nil {
			return err
		}
		t.tf = tf
		return nil
	})
}

// Logout forgets the master key; Signers obtained before fail from then on.
func (t *Token) Logout() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.master)
	t.master = nil
}

// Close logs out and closes the Token; later calls fail with pkcs11.ErrClosed.
func (t *Token) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.master)
	t.master = nil
	t.closed = true
	return nil
}

func checkPIN(pin []byte) error {
	if len(pin) < MinPINLen || len(pin) > MaxPINLen {
		return fmt.Errorf("%w: a PIN has %d to %d bytes", pkcs11.ErrPINLenRange, MinPINLen, MaxPINLen)
	}
	return nil
}

func readFailures(dir string) (int, error) {
	data, err := readFile(filepath.Join(dir, pinName), maxPINFile)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			err = fmt.Errorf("%w: %s: %w", ErrCorrupt, pinName, err)
		}
		return 0, err
	}
	return parseFailures(data)
}

// parseFailures parses the contents of pin.json.
func parseFailures(data []byte) (int, error) {
	var p pinFile
	if err := json.Unmarshal(data, &p); err != nil || p.Failures < 0 {
		return 0, fmt.Errorf("%w: %s does not parse", ErrCorrupt, pinName)
	}
	return p.Failures, nil
}

func deriveKey(k kdfParams, pin []byte) ([]byte, error) {
	key, err := scrypt.Key(pin, k.Salt, k.N, k.R, k.P, chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("%w: scrypt: %w", ErrCorrupt, err)
	}
	return key, nil
}

// readFile reads a token file of at most max bytes. A file that is larger or
// not a regular file (a FIFO would block) is ErrCorrupt; one that does not
// exist is an fs.ErrNotExist error.
func readFile(path string, max int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("soft: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrCorrupt, filepath.Base(path))
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("soft: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("soft: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCorrupt, filepath.Base(path), max)
	}
	return data, nil
}

// encodeJSON is the encoding of every token file.
func encodeJSON(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("soft: %w", err)
	}
	return append(data, '\n'), nil
}

func writeJSON(path string, v any) error {
	data, err := encodeJSON(v)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("soft: %w", err)
	}
	return nil
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// seal encrypts plaintext with XChaCha20-Poly1305 under key and a random
// nonce: nonce || ciphertext || tag.
func seal(key, plaintext, ad []byte) []byte {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		panic(err) // keys here are always 32 bytes
	}
	nonce := random(aead.NonceSize())
	return aead.Seal(nonce, nonce, plaintext, ad)
}

// open reverses seal; a wrong key, nonce, ciphertext or ad is an error.
func open(key, blob, ad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		panic(err)
	}
	if len(blob) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("soft: sealed data too short")
	}
	return aead.Open(nil, blob[:aead.NonceSize()], blob[aead.NonceSize():], ad)
}

// ad joins the parts of associated data, each with its length, so that no
// two lists of parts give the same bytes.
func ad(parts ...[]byte) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		b.WriteByte(byte(len(p) >> 8))
		b.WriteByte(byte(len(p)))
		b.Write(p)
	}
	return b.Bytes()
}

func masterAD(serial string) []byte {
	return ad([]byte(format), []byte("master"), []byte(serial))
}
