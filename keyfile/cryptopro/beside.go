package cryptopro

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/pem"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
)

// maxBeside bounds the certificate files CertificateBeside reads in each
// folder.
const maxBeside = 64

// certExts are the names certificate files are given (Windows' .cer above all).
var certExts = []string{".cer", ".crt", ".pem", ".der"}

// MatchesPublicKey reports whether pub is key k's public key by header.key's
// fingerprint. It is false when the header has no fingerprint: then only the
// decrypted key can tell.
func (c *Container) MatchesPublicKey(k KeyIndex, pub *gost3410.PublicKey) bool {
	fp := c.fingerprint(k)
	if len(fp) == 0 || pub == nil {
		return false
	}
	b := pub.Bytes()
	return len(fp) <= len(b) && subtle.ConstantTimeCompare(b[:len(fp)], fp) == 1
}

// CertificateBeside returns the DER certificate of key k kept in a file
// beside the container — in its folder or the folder above it (the top of
// the flash drive), named *.cer, *.crt, *.pem or *.der, PEM or DER — as
// users keep the certificate they were issued when header.key holds none.
// A file counts only when its certificate's key is key k's by header.key's
// fingerprint, so a stranger's certificate nearby is never taken. It returns
// nil when there is none, for a container read from a zip, and when the
// header has no fingerprint. It only reads.
func (c *Container) CertificateBeside(k KeyIndex) []byte {
	if c.dir == "" {
		return nil
	}
	for _, dir := range []string{c.dir, filepath.Dir(c.dir)} {
		if der := c.certificateIn(k, dir); der != nil {
			return der
		}
	}
	return nil
}

func (c *Container) certificateIn(k KeyIndex, dir string) []byte {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.Type().IsRegular() && contains(certExts, ext) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) > maxBeside {
		names = names[:maxBeside]
	}
	fsys := os.DirFS(dir)
	for _, n := range names {
		b, err := readLimited(fsys, n)
		if err != nil {
			continue
		}
		if der := c.certificateFrom(k, b); der != nil {
			return der
		}
	}
	return nil
}

// certificateFrom returns the certificate of key k in a file's contents
// (PEM or DER), nil when it holds none.
func (c *Container) certificateFrom(k KeyIndex, b []byte) []byte {
	for _, der := range certificateBlocks(b) {
		cert, err := certs.ParseCertificate(der)
		if err != nil {
			continue
		}
		if pub, ok := cert.PublicKey.(*gost3410.PublicKey); ok && c.MatchesPublicKey(k, pub) {
			return der
		}
	}
	return nil
}

// certificateBlocks returns the CERTIFICATE blocks of a PEM file, or the
// file itself when it is not PEM (DER).
func certificateBlocks(b []byte) [][]byte {
	var out [][]byte
	rest := b
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type == "CERTIFICATE" {
			out = append(out, blk.Bytes)
		}
	}
	if out == nil {
		out = [][]byte{b}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Digest is SHA-256 over the container's files as they were read: it
// changes whenever one of them does (a new password rewrites masks.key and
// primary.key), so that a key kept from an earlier read can be told apart.
func (c *Container) Digest() [32]byte { return c.digest }

// digestFiles hashes the container's files by name and length.
func digestFiles(files map[string][]byte) [32]byte {
	h := sha256.New()
	for _, n := range fileNames {
		b, ok := files[n]
		if !ok {
			continue
		}
		var l [8]byte
		for i := range l {
			l[i] = byte(uint64(len(b)) >> (8 * i))
		}
		h.Write([]byte(n))
		h.Write(l[:])
		h.Write(b)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}
