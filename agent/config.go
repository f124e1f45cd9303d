package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FileConfig is the agent's configuration file (kep/agent.json in the user's
// config directory); command-line flags add to it.
//
//	{
//	  "port": 24321,
//	  "modules": ["/usr/lib/librtpkcs11ecp.so"],
//	  "discover": true,
//	  "soft": "/home/me/.config/kep/soft",
//	  "allowOrigins": ["https://portal.example.ru"],
//	  "pagePinOrigins": [],
//	  "trust": ["/etc/kep/roots.pem"],
//	  "tsa": "http://tsa.example.ru/tsp",
//	  "cryptopro": ["/media/me/FLASH/abcdefgh.000"],
//	  "cryptoproSearch": true
//	}
type FileConfig struct {
	Port           int      `json:"port,omitempty"`
	Modules        []string `json:"modules,omitempty"`
	Discover       *bool    `json:"discover,omitempty"` // default true
	Soft           string   `json:"soft,omitempty"`
	AllowOrigins   []string `json:"allowOrigins,omitempty"`
	PagePINOrigins []string `json:"pagePinOrigins,omitempty"`
	Trust          []string `json:"trust,omitempty"`
	TSA            string   `json:"tsa,omitempty"`
	// CryptoPro are CryptoPro CSP key containers used in place (folders or
	// zips); CryptoProSearch (default true) also lists those found in
	// CryptoPro's usual places.
	CryptoPro       []string `json:"cryptopro,omitempty"`
	CryptoProSearch *bool    `json:"cryptoproSearch,omitempty"`
}

// DefaultConfigFile is kep/agent.json in the user's config directory.
func DefaultConfigFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kep", "agent.json"), nil
}

// LoadFileConfig reads path. A missing file is an empty configuration when
// optional is set; unknown members are errors, so a typo does not silently
// drop a setting. Relative paths are taken from the file's directory.
func LoadFileConfig(path string, optional bool) (FileConfig, error) {
	var fc FileConfig
	data, err := os.ReadFile(path)
	if optional && errors.Is(err, fs.ErrNotExist) {
		return fc, nil
	}
	if err != nil {
		return fc, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return fc, fmt.Errorf("%s: %w", path, err)
	}
	base := filepath.Dir(path)
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || filepath.Base(p) == p && filepath.Ext(p) == ".so" {
			return p
		}
		return filepath.Join(base, p)
	}
	for i := range fc.Modules {
		fc.Modules[i] = abs(fc.Modules[i])
	}
	for i := range fc.Trust {
		fc.Trust[i] = abs(fc.Trust[i])
	}
	for i := range fc.CryptoPro {
		fc.CryptoPro[i] = abs(fc.CryptoPro[i])
	}
	fc.Soft = abs(fc.Soft)
	return fc, nil
}
