package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// AuditEntry is one line of the audit log: every signature, login
// signature and access decision. It never holds a PIN.
type AuditEntry struct {
	Time        time.Time `json:"time"`
	Origin      string    `json:"origin"`
	Method      string    `json:"method"`
	CertID      string    `json:"certId,omitempty"`
	Subject     string    `json:"subject,omitempty"`
	DigestAlg   string    `json:"digestAlg,omitempty"`
	Digest      string    `json:"digest,omitempty"` // hex of what was signed
	Description string    `json:"description,omitempty"`
	Result      string    `json:"result"` // "ok" or the error reason
}

// AuditLog appends JSON lines to a file (0600), one per entry.
type AuditLog struct {
	mu   sync.Mutex
	path string
}

// OpenAuditLog logs to path, creating its directory when missing.
func OpenAuditLog(path string) (*AuditLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &AuditLog{path: path}, f.Close()
}

// DefaultAuditFile is kep/agent/audit.log in the user's config directory.
func DefaultAuditFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kep", "agent", "audit.log"), nil
}

// Log appends e.
func (l *AuditLog) Log(e AuditEntry) error {
	if l == nil {
		return nil
	}
	line, err := json.Marshal(e)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
