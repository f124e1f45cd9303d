package serve

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// apiKeys are the callers' bearer keys, kept as SHA-256 hashes.
type apiKeys struct {
	names  []string
	hashes [][32]byte
}

// minKeyLen is the shortest key accepted in the file.
const minKeyLen = 16

// parseAPIKeys reads the keys file: one key per line, "NAME KEY" or "KEY"
// (named key-N), blank lines and # comments ignored.
func parseAPIKeys(data []byte) (*apiKeys, error) {
	k := &apiKeys{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		var name, key string
		switch len(f) {
		case 1:
			name, key = fmt.Sprintf("key-%d", len(k.names)+1), f[0]
		case 2:
			name, key = f[0], f[1]
		default:
			return nil, fmt.Errorf("line %d: want \"NAME KEY\" or \"KEY\"", n)
		}
		if len(key) < minKeyLen {
			return nil, fmt.Errorf("line %d: key %q is shorter than %d characters", n, name, minKeyLen)
		}
		k.names = append(k.names, name)
		k.hashes = append(k.hashes, sha256.Sum256([]byte(key)))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(k.names) == 0 {
		return nil, errors.New("no keys in the file")
	}
	return k, nil
}

func loadAPIKeys(path string) (*apiKeys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := parseAPIKeys(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// lookup returns the name of the key, comparing every hash in constant
// time.
func (k *apiKeys) lookup(key string) (string, bool) {
	h := sha256.Sum256([]byte(key))
	found := -1
	for i := range k.hashes {
		if subtle.ConstantTimeCompare(h[:], k.hashes[i][:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	return k.names[found], true
}

// caller authenticates a request: a verified client certificate, or a
// known bearer key. It returns the caller's name for the log.
func (s *Server) caller(r *http.Request) (string, bool) {
	if s.cfg.NoAuth {
		return "-", true
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && s.cfg.ClientCA != "" {
		return "cert:" + r.TLS.VerifiedChains[0][0].Subject.CommonName, true
	}
	if s.keys != nil {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			if name, ok := s.keys.lookup(strings.TrimSpace(tok)); ok {
				return name, true
			}
		}
	}
	return "", false
}
