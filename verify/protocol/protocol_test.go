package protocol_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/tsp"
	"github.com/kepkit/kep/verify"
	"github.com/kepkit/kep/verify/protocol"
)

func fixture(t *testing.T, name string) *certs.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pki", name+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := certs.ParseCertificates(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cs[0]
}

// accredited is a list of accredited CAs with one entry.
type accredited struct{ ca *certs.Certificate }

func (a accredited) CheckAccreditation(ca *certs.Certificate, _ time.Time) (bool, string) {
	if bytes.Equal(ca.Raw, a.ca.Raw) {
		return true, "accredited (test list)"
	}
	return false, "not in the test list"
}

// reports holds real verification reports of GOST signatures made with the
// fixture PKI (testdata/pki), one per outcome.
type reports struct {
	content []byte
	valid   *verify.Report // person.pem, time-stamped, CRL, accredited CA: TOTAL_PASSED
	changed *verify.Report // another document: TOTAL_FAILED/HASH_FAILURE
	unknown *verify.Report // unknown-ca.pem: INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND
	revoked *verify.Report // revoked.pem with inter.crl: INDETERMINATE/REVOKED_NO_POE
	person  *certs.Certificate
}

var shared *reports

func makeReports(t *testing.T) *reports {
	t.Helper()
	if shared != nil {
		return shared
	}
	ctx := context.Background()
	dir := filepath.Join("..", "..", "testdata", "pki")
	p := testpki.New(t)
	tsa := p.TSA(t, testpki.CryptoProA, "critical,timeStamping")
	roots := []*certs.Certificate{fixture(t, "root"), p.Root.Cert}
	inter := fixture(t, "inter")
	crlData, err := os.ReadFile(filepath.Join(dir, "inter.crl"))
	if err != nil {
		t.Fatal(err)
	}
	crl, err := certs.ParseCRL(crlData)
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("Договор поставки № 17 от 01.06.2026\n")
	signWith := func(leaf string, ts bool) []byte {
		keyPEM, err := os.ReadFile(filepath.Join(dir, leaf+".key"))
		if err != nil {
			t.Fatal(err)
		}
		key, err := certs.ParsePrivateKey(keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		opts := sign.Options{SigningTime: time.Now().Add(-time.Minute)}
		if ts {
			opts.Timestamper = &tsp.Client{URL: tsa.URL}
		}
		sig, err := sign.Sign(ctx, bytes.NewReader(content), key, fixture(t, leaf), opts)
		if err != nil {
			t.Fatalf("%s: %v", leaf, err)
		}
		return sig
	}
	check := func(sig, doc []byte, ind, sub string) *verify.Report {
		rep, err := verify.Verify(ctx, sig, verify.Options{Roots: roots, Intermediates: []*certs.Certificate{inter},
			CRLs: []*certs.CRL{crl}, Content: bytes.NewReader(doc), Accreditation: accredited{inter}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Indication != ind || rep.Signers[0].SubIndication != sub {
			t.Fatalf("got %s/%s, want %s/%s\n%s", rep.Indication, rep.Signers[0].SubIndication, ind, sub, rep.Summary("en"))
		}
		return rep
	}
	r := &reports{content: content, person: fixture(t, "person")}
	valid := signWith("person", true)
	r.valid = check(valid, content, verify.TotalPassed, "")
	if !r.valid.Signers[0].Qualified || r.valid.Signers[0].Timestamp == nil {
		t.Fatalf("the valid signature should be qualified and time-stamped:\n%s", r.valid.Summary("en"))
	}
	r.changed = check(valid, []byte("Договор поставки № 71 от 01.06.2026\n"), verify.TotalFailed, verify.HashFailure)
	r.unknown = check(signWith("unknown-ca", false), content, verify.Indeterminate, "NO_CERTIFICATE_CHAIN_FOUND")
	r.revoked = check(signWith("revoked", false), content, verify.Indeterminate, "REVOKED_NO_POE")
	shared = r
	return r
}

func document(t *testing.T, r *reports, rep *verify.Report) protocol.Document {
	t.Helper()
	d, err := protocol.ReadDocument(context.Background(), "Договор поставки № 17.txt", bytes.NewReader(r.content), rep)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var testNow = time.Date(2026, 6, 2, 10, 30, 0, 0, time.UTC)

func tool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found: %v (run `make deps`: Debian package poppler-utils)", name, err)
	}
	return path
}

// pdfText renders rep as a PDF and returns the PDF's path and the text
// pdftotext extracts, whitespace collapsed to single spaces.
func pdfText(t *testing.T, rep *verify.Report, doc protocol.Document, opts protocol.Options, name string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := protocol.PDF(&buf, rep, doc, opts); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if keep := os.Getenv("KEP_PROTOCOL_DIR"); keep != "" {
		dir = keep // keep the PDFs to look at
	}
	path := filepath.Join(dir, name+".pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool(t, "pdftotext"), "-layout", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return path, strings.Join(strings.Fields(string(out)), " ")
}

func pages(t *testing.T, path string) int {
	t.Helper()
	out, err := exec.Command(tool(t, "pdfinfo"), path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo: no page count\n%s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

func wantAll(t *testing.T, what, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func wantNone(t *testing.T, what, text string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(text, w) {
			t.Errorf("%s contains %q", what, w)
		}
	}
}

func stampLines(c *certs.Certificate) []string {
	return []string{"ДОКУМЕНТ ПОДПИСАН", "ЭЛЕКТРОННОЙ ПОДПИСЬЮ", "Сведения о сертификате ЭП",
		"Сертификат: " + c.SerialHex(), "Владелец: Иванов Иван Иванович",
		"Действителен: с " + c.NotBefore.UTC().Format("02.01.2006") + " по " + c.NotAfter.UTC().Format("02.01.2006")}
}

func TestPDFValid(t *testing.T) {
	r := makeReports(t)
	doc := document(t, r, r.valid)
	if doc.HashAlg != r.valid.Signers[0].DigestAlgorithm || doc.HashAlg != "streebog256" || len(doc.Hash) != 32 || doc.Size != int64(len(r.content)) {
		t.Fatalf("ReadDocument: %+v", doc)
	}
	opts := protocol.Options{Now: testNow, Trust: "root.pem (--trust)", Revocation: "CRL inter.crl (--crl)"}
	path, text := pdfText(t, r.valid, doc, opts, "valid")
	wantAll(t, "the PDF text", text, append(stampLines(r.person),
		"ПРОТОКОЛ ПРОВЕРКИ ЭЛЕКТРОННОЙ ПОДПИСИ", "Подпись 1 из 1",
		"Договор поставки № 17.txt", "ГОСТ Р 34.11-2012 «Стрибог», 256 бит", "отсоединённая",
		"ФИО Иванов Иван Иванович", "ИНН 500100732259", "СНИЛС 11223344595",
		"Отпечаток (SHA-1) "+r.person.Thumbprint(), "Издатель (УЦ)",
		"Квалифицированный да: удостоверяющий центр был аккредитован на момент подписания",
		"Статус отзыва не отозван; источник: список отозванных сертификатов (CRL)",
		"Штамп времени", "(действителен)", "kep test TSA",
		"ПОДПИСЬ ДЕЙСТВИТЕЛЬНА", "(TOTAL_PASSED)",
		"(MESSAGE_DIGEST)", "Значение подписи (SIGNATURE)", "(TRUST_ANCHOR)", "(SIGNATURE_TIMESTAMP)", "(ISSUER_ACCREDITED)",
		"root.pem (--trust)", "CRL inter.crl (--crl)",
		"02.06.2026 10:30:00 UTC")...)
	// The document's hash, as hex, wrapped or not.
	if h := strings.ReplaceAll(text, " ", ""); !strings.Contains(h, strings.ToLower(strings.ReplaceAll(hexOf(doc.Hash), " ", ""))) {
		t.Errorf("the PDF text lacks the document hash %x", doc.Hash)
	}
	// One language: no English check details, no hex-encoded names.
	wantNone(t, "the PDF text", text, "identifies the signer", "not on the CRL", "=#", "2.5.4.42", "1.2.643.")
	if n := pages(t, path); n != 1 {
		t.Errorf("one signer, %d pages", n)
	}
	png := renderPNG(t, path, 1)
	t.Logf("rendered page: %s", png)
	keep := os.Getenv("KEP_PROTOCOL_PNG")
	if keep != "" {
		b, _ := os.ReadFile(png)
		if err := os.WriteFile(keep, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, x := range b {
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}

// renderPNG renders page n of the PDF with pdftoppm and checks that it is
// A4-shaped and not blank; it returns the PNG's path.
func renderPNG(t *testing.T, pdf string, n int) string {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "page")
	out, err := exec.Command(tool(t, "pdftoppm"), "-png", "-r", "72", "-f", strconv.Itoa(n), "-l", strconv.Itoa(n), "-singlefile", pdf, prefix).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	path := prefix + ".png"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	bnd := img.Bounds()
	if ratio := float64(bnd.Dy()) / float64(bnd.Dx()); ratio < 1.40 || ratio > 1.43 {
		t.Errorf("page %dx%d is not A4-shaped", bnd.Dx(), bnd.Dy())
	}
	dark, right := darkPixels(img)
	if total := bnd.Dx() * bnd.Dy(); dark < total/200 {
		t.Errorf("page %d: %d dark pixels of %d: blank?", n, dark, total)
	}
	// Nothing printed in the right margin (40 pt at 72 dpi, less a little).
	if right > bnd.Max.X-36 {
		t.Errorf("ink at x=%d, in the right margin of a %d px page", right, bnd.Dx())
	}
	return path
}

// darkPixels counts pixels darker than mid-grey and finds the rightmost.
func darkPixels(img image.Image) (n, rightmost int) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if (r+g+bl)/3 < 0x8000 {
				n++
				rightmost = max(rightmost, x)
			}
		}
	}
	return n, rightmost
}

func TestPDFFailures(t *testing.T) {
	r := makeReports(t)
	opts := protocol.Options{Now: testNow}
	for _, tc := range []struct {
		name string
		rep  *verify.Report
		want []string
	}{
		{"changed", r.changed, append(stampLines(r.person), "ПОДПИСЬ НЕДЕЙСТВИТЕЛЬНА", "(TOTAL_FAILED / HASH_FAILURE)",
			"изменён", "(MESSAGE_DIGEST)", "Подпись проверку не прошла")},
		{"unknown-ca", r.unknown, []string{"ПОДПИСЬ НЕ ПОДТВЕРЖДЕНА", "(INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND)",
			"доверенного корневого", "(CHAIN)", "(TRUST_ANCHOR)",
			"ДОКУМЕНТ ПОДПИСАН", "Подпись проверку не прошла"}},
		{"revoked", r.revoked, []string{"ПОДПИСЬ НЕ ПОДТВЕРЖДЕНА", "REVOKED_NO_POE", "Сертификат подписанта отозван.",
			"Статус отзыва ОТОЗВАН 15.01.2026 00:00:00 UTC; источник: список отозванных сертификатов (CRL)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, text := pdfText(t, tc.rep, document(t, r, tc.rep), opts, tc.name)
			wantAll(t, "the PDF text", text, tc.want...)
			wantNone(t, "the PDF text", text, "ПОДПИСЬ ДЕЙСТВИТЕЛЬНА", "=#")
			// As many checks read "failed" as the report has failed checks.
			if got, want := strings.Count(text, "НЕ ПРОЙДЕНА"), failedChecks(tc.rep); got != want || want == 0 {
				t.Errorf("%d checks shown failed, the report has %d", got, want)
			}
			renderPNG(t, path, 1)
		})
	}
}

// TestPDFPages: one page per signer, a long name wraps inside the page, and
// a name too long for one page continues on the next, never cut off.
func TestPDFPages(t *testing.T) {
	r := makeReports(t)
	withOrg := func(org string) *verify.Report {
		two := *r.valid
		second := r.changed.Signers[0]
		q := *second.Signer
		q.Organization = org
		second.Signer, second.Index = &q, 2
		two.Signers = []verify.SignerReport{r.valid.Signers[0], second}
		return &two
	}
	// A long real-world name with a word longer than a line.
	long := "Федеральное государственное бюджетное образовательное учреждение высшего образования «Московский государственный технический университет имени Н. Э. Баумана (национальный исследовательский университет)» " +
		strings.Repeat("Ж", 60)
	rep := withOrg(long)
	path, text := pdfText(t, rep, document(t, r, rep), protocol.Options{Now: testNow}, "two")
	if n := pages(t, path); n != 2 {
		t.Errorf("two signers, %d pages", n)
	}
	wantAll(t, "the PDF text", text, "Подпись 1 из 2", "Подпись 2 из 2", "Итог по файлу", "Баумана")
	if !strings.Contains(strings.ReplaceAll(text, " ", ""), strings.Repeat("Ж", 60)) {
		t.Error("the unbroken word is not all there")
	}
	for n := 1; n <= 2; n++ {
		renderPNG(t, path, n)
	}
	inMargins(t, path)

	// Far too long for a page: the signer's page continues.
	huge := strings.Repeat(long+" ", 8)
	rep = withOrg(huge)
	path, text = pdfText(t, rep, document(t, r, rep), protocol.Options{Now: testNow}, "huge")
	if n := pages(t, path); n != 3 {
		t.Errorf("two signers, one continued: %d pages, want 3", n)
	}
	wantAll(t, "the PDF text", text, "Подпись 2 из 2", "Протокол сформирован")
	if got := strings.Count(strings.ReplaceAll(text, " ", ""), strings.Repeat("Ж", 60)); got != 8 {
		t.Errorf("%d of the 8 unbroken words are there", got)
	}
	inMargins(t, path)
}

// inMargins checks that every word pdftotext finds lies inside the page's
// margins (36 pt, less a point; less 6 pt at the top, where pdftotext's
// boxes include the font's ascent above the line).
func inMargins(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command(tool(t, "pdftotext"), "-bbox", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext -bbox: %v\n%s", err, out)
	}
	words := regexp.MustCompile(`xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"`).FindAllSubmatch(out, -1)
	if len(words) < 100 {
		t.Fatalf("pdftotext -bbox found %d words", len(words))
	}
	for _, m := range words {
		var v [4]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(string(m[i+1]), 64)
		}
		if v[0] < 35 || v[1] < 30 || v[2] > 595.28-35 || v[3] > 841.89-35 {
			t.Errorf("a word at x %.1f…%.1f, y %.1f…%.1f pt is outside the margins", v[0], v[2], v[1], v[3])
		}
	}
}

func failedChecks(rep *verify.Report) int {
	n := 0
	for _, c := range rep.Checks {
		n += b2i(c.Status == verify.Failed)
	}
	for _, s := range rep.Signers {
		for _, c := range s.Checks {
			n += b2i(c.Status == verify.Failed)
		}
		if s.Chain != nil {
			for _, c := range s.Chain.Checks {
				n += b2i(c.Status == certs.StatusFailed)
			}
		}
	}
	return n
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func html(t *testing.T, rep *verify.Report, doc protocol.Document, opts protocol.Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := protocol.HTML(&b, rep, doc, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestHTML(t *testing.T) {
	r := makeReports(t)
	page := html(t, r.valid, document(t, r, r.valid), protocol.Options{Now: testNow})
	wantAll(t, "the HTML page", page, `<html lang="ru">`, "@page { size: A4", "page-break-before: always", `class="stamp"`,
		"ДОКУМЕНТ ПОДПИСАН<br>ЭЛЕКТРОННОЙ ПОДПИСЬЮ", "Сведения о сертификате ЭП", "Сертификат: "+r.person.SerialHex(),
		"Владелец: Иванов Иван Иванович", "Действителен: с 01.01.2025 по 01.01.2035", "500100732259", "11223344595",
		"ПОДПИСЬ ДЕЙСТВИТЕЛЬНА", "не отозван",
		`<td class="name">Целостность документа <span class="code">MESSAGE_DIGEST</span></td><td class="result ok">пройдена</td>`)
	wantNone(t, "the HTML page", page, "=#", "2.5.4.42", "1.2.643.", "identifies the signer", "<script", "src=", "href=")

	page = html(t, r.changed, document(t, r, r.changed), protocol.Options{Now: testNow})
	wantAll(t, "the HTML page of the changed document", page, `class="verdict fail"`, "ПОДПИСЬ НЕДЕЙСТВИТЕЛЬНА",
		"<span>Документ не совпадает с подписанным: он изменён после подписания или подпись относится к другому файлу.</span>",
		`<td class="name">Целостность документа <span class="code">MESSAGE_DIGEST</span></td><td class="result fail">НЕ ПРОЙДЕНА</td>`,
		"Подпись проверку не прошла")

	// Two signers: two page sections.
	two := *r.valid
	two.Signers = append([]verify.SignerReport{}, r.valid.Signers[0], r.unknown.Signers[0])
	if n := strings.Count(html(t, &two, protocol.Document{Name: "x"}, protocol.Options{Now: testNow}), `<section class="page">`); n != 2 {
		t.Errorf("two signers, %d page sections", n)
	}
}

// TestHTMLPrint prints the HTML page with headless Chromium (the print CSS:
// A4, a page per signer) and checks the PDF it makes: one page per signer,
// every word inside the margins, the stamp and names as text.
func TestHTMLPrint(t *testing.T) {
	r := makeReports(t)
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if chromium, err = exec.LookPath("chromium-browser"); err != nil {
			t.Fatalf("chromium not found: %v (run `make deps`)", err)
		}
	}
	two := *r.valid
	second := r.changed.Signers[0]
	q := *second.Signer
	q.Organization = "Федеральное государственное бюджетное образовательное учреждение высшего образования «Московский государственный технический университет имени Н. Э. Баумана (национальный исследовательский университет)» " + strings.Repeat("Ж", 60)
	second.Signer = &q
	two.Signers = []verify.SignerReport{r.valid.Signers[0], second}
	dir := t.TempDir()
	if keep := os.Getenv("KEP_PROTOCOL_DIR"); keep != "" {
		dir = keep
	}
	page := filepath.Join(dir, "protocol.html")
	if err := os.WriteFile(page, []byte(html(t, &two, document(t, r, &two), protocol.Options{Now: testNow})), 0o644); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(dir, "printed.pdf")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--print-to-pdf="+pdf, "file://"+page)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium --print-to-pdf: %v\n%s", err, out)
	}
	if n := pages(t, pdf); n != 2 {
		t.Errorf("printed: two signers, %d pages", n)
	}
	out, err := exec.Command(tool(t, "pdftotext"), "-layout", pdf, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	wantAll(t, "the printed page", text, append(stampLines(r.person), "Подпись 1 из 2", "Подпись 2 из 2", "Баумана", "ПОДПИСЬ НЕДЕЙСТВИТЕЛЬНА")...)
	inMargins(t, pdf)
	for n := 1; n <= 2; n++ {
		t.Logf("printed page %d: %s", n, renderPNG(t, pdf, n))
	}
}

// TestHexNamesDecoded: a report with no qualified fields falls back to the
// certificate's subject and issuer strings; their hex attributes are
// decoded, never shown as hex.
func TestHexNamesDecoded(t *testing.T) {
	r := makeReports(t)
	rep := *r.valid
	s := rep.Signers[0]
	s.Signer = nil
	ci := *s.Certificate
	ci.Subject = "1.2.643.100.3=#120b3131323233333434353935,2.5.4.4=#0c0cd098d0b2d0b0d0bdd0bed0b2,2.5.4.42=#0c19d098d0b2d0b0d0bd20d098d0b2d0b0d0bdd0bed0b2d0b8d187"
	ci.Issuer = "CN=УЦ \\\"Тест\\\",1.2.643.100.1=#120d31313237373436313233343530"
	s.Certificate = &ci
	rep.Signers = []verify.SignerReport{s}
	page := html(t, &rep, protocol.Document{Name: "x"}, protocol.Options{Now: testNow})
	wantAll(t, "the HTML page", page, "Владелец: Иванов Иван Иванович", "УЦ &#34;Тест&#34;")
	wantNone(t, "the HTML page", page, "=#", "#120", "#0c", "2.5.4")
}

func TestEnglish(t *testing.T) {
	r := makeReports(t)
	doc := document(t, r, r.changed)
	opts := protocol.Options{Lang: "en", Now: testNow}
	page := html(t, r.changed, doc, opts)
	wantAll(t, "the English page", page, `<html lang="en">`, "ELECTRONIC SIGNATURE VERIFICATION PROTOCOL", "SIGNATURE INVALID",
		"changed after signing", "DOCUMENT SIGNED", "Holder: Иванов Иван Иванович", "Certificate details", "FAILED", "Valid: from 2025-01-01 to 2035-01-01")
	wantNone(t, "the English page", page, "ПРОТОКОЛ", "пройдена", "Владелец", "ДОКУМЕНТ ПОДПИСАН")
	wantAll(t, "the English page", page, `<td class="name">Document integrity <span class="code">MESSAGE_DIGEST</span></td><td class="result fail">FAILED</td>`)
	_, text := pdfText(t, r.changed, doc, opts, "en")
	wantAll(t, "the English PDF", text, "SIGNATURE INVALID", "Holder: Иванов Иван Иванович", "SNILS 11223344595")
	wantNone(t, "the English PDF", text, "ПРОТОКОЛ", "пройдена")

	// Details on request: the verifier's own wording per check.
	page = html(t, r.changed, doc, protocol.Options{Lang: "en", Now: testNow, Details: true})
	wantAll(t, "the page with details", page, "the content was changed")
}

// TestUnknownCodes: a check code or status the protocol has no words for is
// shown as the code itself, never dropped.
func TestUnknownCodes(t *testing.T) {
	r := makeReports(t)
	rep := *r.valid
	s := rep.Signers[0]
	s.Checks = append(append([]verify.Check{}, s.Checks...), verify.Check{Code: "FUTURE_CHECK", Status: "deferred"})
	s.SubIndication = "SOME_NEW_SUB"
	rep.Signers = []verify.SignerReport{s}
	doc := protocol.Document{Name: "x"}
	for _, lang := range []string{"ru", "en"} {
		page := html(t, &rep, doc, protocol.Options{Lang: lang, Now: testNow})
		wantAll(t, lang+" page", page, "FUTURE_CHECK", "deferred", "SOME_NEW_SUB")
		_, text := pdfText(t, &rep, doc, protocol.Options{Lang: lang, Now: testNow}, "unknown-"+lang)
		wantAll(t, lang+" PDF", text, "FUTURE_CHECK", "deferred", "SOME_NEW_SUB")
	}
	// Every check of the report appears, by name.
	page := html(t, r.valid, doc, protocol.Options{Now: testNow})
	rows := strings.Count(page, `<td class="result `)
	want := len(r.valid.Checks) + len(r.valid.Signers[0].Checks) + len(r.valid.Signers[0].Chain.Checks)
	if rows != want {
		t.Errorf("%d check rows, the report has %d checks", rows, want)
	}
}

// TestRevocationNotChecked: a revocation check that was not made names no
// source, even when its detail mentions a CRL.
func TestRevocationNotChecked(t *testing.T) {
	r := makeReports(t)
	rep := *r.valid
	s := rep.Signers[0]
	chain := *s.Chain
	chain.Checks = nil
	for _, c := range s.Chain.Checks {
		if c.Code == certs.CheckRevocation {
			c.Status, c.Detail = certs.StatusNotChecked, "no usable CRL of the issuer was given"
		}
		chain.Checks = append(chain.Checks, c)
	}
	s.Chain = &chain
	rep.Signers = []verify.SignerReport{s}
	page := html(t, &rep, protocol.Document{Name: "x"}, protocol.Options{Now: testNow})
	wantAll(t, "the page", page, `<td class="value">не проверялся</td>`)
	wantNone(t, "the page", page, "не отозван", "источник")
}

// TestNoSigners: a signature that cannot be parsed still gets a page.
func TestNoSigners(t *testing.T) {
	rep, err := verify.Verify(context.Background(), []byte("not a signature"), verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, text := pdfText(t, rep, protocol.Document{Name: "a.sig", Size: -1}, protocol.Options{Now: testNow}, "none")
	wantAll(t, "the PDF text", text, "Подписи не найдены", "ПОДПИСЬ НЕДЕЙСТВИТЕЛЬНА", "FORMAT_FAILURE", "Формат файла подписи (FORMAT) НЕ ПРОЙДЕНА")
	wantNone(t, "the PDF text", text, "ДОКУМЕНТ ПОДПИСАН")
	if err := protocol.PDF(&bytes.Buffer{}, nil, protocol.Document{}, protocol.Options{}); err == nil {
		t.Error("a nil report gave no error")
	}
}
