package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/certs/revocation"
)

// revocationFlags are the online revocation options shared by the verbs that
// validate certificates.
type revocationFlags struct {
	mode     string
	evidence string
	offline  bool
	softFail bool
}

func (rf *revocationFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&rf.mode, "revocation", "auto", "online revocation check: auto (OCSP, then CRL), ocsp, crl or off")
	f.StringVar(&rf.evidence, "evidence", "", "directory where the CRLs and OCSP responses used are written (with --offline: read from)")
	f.BoolVar(&rf.offline, "offline", false, "with --evidence: use only the recorded revocation data, no network")
	f.BoolVar(&rf.softFail, "soft-fail", false, "accept a certificate whose revocation data cannot be fetched (with a warning)")
}

// checker returns the checker the flags describe, nil for --revocation off.
func (rf *revocationFlags) checker() (certs.RevocationChecker, error) {
	mode, err := revocation.ParseMode(rf.mode)
	if err != nil {
		return nil, usageErr("--revocation: %v", err)
	}
	if rf.offline && rf.evidence == "" {
		return nil, usageErr("--offline needs --evidence DIR")
	}
	if mode == revocation.ModeOff {
		if rf.evidence != "" {
			return nil, usageErr("--evidence with --revocation off")
		}
		return nil, nil
	}
	c := &revocation.Checker{Policy: revocation.Policy{Mode: mode, SoftFail: rf.softFail}}
	if dir, err := os.UserCacheDir(); err == nil {
		c.CacheDir = filepath.Join(dir, "kep", "crl")
	}
	if rf.evidence != "" {
		c.Evidence = &revocation.Evidence{Dir: rf.evidence, Replay: rf.offline}
	}
	return c, nil
}
