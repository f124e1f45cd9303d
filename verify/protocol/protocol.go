// Package protocol renders a verification protocol («протокол проверки
// электронной подписи») from a verify.Report: a printable page per signature,
// in Russian or English, with the document and its hash, the signer (ФИО,
// organisation, ИНН/ОГРН/СНИЛС), the certificate and its issuer, whether it
// is qualified, the signing time and time-stamp, the revocation status and
// its source, the verdict, every check, and the stamp Russian practice puts
// on a signed document («Документ подписан электронной подписью»).
//
// HTML writes a self-contained page (print CSS, A4, a page break per
// signer); PDF writes an A4 PDF with an embedded DejaVu Sans Condensed font,
// so no system font is needed. Both take the same inputs and show the same
// content.
//
// The protocol states what the Report says, nothing more: the document's
// hash is the caller's (ReadDocument computes one), and the trust source and
// revocation policy are printed as the caller words them. A stamp is shown
// for every signer whose certificate is known, also when the signature
// failed; then a sentence under it says so.
package protocol

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/ctxio"
	"github.com/kepkit/kep/verify"
)

// Document is what the caller knows about the signed document.
type Document struct {
	Name    string // file name as shown to the reader
	Size    int64  // in bytes; negative when unknown
	HashAlg string // a certs digest name: "streebog256", "sha256" …
	Hash    []byte
}

// Options controls a protocol. The zero value is a Russian protocol dated
// now, times in UTC.
type Options struct {
	// Lang is "ru" (default) or "en".
	Lang string
	// Now is when the protocol is made (time.Now when zero).
	Now time.Time
	// Location is the time zone of the times shown (UTC when nil).
	Location *time.Location
	// Trust says where the trusted certificates came from, e.g.
	// "ca.pem (--trust)" or "список аккредитованных УЦ Минцифры от 01.06.2026".
	Trust string
	// Revocation is the revocation policy used, e.g. "OCSP, затем CRL;
	// без soft-fail" or "CRL from inter.crl only".
	Revocation string
	// Details adds each check's technical detail (the verifier's own
	// wording, in English) to the checks table.
	Details bool
}

// ReadDocument reads a document and returns its name, size and hash, the
// hash made with the digest the report's first signer used (Streebog-256
// when the report names none kep knows).
func ReadDocument(ctx context.Context, name string, content io.Reader, rep *verify.Report) (Document, error) {
	d := certs.Streebog256
	if rep != nil {
		for _, s := range rep.Signers {
			if x, err := certs.DigestByName(s.DigestAlgorithm); err == nil {
				d = x
				break
			}
		}
	}
	h := d.New()
	n, err := ctxio.Copy(ctx, h, content)
	if err != nil {
		return Document{}, fmt.Errorf("protocol: reading %s: %w", name, err)
	}
	return Document{Name: name, Size: n, HashAlg: d.Name, Hash: h.Sum(nil)}, nil
}

// field is one labelled value.
type field struct{ Label, Value string }

type section struct {
	Heading string
	Fields  []field
}

// checkRow is a row of the checks table: a group heading when Group is set.
type checkRow struct {
	Group                     string
	Name, Code, Status, Class string
	Detail                    string
}

// gridRow is a row of the printed checks table: a group heading, or one or
// two checks.
type gridRow struct {
	Group string
	Cells []checkRow
}

// grid lays the checks out n to a row, a group heading on a row of its own.
func grid(rows []checkRow, n int) []gridRow {
	var out []gridRow
	for _, r := range rows {
		switch {
		case r.Group != "":
			out = append(out, gridRow{Group: r.Group})
		case len(out) == 0 || out[len(out)-1].Group != "" || len(out[len(out)-1].Cells) == n:
			out = append(out, gridRow{Cells: []checkRow{r}})
		default:
			out[len(out)-1].Cells = append(out[len(out)-1].Cells, r)
		}
	}
	return out
}

