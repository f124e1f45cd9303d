package cryptopro

import (
	"archive/zip"
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost28147"
	"github.com/kepkit/kep/gost/gost3410"
)

// KeyIndex names one of the two keys a container may hold.
type KeyIndex int

const (
	Primary   KeyIndex = 0 // primary.key with masks.key
	Secondary KeyIndex = 1 // primary2.key with masks2.key
)

// Container is a parsed CryptoPro key container. It holds the encrypted key
// only; PrivateKey decrypts it.
type Container struct {
	Source string // the folder or zip it was read from, for messages
	Name   string // name.key's name, "" when the file is absent
	Header *Header

	masks   [2]*Masks
	primary [2][]byte
	dir     string   // the folder it was read from (Open); "" for a zip
	digest  [32]byte // of its files (Digest)
}

// fileNames are the container's files; header.key, masks.key and
// primary.key are required.
var fileNames = []string{"header.key", "masks.key", "masks2.key", "name.key", "primary.key", "primary2.key"}

// Parse builds a Container from its files' contents, keyed by base name
// ("header.key" …). Unknown names are ignored.
func Parse(files map[string][]byte) (*Container, error) {
	for _, n := range []string{"header.key", "masks.key", "primary.key"} {
		if _, ok := files[n]; !ok {
			return nil, fmt.Errorf("%w: no %s", ErrNotContainer, n)
		}
	}
	h, err := ParseHeader(files["header.key"])
	if err != nil {
		return nil, err
	}
	// The MACs are checked for 2012 keys, where a real container confirmed
	// how they are made; no 2001 container was at hand to confirm its S-box.
	if !h.Primary.Algorithm.Equal(OIDAgreement2001) && !h.VerifyMAC() {
		return nil, fmt.Errorf("%w: header.key", ErrDamaged)
	}
	c := &Container{Header: h, digest: digestFiles(files)}
	if c.masks[0], err = ParseMasks(files["masks.key"]); err != nil {
		return nil, err
	}
	if c.primary[0], err = ParsePrimary(files["primary.key"]); err != nil {
		return nil, err
	}
	if b, ok := files["masks2.key"]; ok {
		if c.masks[1], err = ParseMasks(b); err != nil {
			return nil, fmt.Errorf("masks2.key: %w", err)
		}
	}
	if b, ok := files["primary2.key"]; ok {
		if c.primary[1], err = ParsePrimary(b); err != nil {
			return nil, fmt.Errorf("primary2.key: %w", err)
		}
	}
	if b, ok := files["name.key"]; ok {
		if c.Name, err = ParseName(b); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Open reads a container from a folder or from a zip file holding one
// (at its top or inside one folder). It only reads.
func Open(name string) (*Container, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	var c *Container
	if fi.IsDir() {
		c, err = ReadFS(os.DirFS(name), ".")
	} else {
		c, err = openZip(name, fi.Size())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c.Source = name
	if fi.IsDir() {
		c.dir = name
	}
	return c, nil
}

// ReadFS reads the container in folder dir of fsys. File names are matched
// without regard to case (HEADER.KEY on a FAT flash drive).
func ReadFS(fsys fs.FS, dir string) (*Container, error) {
	names := map[string]string{} // lower-case name → name in the folder
	if ents, err := fs.ReadDir(fsys, dir); err == nil {
		for _, e := range ents {
			if l := strings.ToLower(e.Name()); e.Type().IsRegular() && names[l] == "" {
				names[l] = e.Name()
			}
		}
	}
	files := map[string][]byte{}
	for _, n := range fileNames {
		real := names[n]
		if real == "" {
			real = n
		}
		b, err := readLimited(fsys, path.Join(dir, real))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		files[n] = b
	}
	return Parse(files)
}

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("%w: %s", ErrTooLarge, name)
	}
	return b, nil
}

func openZip(name string, size int64) (*Container, error) {
	if size > MaxZipSize {
		return nil, fmt.Errorf("%w: a %d-byte zip", ErrTooLarge, size)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return ReadZip(data)
}

// ReadZip reads the one container in a zip archive.
func ReadZip(data []byte) (*Container, error) {
	if len(data) > MaxZipSize {
		return nil, fmt.Errorf("%w: a %d-byte zip", ErrTooLarge, len(data))
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: neither a container folder nor a zip: %v", ErrNotContainer, err)
	}
	var dirs []string
	for _, f := range zr.File {
		if path.Base(f.Name) == "header.key" {
			dirs = append(dirs, path.Dir(f.Name))
		}
	}
	switch len(dirs) {
	case 0:
		return nil, fmt.Errorf("%w: the zip holds no header.key", ErrNotContainer)
	case 1:
	default:
		sort.Strings(dirs)
		return nil, fmt.Errorf("%w: the zip holds %d containers (%s): unpack it and name one folder", ErrNotContainer, len(dirs), strings.Join(dirs, ", "))
	}
	return ReadFS(zr, dirs[0])
}

// HasKey reports whether the container holds key k. primary2.key and
// masks2.key are a second key when header.key describes one (Header.Secondary),
// else CryptoPro's reserve copy of the primary key, which PrivateKey falls
// back to when primary.key or masks.key is damaged.
func (c *Container) HasKey(k KeyIndex) bool {
	switch k {
	case Primary:
		return c.primary[0] != nil && c.masks[0] != nil
	case Secondary:
		return c.Header.Secondary != nil && c.primary[1] != nil && c.masks[1] != nil
	}
	return false
}

// slots returns the (masks, encrypted key) pairs that hold key k, in the
// order to try.
func (c *Container) slots(k KeyIndex) []int {
	switch {
	case k == Secondary:
		return []int{1}
	case c.Header.Secondary == nil && c.primary[1] != nil && c.masks[1] != nil:
		return []int{0, 1} // primary2.key is the reserve copy
	}
	return []int{0}
}

// macZ is the GOST 28147-89 MAC under the tc26-Z S-box, no meshing, zero IV:
// the MAC CryptoPro puts on header.key (under an all-zero key) and masks.key
// (keyed by the mask), checked on a real CryptoPro container.
func macZ(key, data []byte) ([]byte, error) {
	blk, err := gost28147.NewCipher(key, gost28147.TC26Z)
	if err != nil {
		return nil, err
	}
	m, err := gost28147.NewMAC(blk, nil, false)
	if err != nil {
		return nil, err
	}
	m.Write(data)
	return m.Sum(nil), nil
}

// VerifyMAC reports whether header.key's MAC matches its content.
func (h *Header) VerifyMAC() bool {
	content, err := h.Content()
	if err != nil {
		return false
	}
	mac, err := macZ(make([]byte, 32), content)
	return err == nil && len(h.MAC) > 0 && subtle.ConstantTimeCompare(mac[:min(len(mac), len(h.MAC))], h.MAC) == 1
}

// VerifyMAC reports whether masks.key's MAC (keyed by the mask, over the
// salt) matches.
func (m *Masks) VerifyMAC() bool {
	key := m.Mask
	if len(key) == 64 {
		key = key[32:]
	}
	mac, err := macZ(key, m.Salt)
	return err == nil && len(m.MAC) > 0 && subtle.ConstantTimeCompare(mac[:min(len(mac), len(m.MAC))], m.MAC) == 1
}

// Params returns the parameters of key k, nil when there is none.
func (c *Container) Params(k KeyIndex) *KeyParams {
	switch k {
	case Primary:
		return &c.Header.Primary
	case Secondary:
		return c.Header.Secondary
	}
	return nil
}

// Certificate returns the DER certificate stored with key k, nil when none.
func (c *Container) Certificate(k KeyIndex) []byte {
	if k == Secondary {
		return c.Header.SecondCertificate
	}
	return c.Header.Certificate
}

func (c *Container) fingerprint(k KeyIndex) []byte {
	if k == Secondary {
		return c.Header.SecondaryFP
	}
	return c.Header.PrimaryFP
}

// ParamSet returns the GOST R 34.10 parameter set of key k.
func (c *Container) ParamSet(k KeyIndex) (*gost3410.ParamSet, error) {
	p := c.Params(k)
	if p == nil {
		return nil, ErrNoKey
	}
	ps, err := gost3410.ParamSetByOID(p.Curve)
	if err != nil {
		return nil, fmt.Errorf("%w: curve %v", ErrUnsupported, p.Curve)
	}
	want := 32
	if p.Algorithm.Equal(OIDAgreement512) {
		want = 64
	}
	if ps.Size() != want {
		return nil, fmt.Errorf("%w: curve %v with algorithm %v", ErrUnsupported, p.Curve, p.Algorithm)
	}
	return ps, nil
}

// Is2001 reports whether key k is a GOST R 34.10-2001 key.
func (c *Container) Is2001(k KeyIndex) bool {
	p := c.Params(k)
	return p != nil && p.Algorithm.Equal(OIDAgreement2001)
}

// PrivateKey decrypts key k under password (UTF-8; empty for none) and
// checks it against the public-key fingerprint in header.key, or, when the
// header has none, against the certificate stored with the key. A password
// that gives another key is ErrWrongPassword.
func (c *Container) PrivateKey(k KeyIndex, password []byte) (*gost3410.PrivateKey, error) {
	if !c.HasKey(k) {
		return nil, ErrNoKey
	}
	p := c.Params(k)
	kdf, sbox := kdf2012, KeySBox(p)
	switch {
	case p.Algorithm.Equal(OIDAgreement2001):
		kdf = kdf2001
	case p.Algorithm.Equal(OIDAgreement256), p.Algorithm.Equal(OIDAgreement512):
	default:
		return nil, fmt.Errorf("%w: key algorithm %v", ErrUnsupported, p.Algorithm)
	}
	ps, err := c.ParamSet(k)
	if err != nil {
		return nil, err
	}
	check, err := c.checker(k, ps)
	if err != nil {
		return nil, err
	}
	pins, err := widenings(password)
	if err != nil {
		return nil, err
	}
	var last error
	for _, slot := range c.slots(k) {
		masks, enc := c.masks[slot], c.primary[slot]
		name := [2]string{"masks.key", "masks2.key"}[slot]
		if len(enc) != ps.Size() || len(masks.Mask) < ps.Size() {
			last = formatErr(fmt.Sprintf("%s: a %d-byte key and a %d-byte mask for a %d-bit curve", name, len(enc), len(masks.Mask), ps.BitSize()))
			continue
		}
		if !c.Is2001(k) && !masks.VerifyMAC() {
			last = fmt.Errorf("%w: %s", ErrDamaged, name)
			continue
		}
		for _, pin := range pins {
			key := deriveKey(kdf, masks.Salt, pin)
			priv, err := unmask(ps, sbox, key, enc, masks.Mask[:ps.Size()])
			clear(key)
			if err != nil {
				continue
			}
			if check(priv.PublicKey()) {
				return priv, nil
			}
		}
		last = ErrWrongPassword
	}
	return nil, last
}

// checker returns the test a decrypted key's public key must pass.
func (c *Container) checker(k KeyIndex, ps *gost3410.ParamSet) (func(*gost3410.PublicKey) bool, error) {
	if fp := c.fingerprint(k); fp != nil {
		if len(fp) == 0 || len(fp) > ps.Size() {
			return nil, formatErr(fmt.Sprintf("a %d-byte public-key fingerprint", len(fp)))
		}
		return func(pub *gost3410.PublicKey) bool {
			// The fingerprint is the start of X, little-endian: the start of
			// the public key value X_LE || Y_LE.
			return subtle.ConstantTimeCompare(pub.Bytes()[:len(fp)], fp) == 1
		}, nil
	}
	if der := c.Certificate(k); der != nil {
		want, err := certificateKey(der)
		if err != nil {
			return nil, err
		}
		return func(pub *gost3410.PublicKey) bool { return pub.Equal(want) }, nil
	}
	return nil, formatErr("header.key has neither a fingerprint nor a certificate to check the key against")
}

// certificateKey returns the GOST public key of a DER certificate.
func certificateKey(der []byte) (*gost3410.PublicKey, error) {
	cert, err := certs.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%w: the stored certificate: %v", ErrFormat, err)
	}
	pub, ok := cert.PublicKey.(*gost3410.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the stored certificate has no GOST key", ErrFormat)
	}
	return pub, nil
}

// unmask decrypts the masked key and divides the mask out: d = x · m⁻¹ mod q,
// both numbers little-endian.
func unmask(ps *gost3410.ParamSet, sbox *gost28147.SBox, key, enc, mask []byte) (*gost3410.PrivateKey, error) {
	blk, err := gost28147.NewCipher(key, sbox)
	if err != nil {
		return nil, err
	}
	x := make([]byte, len(enc))
	gost28147.DecryptECB(blk, x, enc)
	defer clear(x)
	q := ps.Curve().Q()
	xv := new(big.Int).SetBytes(reversed(x))
	mv := new(big.Int).SetBytes(reversed(mask))
	mv.Mod(mv, q)
	inv := new(big.Int).ModInverse(mv, q)
	if inv == nil {
		return nil, formatErr("the mask is not invertible")
	}
	xv.Mul(xv, inv).Mod(xv, q)
	if xv.Sign() == 0 {
		return nil, formatErr("the key is zero")
	}
	d := reversed(xv.FillBytes(make([]byte, ps.Size())))
	defer clear(d)
	return gost3410.NewPrivateKey(ps, d)
}

func reversed(b []byte) []byte {
	r := make([]byte, len(b))
	for i, c := range b {
		r[len(b)-1-i] = c
	}
	return r
}

// SetMAC sets header.key's MAC from its content (for writers).
func (h *Header) SetMAC() error {
	content, err := h.Content()
	if err != nil {
		return err
	}
	h.MAC, err = macZ(make([]byte, 32), content)
	return err
}

// SetMAC sets masks.key's MAC from the mask and salt (for writers).
func (m *Masks) SetMAC() (err error) {
	key := m.Mask
	if len(key) == 64 {
		key = key[32:]
	}
	m.MAC, err = macZ(key, m.Salt)
	return err
}

// KeySBox returns the S-box primary.key is encrypted under for a key with
// parameters p: CryptoPro-A for 2001 keys, tc26-Z for 2012 keys.
func KeySBox(p *KeyParams) *gost28147.SBox {
	if p.Algorithm.Equal(OIDAgreement2001) {
		return gost28147.CryptoProA
	}
	return gost28147.TC26Z
}
