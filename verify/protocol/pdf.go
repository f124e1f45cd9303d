package protocol

import (
	_ "embed"
	"errors"
	"fmt"
	"io"

	"github.com/signintech/gopdf"

	"github.com/kepkit/kep/verify"
)

// fontTTF is DejaVu Sans Condensed (fonts/LICENSE): Cyrillic, Latin and the
// typographic signs the protocol uses («», №, —), embedded so that the PDF
// needs no system font. gopdf writes only the glyphs used into the PDF.
//
//go:embed fonts/DejaVuSansCondensed.ttf
var fontTTF []byte

const fontName = "dejavu"

// A4 in points, and the layout.
const (
	pageW, pageH = 595.28, 841.89
	margin       = 36.0
	contentW     = pageW - 2*margin
	labelW       = 165.0
	stampW       = 240.0
	gap          = 12.0
)

type rgb struct{ r, g, b uint8 }

var (
	black  = rgb{17, 17, 17}
	grey   = rgb{85, 85, 85}
	blue   = rgb{29, 61, 143}
	colors = map[string]rgb{"ok": {10, 107, 45}, "fail": {176, 0, 32}, "warn": {138, 90, 0}, "indet": {138, 90, 0}, "na": grey}
)

// PDF writes the protocol as an A4 PDF, each signer starting on a new page
// (a signer whose checks do not fit continues on the next one; nothing is
// cut off).
func PDF(w io.Writer, rep *verify.Report, doc Document, opts Options) error {
	d, err := build(rep, doc, opts)
	if err != nil {
		return err
	}
	p := &pdfWriter{gp: &gopdf.GoPdf{}}
	p.gp.Start(gopdf.Config{PageSize: gopdf.Rect{W: pageW, H: pageH}})
	p.gp.SetInfo(gopdf.PdfInfo{Title: d.Title, Creator: "kep", Producer: "kep (gopdf)", CreationDate: opts.Now})
	if err := p.gp.AddTTFFontData(fontName, fontTTF); err != nil {
		return fmt.Errorf("protocol: font: %w", err)
	}
	for i := range d.Pages {
		p.signerPage(&d.Pages[i])
	}
	if p.err != nil {
		return fmt.Errorf("protocol: %w", p.err)
	}
	if _, err := p.gp.WriteTo(w); err != nil {
		return fmt.Errorf("protocol: writing the PDF: %w", err)
	}
	return nil
}

// pdfWriter lays text out top to bottom; the first error sticks.
type pdfWriter struct {
	gp  *gopdf.GoPdf
	y   float64
	err error
}

func (p *pdfWriter) keep(err error) {
	if p.err == nil && err != nil {
		p.err = err
	}
}

func (p *pdfWriter) newPage() {
	p.gp.AddPage()
	p.y = margin
}

// ensure starts a new page unless h more points fit on this one.
func (p *pdfWriter) ensure(h float64) {
	if p.y+h > pageH-margin {
		p.newPage()
	}
}

func (p *pdfWriter) font(size float64, c rgb) {
	p.keep(p.gp.SetFont(fontName, "", size))
	p.gp.SetTextColor(c.r, c.g, c.b)
}

// wrap splits s into lines no wider than width at the current font;
// words longer than a line are broken.
func (p *pdfWriter) wrap(s string, width float64) []string {
	if s == "" {
		return []string{""}
	}
	lines, err := p.gp.SplitTextWithWordWrap(s, width)
	if errors.Is(err, gopdf.ErrEmptyString) {
		return []string{""}
	}
	p.keep(err)
	return lines
}

func (p *pdfWriter) line(x, y float64, s string) {
	if s == "" {
		return
	}
	p.gp.SetXY(x, y)
	p.keep(p.gp.Cell(nil, s))
}

// para writes a wrapped paragraph across the content width.
func (p *pdfWriter) para(s string, size float64, c rgb, after float64) {
	p.font(size, c)
	lh := size * 1.3
	for _, l := range p.wrap(s, contentW) {
		p.ensure(lh)
		p.line(margin, p.y, l)
		p.y += lh
	}
	p.y += after
}

func (p *pdfWriter) heading(s string) {
	p.ensure(30)
	p.y += 4
	p.para(s, 10, black, 0)
	p.gp.SetStrokeColor(150, 150, 150)
	p.gp.SetLineWidth(0.6)
	p.gp.Line(margin, p.y, margin+contentW, p.y)
	p.y += 3
}

// row writes cells side by side, each wrapped in its own column.
func (p *pdfWriter) row(size float64, cells []string, widths []float64, cols []rgb) {
	lh := size * 1.22
	wrapped := make([][]string, len(cells))
	n := 1
	p.font(size, black)
	for i, c := range cells {
		wrapped[i] = p.wrap(c, widths[i]-4)
		n = max(n, len(wrapped[i]))
	}
	p.ensure(float64(n)*lh + 0.8)
	x := margin
	for i, ls := range wrapped {
		p.font(size, cols[i])
		for j, l := range ls {
			p.line(x, p.y+float64(j)*lh, l)
		}
		x += widths[i]
	}
	p.y += float64(n)*lh + 0.8
}