// page is one signer's page, every string in the protocol's language.
type page struct {
	Title, Subtitle string
	Sections        []section
	VerdictHeading  string
	Verdict, Why    string
	VerdictCode     string
	VerdictClass    string // ok, fail, indet
	ChecksHeading   string
	ColCheck        string
	ColResult       string
	ColDetail       string // empty without Options.Details
	Checks          []checkRow
	Grid            []gridRow // Checks, two to a row without Details
	Stamp           []string  // nil when the signer's certificate is unknown
	StampNote       string
	Footer          string
}

type doc struct {
	Lang  string
	Title string
	Pages []page
}

func (o Options) texts() *texts {
	if strings.HasPrefix(strings.ToLower(o.Lang), "en") {
		return &en
	}
	return &ru
}

func (o Options) lang() string {
	if o.texts() == &en {
		return "en"
	}
	return "ru"
}

// builder turns a report into pages.
type builder struct {
	t    *texts
	opts Options
	loc  *time.Location
}

func (b *builder) w(key string, args ...any) string {
	s, ok := b.t.words[key]
	if !ok {
		s = key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

func (b *builder) time(t time.Time) string { return t.In(b.loc).Format(b.t.timeLayout) }
func (b *builder) date(t time.Time) string { return t.In(b.loc).Format(b.t.dateLayout) }

func (b *builder) checkName(code string) string {
	if n, ok := b.t.checks[code]; ok {
		return n
	}
	return code
}

func (b *builder) status(s string) string {
	if n, ok := b.t.statuses[s]; ok {
		return n
	}
	return s
}

func statusClass(s string) string {
	switch s {
	case verify.Passed:
		return "ok"
	case verify.Failed:
		return "fail"
	case verify.Warning:
		return "warn"
	}
	return "na"
}

func verdictClass(ind string) string {
	switch ind {
	case verify.TotalPassed:
		return "ok"
	case verify.TotalFailed:
		return "fail"
	}
	return "indet"
}

func (b *builder) verdict(ind string) string {
	if v, ok := b.t.verdicts[ind]; ok {
		return v
	}
	return ind
}

func (b *builder) digestName(name string) string {
	if n, ok := b.t.digests[name]; ok {
		return n
	}
	if n, ok := sharedDigests[name]; ok {
		return n
	}
	return name
}

func orDash(b *builder, s string) string {
	if strings.TrimSpace(s) == "" {
		return b.w("none")
	}
	return s
}

// build makes the pages: one per signer, or one when there is none.
func build(rep *verify.Report, d Document, opts Options) (*doc, error) {
	if rep == nil {
		return nil, fmt.Errorf("protocol: no report")
	}
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	b := &builder{t: opts.texts(), opts: opts, loc: loc}
	out := &doc{Lang: opts.lang(), Title: b.w("title")}
	if len(rep.Signers) == 0 {
		out.Pages = append(out.Pages, b.page(rep, d, nil, 1, 1))
	}
	for i := range rep.Signers {
		out.Pages = append(out.Pages, b.page(rep, d, &rep.Signers[i], i+1, len(rep.Signers)))
	}
	return out, nil
}

func (b *builder) page(rep *verify.Report, d Document, s *verify.SignerReport, n, total int) page {
	p := page{Title: b.w("title"), VerdictHeading: b.w("secVerdict"), ChecksHeading: b.w("secChecks"),
		ColCheck: b.w("colCheck"), ColResult: b.w("colResult")}
	if b.opts.Details {
		p.ColDetail = b.w("colDetail")
	}
	if s == nil {
		p.Subtitle = b.w("noSigners")
	} else {
		p.Subtitle = b.w("signatureNofM", n, total)
	}
	p.Sections = append(p.Sections, b.documentSection(rep, d, total))
	ind, sub := rep.Indication, rep.SubIndication
	if s != nil {
		p.Sections = append(p.Sections, b.signerSection(s), b.certificateSection(s), b.signingSection(s))
		ind, sub = s.Indication, s.SubIndication
	}
	p.Verdict, p.VerdictClass = b.verdict(ind), verdictClass(ind)
	p.VerdictCode = ind
	if sub != "" {
		p.VerdictCode += " / " + sub
		if why, ok := b.t.subs[sub]; ok {
			p.Why = why
		} else {
			p.Why = sub
		}
	}
	p.Checks = b.checks(rep, s)
	perRow := 2
	if b.opts.Details {
		perRow = 1
	}
	p.Grid = grid(p.Checks, perRow)
	if s != nil && s.Certificate != nil {
		p.Stamp = b.stamp(s)
		if s.Indication != verify.TotalPassed {
			p.StampNote = b.w("stampNotProven")
		}
	}
	p.Footer = b.w("footer", b.time(b.opts.Now))
	return p
}

func (b *builder) documentSection(rep *verify.Report, d Document, total int) section {
	sec := section{Heading: b.w("secDocument")}
	add := func(label, v string) { sec.Fields = append(sec.Fields, field{b.w(label), v}) }
	add("fileName", orDash(b, d.Name))
	if d.Size >= 0 {
		add("size", b.w("bytes", groupDigits(d.Size)))
	}
	if d.HashAlg != "" {
		add("hashAlg", b.digestName(d.HashAlg))
	}
	if len(d.Hash) > 0 {
		add("hash", fmt.Sprintf("%x", d.Hash))
	}
	if rep.Detached {
		add("signatureKind", b.w("detached"))
	} else if len(rep.Signers) > 0 {
		add("signatureKind", b.w("attached"))
	}
	add("validationTime", b.time(rep.ValidationTime))
	add("trust", orNotGiven(b, b.opts.Trust))
	add("revocationPolicy", orNotGiven(b, b.opts.Revocation))
	if total > 1 {
		add("overall", b.verdict(rep.Indication))
	}
	return sec
}

func orNotGiven(b *builder, s string) string {
	if strings.TrimSpace(s) == "" {
		return b.w("notGiven")
	}
	return s
}

// groupDigits writes 1234567 as "1 234 567".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ' ')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// holderName is the signer's ФИО: surname and given names from the
// qualified fields, else the common name, else the readable subject.
func holderName(s *verify.SignerReport) string {
	if q := s.Signer; q != nil {
		if name := strings.TrimSpace(q.Surname + " " + q.GivenName); name != "" {
			return name
		}
		if q.CommonName != "" {
			return q.CommonName
		}
	}
	if s.Certificate != nil {
		return readableName(s.Certificate.Subject)
	}
	return ""
}

func (b *builder) signerSection(s *verify.SignerReport) section {
	sec := section{Heading: b.w("secSigner")}
	add := func(label, v string) {
		if strings.TrimSpace(v) != "" {
			sec.Fields = append(sec.Fields, field{b.w(label), v})
		}
	}
	if s.Certificate == nil && s.Signer == nil {
		sec.Fields = append(sec.Fields, field{b.w("fio"), b.w("unknownSigner")})
		return sec
	}
	add("fio", holderName(s))
	if q := s.Signer; q != nil {
		add("position", q.Title)
		if q.Organization != "" && q.Organization != holderName(s) {
			add("organization", q.Organization)
		}
		add("unit", q.OrganizationalUnit)
		add("inn", q.INN)
		add("innle", q.INNLE)
		add("ogrn", q.OGRN)
		add("ogrnip", q.OGRNIP)
		add("snils", q.SNILS)
		add("email", q.Email)
	}
	return sec
}

// serial is the certificate serial in hex as CryptoPro shows it.
func serial(s *verify.SignerReport) string {
	if s.Signer != nil && s.Signer.Serial != "" {
		return s.Signer.Serial
	}
	if s.Certificate != nil {
		return strings.ToLower(s.Certificate.Serial)
	}
	return ""
}

func issuerName(s *verify.SignerReport) string {
	if q := s.Signer; q != nil && (q.IssuerCommonName != "" || q.IssuerOrganization != "") {
		switch {
		case q.IssuerCommonName == "":
			return q.IssuerOrganization
		case q.IssuerOrganization == "" || q.IssuerOrganization == q.IssuerCommonName:
			return q.IssuerCommonName
		}
		return q.IssuerCommonName + ", " + q.IssuerOrganization
	}
	if s.Certificate != nil {
		return readableName(s.Certificate.Issuer)
	}
	return ""
}

func (b *builder) certificateSection(s *verify.SignerReport) section {
	sec := section{Heading: b.w("secCertificate")}
	add := func(label, v string) { sec.Fields = append(sec.Fields, field{b.w(label), orDash(b, v)}) }
	if c := s.Certificate; c != nil {
		add("serial", serial(s))
		add("thumbprint", c.Thumbprint)
		add("issuer", issuerName(s))
		add("validity", b.w("validFromTo", b.time(c.NotBefore), b.time(c.NotAfter)))
	} else {
		add("serial", "")
	}
	add("qualified", b.qualified(s))
	add("revocation", b.revocation(s))
	return sec
}

func (b *builder) qualified(s *verify.SignerReport) string {
	for _, c := range s.Checks {
		if c.Code != "ISSUER_ACCREDITED" {
			continue
		}
		switch {
		case s.Qualified:
			return b.w("qualYes")
		case c.Status == verify.Passed:
			return b.w("qualIssuerOnly")
		case c.Status == verify.Failed:
			return b.w("qualNo")
		}
		return b.w("qualUnknown")
	}
	return b.w("qualNotChecked")
}

var (
	reWhere     = regexp.MustCompile(`\((ocsp|crl)(?: ([^)\s]+))?\)`)
	reRevokedAt = regexp.MustCompile(`revoked at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)`)
)

// revocation is the signer certificate's revocation status with its
// source, read from the leaf's REVOCATION checks of the chain.
func (b *builder) revocation(s *verify.SignerReport) string {
	var checks []certs.Check
	if s.Chain != nil && len(s.Chain.Checks) > 0 {
		leaf := s.Chain.Checks[0].Subject
		for _, c := range s.Chain.Checks {
			if c.Subject == leaf && c.Code == certs.CheckRevocation {
				checks = append(checks, c)
			}
		}
	}
	if len(checks) == 0 {
		return b.w("revNotChecked")
	}
	// The deciding check: a failure, else a pass, else the first.
	pick := checks[0]
	for _, c := range checks {
		if c.Status == certs.StatusFailed {
			pick = c
			break
		}
		if c.Status == certs.StatusPassed && pick.Status != certs.StatusPassed {
			pick = c
		}
	}
	var state string
	switch {
	case pick.Status == certs.StatusPassed:
		state = b.w("revGood")
	case pick.Status == certs.StatusFailed && strings.Contains(pick.Detail, "does not know"):
		state = b.w("revUnknownCert")
	case pick.Status == certs.StatusFailed && strings.HasPrefix(pick.Detail, "revoked at"):
		state = b.w("revRevoked")
		if m := reRevokedAt.FindStringSubmatch(pick.Detail); m != nil {
			if t, err := time.Parse("2006-01-02 15:04:05Z", m[1]); err == nil {
				state = b.w("revRevokedAt", b.time(t))
			}
		}
	case pick.Status == certs.StatusFailed:
		state = b.w("revUndetermined")
	case strings.Contains(pick.Detail, "soft-fail"):
		state = b.w("revSoftFail")
	case strings.Contains(pick.Detail, "after the validation time"):
		state = b.w("revLater")
	case pick.Status == certs.StatusWarning:
		state = b.w("revUndetermined")
	default:
		state = b.w("revNotChecked")
	}
	src := ""
	decided := pick.Status == certs.StatusPassed || pick.Status == certs.StatusFailed
	if m := reWhere.FindStringSubmatch(pick.Detail); m != nil && decided {
		src = b.w("srcOCSP")
		if m[1] == "crl" {
			src = b.w("srcCRL")
		}
		if m[2] != "" {
			src += ", " + m[2]
		}
	} else if strings.Contains(pick.Detail, "CRL") && decided {
		src = b.w("srcCRL")
	}
	if src != "" {
		return state + "; " + b.w("revSource", src)
	}
	return state
}

func (b *builder) signingSection(s *verify.SignerReport) section {
	sec := section{Heading: b.w("secSigning")}
	add := func(label, v string) { sec.Fields = append(sec.Fields, field{b.w(label), orDash(b, v)}) }
	if s.SigningTime != nil {
		add("signingTime", b.time(*s.SigningTime))
	} else {
		add("signingTime", "")
	}
	switch ts := s.Timestamp; {
	case ts == nil:
		add("timestamp", b.w("tsNone"))
	case ts.Indication == verify.TotalPassed:
		add("timestamp", b.w("tsValid", b.time(ts.Time), orDash(b, readableName(ts.TSA))))
	default:
		v := b.w("tsInvalid", b.time(ts.Time), orDash(b, readableName(ts.TSA)))
		if why, ok := b.t.subs[ts.SubIndication]; ok {
			v += " " + why
		}
		add("timestamp", v)
	}
	algs := b.digestName(s.DigestAlgorithm)
	if s.Certificate != nil && s.Certificate.KeyAlgorithm != "" {
		algs = s.Certificate.KeyAlgorithm + "; " + algs
	}
	add("algorithms", algs)
	return sec
}

// checks lists the report's own checks, the signer's, and the chain's
// certificate by certificate. No check is dropped: an unknown code is shown
// as the code.
func (b *builder) checks(rep *verify.Report, s *verify.SignerReport) []checkRow {
	var rows []checkRow
	row := func(code, status, detail string) checkRow {
		r := checkRow{Name: b.checkName(code), Code: code, Status: b.status(status), Class: statusClass(status)}
		if b.opts.Details {
			r.Detail = detail
		}
		return r
	}
	if len(rep.Checks) > 0 {
		rows = append(rows, checkRow{Group: b.w("groupDocument")})
		for _, c := range rep.Checks {
			rows = append(rows, row(c.Code, c.Status, c.Detail))
		}
	}
	if s == nil {
		return rows
	}
	rows = append(rows, checkRow{Group: b.w("groupSignature")})
	for _, c := range s.Checks {
		rows = append(rows, row(c.Code, c.Status, c.Detail))
	}
	if s.Chain == nil {
		return rows
	}
	// Group the chain's checks by certificate, in order (leaf first).
	var order []string
	groups := map[string][]certs.Check{}
	for _, c := range s.Chain.Checks {
		if _, ok := groups[c.Subject]; !ok {
			order = append(order, c.Subject)
		}
		groups[c.Subject] = append(groups[c.Subject], c)
	}
	for i, subj := range order {
		role := b.w("roleCA")
		switch {
		case i == 0:
			role = b.w("roleLeaf")
		default:
			for _, c := range groups[subj] {
				if c.Code == certs.CheckTrustAnchor && c.Status == certs.StatusPassed {
					role = b.w("roleRoot")
				}
			}
		}
		name := subj
		if strings.Contains(name, "=") {
			name = readableName(name)
		}
		rows = append(rows, checkRow{Group: b.checkName("CHAIN") + ": " + name + " (" + role + ")"})
		for _, c := range groups[subj] {
			rows = append(rows, row(c.Code, c.Status, c.Detail))
		}
	}
	return rows
}

// stamp is the mark printed on a signed document.
func (b *builder) stamp(s *verify.SignerReport) []string {
	c := s.Certificate
	return []string{
		b.w("stamp1"), b.w("stamp2"), b.w("stampInfo"),
		b.w("stampCert", serial(s)),
		b.w("stampOwner", holderName(s)),
		b.w("stampValid", b.date(c.NotBefore), b.date(c.NotAfter)),
	}
}
