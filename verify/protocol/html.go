package protocol

import (
	"html/template"
	"io"

	"github.com/kepkit/kep/verify"
)

// HTML writes the protocol as one self-contained HTML page (no external
// resources) with print CSS: A4, each signer on its own printed page.
func HTML(w io.Writer, rep *verify.Report, doc Document, opts Options) error {
	d, err := build(rep, doc, opts)
	if err != nil {
		return err
	}
	return htmlTemplate.Execute(w, d)
}

var htmlTemplate = template.Must(template.New("protocol").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
@page { size: A4; margin: 13mm; }
* { box-sizing: border-box; }
body { margin: 0; background: #eee; color: #111; font: 10pt/1.35 "DejaVu Sans Condensed", "DejaVu Sans", Arial, sans-serif; }
.page { width: 210mm; max-width: 100%; min-height: 297mm; margin: 8mm auto; padding: 14mm; background: #fff;
  overflow-wrap: anywhere; word-break: break-word; }
.page + .page { break-before: page; page-break-before: always; }
h1 { font-size: 13pt; margin: 0 0 1mm; letter-spacing: .03em; }
.subtitle { margin: 0 0 4mm; color: #444; }
h2 { font-size: 10.5pt; margin: 4mm 0 1mm; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
td, th { vertical-align: top; padding: .4mm 1.5mm .4mm 0; text-align: left; }
table.fields td.label { width: 30%; color: #444; }
table.checks { font-size: 8.5pt; }
table.checks th { border-bottom: 1px solid #999; }
table.checks .name { width: 35%; }
table.checks .result { width: 15%; }
table.checks tr.group td { font-weight: bold; padding-top: 1.5mm; }
.code { color: #777; font-size: 7.5pt; }
.ok { color: #0a6b2d; } .fail { color: #b00020; } .warn { color: #8a5a00; } .na { color: #555; } .indet { color: #8a5a00; }
.outcome { display: flex; flex-wrap: wrap; gap: 4mm; align-items: flex-start; margin: 2mm 0; }
.verdict { flex: 1 1 60mm; padding: 2mm 3mm; border: 2px solid currentColor; }
.verdict strong { font-size: 12pt; display: block; }
.verdict span { color: #111; }
.stamp { flex: 0 1 85mm; border: 2px solid #1d3d8f; border-radius: 3mm; padding: 2mm 3mm; color: #1d3d8f; }
.stamp p { margin: 0; }
.stamp .head { font-weight: bold; text-align: center; letter-spacing: .03em; }
.stamp .info { text-align: center; border-bottom: 1px solid #1d3d8f; margin-bottom: 1mm; padding-bottom: .5mm; }
.stamp-note { margin: 0; font-size: 8.5pt; color: #b00020; }
.subtitle { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0 4mm; }
@media print {
  body { background: #fff; font-size: 8pt; line-height: 1.15; }
  .page { margin: 0; padding: 0; width: auto; min-height: 0; }
  h1 { font-size: 12pt; padding-top: 1.5mm; } /* the breve of Й stays on its own page */
  h2 { font-size: 9.5pt; margin: 2mm 0 .5mm; }
  table.checks tr.group td { padding-top: .8mm; }
  table.checks { font-size: 6.8pt; }
  .code { font-size: 6pt; }
  .verdict strong { font-size: 10.5pt; }
  .stamp { font-size: 8pt; }
  td, th { padding-top: .2mm; padding-bottom: .2mm; }
}
</style>
</head>
<body>
{{range .Pages}}<section class="page">
<h1>{{.Title}}</h1>
<p class="subtitle"><span>{{.Subtitle}}</span> <span class="made">{{.Footer}}</span></p>
{{range .Sections}}<h2>{{.Heading}}</h2>
<table class="fields">{{range .Fields}}
<tr><td class="label">{{.Label}}</td><td class="value">{{.Value}}</td></tr>{{end}}
</table>
{{end}}<h2>{{.VerdictHeading}}</h2>
<div class="outcome">
<div class="verdict {{.VerdictClass}}"><strong>{{.Verdict}}</strong>{{if .Why}}<span>{{.Why}}</span> {{end}}<span class="code">({{.VerdictCode}})</span></div>
{{with .Stamp}}<div class="stamp">
<p class="head">{{index . 0}}<br>{{index . 1}}</p>
<p class="info">{{index . 2}}</p>
<p>{{index . 3}}</p>
<p>{{index . 4}}</p>
<p>{{index . 5}}</p>
</div>{{end}}
</div>
{{with .StampNote}}<p class="stamp-note">{{.}}</p>{{end}}
<h2>{{.ChecksHeading}}</h2>
<table class="checks">
{{if .ColDetail}}<tr><th class="name">{{.ColCheck}}</th><th class="result">{{.ColResult}}</th><th>{{.ColDetail}}</th></tr>
{{else}}<tr><th class="name">{{.ColCheck}}</th><th class="result">{{.ColResult}}</th><th class="name">{{.ColCheck}}</th><th class="result">{{.ColResult}}</th></tr>
{{end}}{{$cols := 4}}{{if .ColDetail}}{{$cols = 3}}{{end}}{{$detail := .ColDetail}}{{range .Grid}}{{if .Group}}<tr class="group"><td colspan="{{$cols}}">{{.Group}}</td></tr>
{{else}}<tr>{{range .Cells}}<td class="name">{{.Name}}{{if ne .Name .Code}} <span class="code">{{.Code}}</span>{{end}}</td><td class="result {{.Class}}">{{.Status}}</td>{{if $detail}}<td>{{.Detail}}</td>{{end}}{{end}}</tr>
{{end}}{{end}}</table>
</section>{{end}}
</body>
</html>
`))
