package login

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// FileStore is a NonceStore in a directory, one file per nonce, safe across
// processes on one machine (or on a file system with atomic rename):
//
//	n-NONCE          an issued nonce, created with O_EXCL; its content is
//	                 {"origin":…,"expires":…} and its mtime the expiry
//	c-NONCE-RANDOM   a nonce being taken: Take renames n-NONCE to it, which
//	                 only one taker can do, reads it and removes it
//	u-NONCE          the record that NONCE was taken (mtime: when it may go)
//
// Files whose mtime is more than Retention in the past are swept on Put.
type FileStore struct {
	dir string
	// Now is the store's clock for sweeping (time.Now when nil).
	Now func() time.Time

	mu        sync.Mutex
	lastSweep time.Time
}

type fileEntry struct {
	Origin  string    `json:"origin"`
	Expires time.Time `json:"expires"`
}

// NewFileStore returns a store in dir, creating it (mode 0700) if needed.
func NewFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("login: nonce store: %w", err)
	}
	return &FileStore{dir: dir}, nil
}

// Dir returns the store's directory.
func (s *FileStore) Dir() string { return s.dir }

// Put implements NonceStore.
func (s *FileStore) Put(ctx context.Context, nonce, origin string, expires time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkNonce(nonce); err != nil {
		return err
	}
	s.maybeSweep()
	if _, err := os.Lstat(s.path("u-", nonce)); err == nil {
		return ErrNonceExists
	}
	data, err := json.Marshal(fileEntry{origin, expires.UTC()})
	if err != nil {
		return err
	}
	p := s.path("n-", nonce)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrNonceExists
		}
		return fmt.Errorf("login: nonce store: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(p, time.Time{}, expires)
	}
	if err != nil {
		os.Remove(p)
		return fmt.Errorf("login: nonce store: %w", err)
	}
	return nil
}

// Take implements NonceStore.
func (s *FileStore) Take(ctx context.Context, nonce string) (string, time.Time, error) {
	if err := ctx.Err(); err != nil {
		return "", time.Time{}, err
	}
	if checkNonce(nonce) != nil {
		return "", time.Time{}, ErrNonceUnknown
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", time.Time{}, err
	}
	claimed := s.path("c-", nonce+"-"+hex.EncodeToString(rnd[:]))
	if err := os.Rename(s.path("n-", nonce), claimed); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Lstat(s.path("u-", nonce)); err == nil {
				return "", time.Time{}, ErrNonceReplayed
			}
			return "", time.Time{}, ErrNonceUnknown
		}
		return "", time.Time{}, fmt.Errorf("login: nonce store: %w", err)
	}
	data, rerr := os.ReadFile(claimed)
	var e fileEntry
	if rerr == nil {
		rerr = json.Unmarshal(data, &e)
	}
	// Record the use before the claimed file goes; a failure here only
	// turns a later replay into "unknown".
	if f, err := os.OpenFile(s.path("u-", nonce), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
		until := e.Expires.Add(Retention)
		if e.Expires.IsZero() {
			until = nowFunc(s.Now)().Add(Retention)
		}
		os.Chtimes(f.Name(), time.Time{}, until)
	}
	os.Remove(claimed)
	if rerr != nil {
		return "", time.Time{}, fmt.Errorf("login: nonce store: %s: %w", filepath.Base(claimed), rerr)
	}
	return e.Origin, e.Expires, nil
}

func (s *FileStore) path(prefix, name string) string { return filepath.Join(s.dir, prefix+name) }

// maybeSweep removes stale files at most once a minute per store value.
func (s *FileStore) maybeSweep() {
	now := nowFunc(s.Now)()
	s.mu.Lock()
	if now.Sub(s.lastSweep) < time.Minute {
		s.mu.Unlock()
		return
	}
	s.lastSweep = now
	s.mu.Unlock()
	s.Sweep(now)
}

// Sweep removes the files of nonces that expired, and records of taken
// nonces that ended, more than Retention before now.
func (s *FileStore) Sweep(now time.Time) {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, de := range ents {
		name := de.Name()
		if !strings.HasPrefix(name, "n-") && !strings.HasPrefix(name, "c-") && !strings.HasPrefix(name, "u-") {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue
		}
		limit := info.ModTime()
		if !strings.HasPrefix(name, "u-") {
			limit = limit.Add(Retention)
		}
		if now.After(limit) {
			os.Remove(filepath.Join(s.dir, name))
		}
	}
}
