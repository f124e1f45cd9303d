package revocation

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/kepkit/kep/internal/atomicfile"
)

// Evidence is a directory of the revocation data a verification used (the
// `--evidence DIR` of the CLI). In record mode (Replay false) the Checker
// writes there every CRL and OCSP response it used, fetched or from the
// cache; in replay mode it reads only from there and makes no request, so a
// verification can be reproduced with the same data.
//
// Each item is two files named after a hash of its URL (and, for OCSP, of
// the CertID asked for): NAME.der, the bytes as received, and NAME.json, the
// URL, the kind, the time it was fetched and the nonce sent.
type Evidence struct {
	Dir    string
	Replay bool
}

// evidenceMeta is the NAME.json of an evidence item.
type evidenceMeta struct {
	Kind    string    `json:"kind"` // SourceOCSP or SourceCRL
	URL     string    `json:"url"`
	Fetched time.Time `json:"fetched"`
	// Nonce is the OCSP request's nonce extension value, hex.
	Nonce string `json:"nonce,omitempty"`
}

// errNoEvidence is returned in replay mode for data that was not recorded.
var errNoEvidence = errors.New("not in the evidence directory")

func evidenceName(kind, u string, id []byte) string {
	h := sha256.New()
	h.Write([]byte(u))
	h.Write([]byte{0})
	h.Write(id)
	return kind + "-" + hex.EncodeToString(h.Sum(nil)[:20])
}

func (e *Evidence) write(kind, u string, id, data []byte, m evidenceMeta) error {
	if err := os.MkdirAll(e.Dir, 0o755); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	m.Kind, m.URL = kind, u
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	base := filepath.Join(e.Dir, evidenceName(kind, u, id))
	if err := atomicfile.WriteFile(base+".der", data, 0o644); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	if err := atomicfile.WriteFile(base+".json", mb, 0o644); err != nil {
		return fmt.Errorf("evidence: %w", err)
	}
	return nil
}

func (e *Evidence) read(kind, u string, id []byte) ([]byte, *evidenceMeta, error) {
	base := filepath.Join(e.Dir, evidenceName(kind, u, id))
	mb, err := os.ReadFile(base + ".json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, errNoEvidence
	}
	if err != nil {
		return nil, nil, fmt.Errorf("evidence: %w", err)
	}
	var m evidenceMeta
	if err := json.Unmarshal(mb, &m); err != nil || m.Kind != kind || m.URL != u {
		return nil, nil, fmt.Errorf("evidence: %s.json does not describe %s %s", base, kind, u)
	}
	data, err := os.ReadFile(base + ".der")
	if err != nil {
		return nil, nil, fmt.Errorf("evidence: %w", err)
	}
	return data, &m, nil
}
