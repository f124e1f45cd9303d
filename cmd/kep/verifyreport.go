package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/kepkit/kep/internal/atomicfile"
	"github.com/kepkit/kep/verify"
	"github.com/kepkit/kep/verify/protocol"
)

// protocolInput is what kep verify knows for a verification protocol.
type protocolInput struct {
	sig, content string // the signature file, the detached document (or "")
	trust, crls  []string
	listUsed     bool   // a list of accredited CAs was used
	listFlag     string // --trust-list ("" for the one kep trust update stored)
	rf           revocationFlags
	lang         string
}

// writeProtocol writes the verification protocol of rep to path: PDF when
// path ends in .pdf, HTML when in .html or .htm.
func writeProtocol(ctx context.Context, path string, rep *verify.Report, in protocolInput) error {
	render := protocol.HTML
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pdf":
		render = protocol.PDF
	case ".html", ".htm":
	default:
		return usageErr("--report %s: name the protocol .pdf or .html", path)
	}
	doc := protocol.Document{Name: filepath.Base(in.sig), Size: -1} // detached, no document given
	var err error
	switch {
	case in.content != "":
		f, ferr := os.Open(in.content)
		if ferr != nil {
			return usageErr("%v", ferr)
		}
		defer f.Close()
		doc, err = protocol.ReadDocument(ctx, filepath.Base(in.content), f, rep)
	case rep.Content != nil:
		doc, err = protocol.ReadDocument(ctx, filepath.Base(in.sig), bytes.NewReader(rep.Content), rep)
	}
	if err != nil {
		return usageErr("%v", err)
	}
	opts := protocol.Options{Lang: in.lang, Trust: in.trustSource(), Revocation: in.revocationPolicy()}
	var buf bytes.Buffer
	if err := render(&buf, rep, doc, opts); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return usageErr("--report: %v", err)
	}
	return nil
}

func (in protocolInput) ru() bool { return !strings.HasPrefix(strings.ToLower(in.lang), "en") }

func (in protocolInput) trustSource() string {
	var parts []string
	if len(in.trust) > 0 {
		parts = append(parts, strings.Join(baseNames(in.trust), ", ")+" (--trust)")
	}
	if in.listUsed {
		what, file := "list of accredited CAs ", "(kep trust update)"
		if in.ru() {
			what = "список аккредитованных УЦ "
		}
		if in.listFlag != "" {
			file = filepath.Base(in.listFlag)
		}
		parts = append(parts, what+file)
	}
	return strings.Join(parts, "; ")
}

func (in protocolInput) revocationPolicy() string {
	var parts []string
	if len(in.crls) > 0 {
		parts = append(parts, strings.Join(baseNames(in.crls), ", ")+" (--crl)")
	}
	words := map[string][2]string{
		"auto": {"online: OCSP, then CRL", "онлайн: OCSP, затем CRL"},
		"ocsp": {"online: OCSP", "онлайн: OCSP"},
		"crl":  {"online: CRL", "онлайн: CRL"},
		"off":  {"no online check", "без онлайн-проверки"},
	}
	flags := "--revocation " + in.rf.mode
	if in.rf.offline {
		flags += " --offline --evidence " + filepath.Base(in.rf.evidence)
	}
	if in.rf.softFail {
		flags += " --soft-fail"
	}
	mode := flags
	if w, ok := words[in.rf.mode]; ok {
		lang := 0
		if in.ru() {
			lang = 1
		}
		mode = w[lang] + " (" + flags + ")"
	}
	return strings.Join(append(parts, mode), "; ")
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