func (p *pdfWriter) signerPage(pg *page) {
	p.newPage()
	p.para(pg.Title, 13, black, 1)
	// The subtitle, and on its right when it fits the footer (when and by
	// what the protocol was made), else under it.
	p.font(8, grey)
	sub, _ := p.gp.MeasureTextWidth(pg.Subtitle)
	foot, _ := p.gp.MeasureTextWidth(pg.Footer)
	if sub+foot+gap <= contentW {
		p.line(margin+contentW-foot, p.y, pg.Footer)
		p.para(pg.Subtitle, 8, grey, 2)
	} else {
		p.para(pg.Subtitle, 8, grey, 0)
		p.para(pg.Footer, 8, grey, 2)
	}
	for _, s := range pg.Sections {
		p.heading(s.Heading)
		for _, f := range s.Fields {
			p.row(8, []string{f.Label, f.Value}, []float64{labelW, contentW - labelW}, []rgb{grey, black})
		}
	}
	// The verdict, and the stamp beside it.
	p.heading(pg.VerdictHeading)
	vw := contentW
	if pg.Stamp != nil {
		vw -= stampW + gap
	}
	vh := p.verdictHeight(pg, vw)
	sh := 0.0
	if pg.Stamp != nil {
		sh = p.stampHeight(pg.Stamp)
	}
	p.ensure(max(vh, sh) + 4)
	top := p.y
	p.verdict(pg, top, vw, vh)
	if pg.Stamp != nil {
		p.stamp(pg.Stamp, margin+contentW-stampW, top, sh)
	}
	p.y = top + max(vh, sh) + 4
	if pg.StampNote != "" {
		p.para(pg.StampNote, 8, colors["fail"], 0)
	}
	p.heading(pg.ChecksHeading)
	p.checks(pg)
}

const verdictPad = 5.0

// verdictLines wraps the verdict's three parts to the box's inner width.
func (p *pdfWriter) verdictLines(pg *page, w float64) (head, why, code []string) {
	inner := w - 2*verdictPad
	p.font(11.5, black)
	head = p.wrap(pg.Verdict, inner)
	p.font(8.5, black)
	if pg.Why != "" {
		why = p.wrap(pg.Why, inner)
	}
	code = p.wrap("("+pg.VerdictCode+")", inner)
	return head, why, code
}

func (p *pdfWriter) verdictHeight(pg *page, w float64) float64 {
	head, why, code := p.verdictLines(pg, w)
	return 2*verdictPad + float64(len(head))*15 + float64(len(why)+len(code))*11
}

// verdict draws the framed verdict at (margin, top), w wide and h high.
func (p *pdfWriter) verdict(pg *page, top, w, h float64) {
	c := colors[pg.VerdictClass]
	head, why, code := p.verdictLines(pg, w)
	x, y := margin+verdictPad, top+verdictPad
	p.font(11.5, c)
	for _, l := range head {
		p.line(x, y, l)
		y += 15
	}
	p.font(8.5, black)
	for _, l := range why {
		p.line(x, y, l)
		y += 11
	}
	p.font(8.5, grey)
	for _, l := range code {
		p.line(x, y, l)
		y += 11
	}
	p.gp.SetStrokeColor(c.r, c.g, c.b)
	p.gp.SetLineWidth(1.5)
	p.gp.RectFromUpperLeftWithStyle(margin, top, w, h, "D")
}

func (p *pdfWriter) checks(pg *page) {
	var widths []float64
	var head []string
	if pg.ColDetail != "" {
		widths = []float64{contentW * 0.36, contentW * 0.16, contentW * 0.48}
		head = []string{pg.ColCheck, pg.ColResult, pg.ColDetail}
	} else {
		widths = []float64{contentW * 0.385, contentW * 0.115, contentW * 0.385, contentW * 0.115}
		head = []string{pg.ColCheck, pg.ColResult, pg.ColCheck, pg.ColResult}
	}
	p.row(8, head, widths, []rgb{grey, grey, grey, grey})
	for _, g := range pg.Grid {
		if g.Group != "" {
			p.y += 1.5
			p.row(7.5, []string{g.Group}, []float64{contentW}, []rgb{blue})
			continue
		}
		var cells []string
		var cols []rgb
		for _, r := range g.Cells {
			name := r.Name
			if r.Name != r.Code {
				name += " (" + r.Code + ")"
			}
			cells = append(cells, name, r.Status)
			cols = append(cols, black, colors[r.Class])
			if pg.ColDetail != "" {
				cells = append(cells, r.Detail)
				cols = append(cols, grey)
			}
		}
		p.row(7, cells, widths[:len(cells)], cols)
	}
}

const (
	stampPad  = 7.0
	stampSize = 8.5
	stampLH   = stampSize * 1.35
)

func (p *pdfWriter) stampLines(lines []string) [][]string {
	p.font(stampSize, blue)
	var wrapped [][]string
	for _, l := range lines {
		wrapped = append(wrapped, p.wrap(l, stampW-2*stampPad))
	}
	return wrapped
}

func (p *pdfWriter) stampHeight(lines []string) float64 {
	n := 0
	for _, ls := range p.stampLines(lines) {
		n += len(ls)
	}
	return 2*stampPad + float64(n)*stampLH + 4
}

// stamp draws the framed mark at (left, top), h high: two title lines,
// the "certificate details" line with a rule under it, then serial,
// holder and validity.
func (p *pdfWriter) stamp(lines []string, left, top, h float64) {
	wrapped := p.stampLines(lines)
	y := top + stampPad
	for i, ls := range wrapped {
		for _, l := range ls {
			x := left + stampPad
			if i < 3 { // the heading lines are centred
				if tw, err := p.gp.MeasureTextWidth(l); err == nil {
					x = left + (stampW-tw)/2
				}
			}
			p.line(x, y, l)
			y += stampLH
		}
		if i == 2 {
			p.gp.SetStrokeColor(blue.r, blue.g, blue.b)
			p.gp.SetLineWidth(0.6)
			p.gp.Line(left+stampPad, y+1, left+stampW-stampPad, y+1)
			y += 4
		}
	}
	p.gp.SetStrokeColor(blue.r, blue.g, blue.b)
	p.gp.SetLineWidth(1.5)
	p.keep(p.gp.Rectangle(left, top, left+stampW, top+h, "D", 6, 8))
}
