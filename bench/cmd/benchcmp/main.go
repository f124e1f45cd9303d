// Command benchcmp is the comparison step of kep's `make bench` (bench/run.sh).
//
// It reads the output of kep's Go benchmarks (`go test -bench`) and of the
// OpenSSL + gost-engine harness (bench/openssl/gostbench.c), both measured in
// the same run, and prints one line per operation:
//
//	op=<name> kep=<value> openssl=<value> ratio=<kep/openssl>
//
// Values are MB/s (10^6 bytes/s) for hashes and operations per second for the
// rest, so a ratio above 1 means kep is faster. A side with no measurement
// prints "-" and so does the ratio. Lines starting with "#" are notes: units,
// and why a measurement is missing.
//
// Usage:
//
//	benchcmp -go go-bench.txt [-go more.txt] -openssl harness.txt
//	benchcmp -plan    # "<op>\t<package>\t<-test.bench regexp>" per operation, for run.sh
//
// The exit status is 1 when nothing at all was measured, 2 on a usage or read
// error, 0 otherwise (missing measurements are reported as notes).
//
// Adding an operation: add an opSpec to operations() below (its Name must be
// the op= name the harness prints, Pkg and Bench locate kep's Go benchmark),
// and add a row with the same name to the ops[] table of gostbench.c. run.sh
// needs no change: it measures the operations -plan prints, each first with
// kep's benchmark and then with the harness. An opSpec with an empty Pkg is an
// operation kep has no benchmark for yet (kep=-).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Units of measurement; both are "higher is better".
const (
	unitMBs = "MB/s"
	unitOps = "ops/s"
)

// opSpec is one operation compared between kep and OpenSSL.
type opSpec struct {
	Name  string // the operation's name: op=<Name> here and in the harness output
	Pkg   string // Go package with kep's benchmark, relative to the module root
	Bench string // kep's benchmark without "Benchmark", with its sub-benchmark path
	Unit  string // unitMBs (from b.SetBytes) or unitOps (from ns/op)
	// Note, when set, is printed beside the figure (note=… at the end of
	// the op= line): what makes the two sides not alike.
	Note string
}

// paramSets are the GOST R 34.10-2012 parameter sets measured, by kep's names.
var paramSets = []string{
	"cryptopro-a", "cryptopro-b", "cryptopro-c", "cryptopro-xcha", "cryptopro-xchb",
	"tc26-256-a", "tc26-256-b", "tc26-256-c", "tc26-256-d",
	"tc26-512-a", "tc26-512-b", "tc26-512-c",
}

// cmsChains are the chains of the cms-verify/<name> operations: a full
// detached CMS verification (parse, chain of two, both signatures, 32-byte
// content hashed) on fixtures bench/run.sh makes once per run and gives both
// sides (KEP_BENCH_CMS_DIR, gostbench -cms).
var cmsChains = []string{
	"gost256", // GOST-256 (CryptoPro-A) root -> GOST-256 leaf
	"gost512", // GOST-256 root -> GOST-512 (tc26-512-A) leaf
	"rsa",     // RSA-2048 root -> RSA-2048 leaf
}

// warmCMSChains are the chains also measured with the trust anchor's table
// kept (the GOST roots; RSA has no table).
var warmCMSChains = []string{"gost256", "gost512"}

// operations lists the compared operations in the order they are printed.
func operations() []opSpec {
	specs := []opSpec{
		{Name: "streebog256", Pkg: "./gost/streebog", Bench: "Streebog256", Unit: unitMBs},
		{Name: "streebog512", Pkg: "./gost/streebog", Bench: "Streebog512", Unit: unitMBs},
		// Symmetric ciphers on 1 MiB buffers: GOST R 34.13-2015 CTR with
		// Magma and Kuznyechik, GOST 28147-89 CFB with CryptoPro key
		// meshing (CryptoPro-A, OpenSSL's gost89).
		{Name: "magma-ctr", Pkg: "./gost/mode", Bench: "CTR/magma", Unit: unitMBs},
		{Name: "kuznyechik-ctr", Pkg: "./gost/mode", Bench: "CTR/kuznyechik", Unit: unitMBs},
		{Name: "gost89-cfb", Pkg: "./gost/gost28147", Bench: "CFB", Unit: unitMBs},
	}
	for _, ps := range paramSets {
		specs = append(specs,
			opSpec{Name: "sign/" + ps, Pkg: "./gost/gost3410", Bench: "Sign/" + ps, Unit: unitOps},
			opSpec{Name: "verify/" + ps, Pkg: "./gost/gost3410", Bench: "Verify/" + ps, Unit: unitOps})
	}
	// Both sides verify from scratch: kep's benchmark turns off the trust
	// anchor's precomputed table (OpenSSL has none).
	for _, c := range cmsChains {
		specs = append(specs, opSpec{Name: "cms-verify/" + c, Pkg: "./verify", Bench: "CMSVerify/" + c, Unit: unitOps})
	}
	// The same verifications as a long-running verifier does them, the
	// root key's precomputed table kept between them; OpenSSL's figure is
	// the same CMS_verify as above (its best equivalent: it has no table).
	for _, c := range warmCMSChains {
		specs = append(specs, opSpec{Name: "cms-verify-warm/" + c, Pkg: "./verify", Bench: "CMSVerifyWarm/" + c, Unit: unitOps,
			Note: "warm anchor: kep keeps the root key's precomputed table between verifications (a long-running verifier); openssl has no such table, its figure is the same CMS_verify as cms-verify/" + c})
	}
	// kep's CAdES-X Long Type 1, made and verified offline by kep's
	// benchmark, which writes the fixture the harness then reads.
	specs = append(specs, opSpec{Name: "cms-verify/xl1", Pkg: "./sign", Bench: "XL1Verify", Unit: unitOps,
		Note: "openssl checks less: CMS_verify checks the signature and the chain only; kep also checks both time-stamps with their TSA chains, the references against the values and the embedded OCSP response and CRL; kep's root key table is warm (kept between verifications, as in cms-verify-warm)"})
	return specs
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// fileList is a repeatable file-name flag.
type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(s string) error { *f = append(*f, s); return nil }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchcmp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var goFiles, sslFiles fileList
	fs.Var(&goFiles, "go", "file with `go test -bench` output (repeatable)")
	fs.Var(&sslFiles, "openssl", "file with gostbench output (repeatable)")
	plan := fs.Bool("plan", false, "print `<op>\\t<package>\\t<-test.bench regexp>` lines for run.sh and exit")
	only := fs.String("ops", "", "an extended `regexp` of the op names reported (the whole name must match; default all)")
	var runFiles fileList
	fs.Var(&runFiles, "run", "`GO.txt:OPENSSL.txt` of one run (repeatable): with two or more, also print each ratio's spread over the runs")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "benchcmp: unexpected arguments %q\n", fs.Args())
		return 2
	}
	for _, rf := range runFiles {
		if !strings.Contains(rf, ":") {
			fmt.Fprintf(stderr, "benchcmp: -run %q: want GO.txt:OPENSSL.txt\n", rf)
			return 2
		}
	}
	specs := operations()
	if *only != "" {
		re, err := regexp.Compile("^(?:" + *only + ")$")
		if err != nil {
			fmt.Fprintf(stderr, "benchcmp: -ops: %v\n", err)
			return 2
		}
		specs = slices.DeleteFunc(specs, func(s opSpec) bool { return !re.MatchString(s.Name) })
	}
	if *plan {
		for _, s := range specs {
			fmt.Fprintln(stdout, planLine(s))
		}
		return 0
	}

	kep := newResults()
	for _, name := range goFiles {
		if err := readFile(name, func(r io.Reader) error { return parseGo(r, specs, kep) }); err != nil {
			fmt.Fprintf(stderr, "benchcmp: %v\n", err)
			return 2
		}
	}
	ssl := newResults()
	for _, name := range sslFiles {
		if err := readFile(name, func(r io.Reader) error { return parseHarness(r, ssl) }); err != nil {
			fmt.Fprintf(stderr, "benchcmp: %v\n", err)
			return 2
		}
	}
	if !report(stdout, specs, kep, ssl) {
		return 1
	}
	if len(runFiles) >= 2 {
		var runs [][2]*results
		for _, rf := range runFiles {
			goName, sslName, ok := strings.Cut(rf, ":")
			if !ok {
				fmt.Fprintf(stderr, "benchcmp: -run %q: want GO.txt:OPENSSL.txt\n", rf)
				return 2
			}
			k, o := newResults(), newResults()
			if err := readFile(goName, func(r io.Reader) error { return parseGo(r, specs, k) }); err != nil {
				fmt.Fprintf(stderr, "benchcmp: %v\n", err)
				return 2
			}
			if err := readFile(sslName, func(r io.Reader) error { return parseHarness(r, o) }); err != nil {
				fmt.Fprintf(stderr, "benchcmp: %v\n", err)
				return 2
			}
			runs = append(runs, [2]*results{k, o})
		}
		spread(stdout, specs, runs)
	}
	return 0
}

// spread prints, per operation measured on both sides in at least two
// runs, the minimum, median and maximum of the run's ratios (each run's kep
// figure over the same run's OpenSSL figure) and the median of each side:
//
//	spread op=<name> runs=<n> ratio-min=… ratio-median=… ratio-max=… kep-median=… openssl-median=…
func spread(w io.Writer, specs []opSpec, runs [][2]*results) {
	fmt.Fprintf(w, "# spread over %d runs: each run's ratio kep/openssl, min/median/max\n", len(runs))
	median := func(v []float64) float64 {
		s := append([]float64(nil), v...)
		sort.Float64s(s)
		if len(s)%2 == 1 {
			return s[len(s)/2]
		}
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	for _, sp := range specs {
		var ratios, ks, ss []float64
		unit := sp.Unit
		for _, r := range runs {
			kv, kok := r[0].byName[sp.Name].value()
			sv, sok := r[1].byName[sp.Name].value()
			if !kok || !sok || r[0].byName[sp.Name].Unit != r[1].byName[sp.Name].Unit {
				continue
			}
			unit = r[0].byName[sp.Name].Unit
			ratios, ks, ss = append(ratios, kv/sv), append(ks, kv), append(ss, sv)
		}
		if len(ratios) < 2 {
			continue
		}
		f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
		fmt.Fprintf(w, "spread op=%s runs=%d ratio-min=%s ratio-median=%s ratio-max=%s kep-median=%s openssl-median=%s\n",
			sp.Name, len(ratios), f(slices.Min(ratios)), f(median(ratios)), f(slices.Max(ratios)),
			formatValue(median(ks), unit), formatValue(median(ss), unit))
	}
}

func readFile(name string, parse func(io.Reader) error) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := parse(f); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// ---- the benchmark plan ----

// planLine is the line -plan prints for a spec: the operation, kep's package
// and a -test.bench pattern that selects exactly its benchmark, tab-separated,
// "-" for the last two when kep has no benchmark for it (Pkg == "").
// run.sh runs the package's test binary with the pattern, then the harness
// for the operation, so the two sides of a ratio are measured back to back.
func planLine(s opSpec) string {
	if s.Pkg == "" || s.Bench == "" {
		return s.Name + "\t-\t-"
	}
	parts := strings.Split(s.Bench, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	parts[0] = "^Benchmark" + strings.TrimPrefix(parts[0], "^")
	return s.Name + "\t" + s.Pkg + "\t" + strings.Join(parts, "/")
}

// ---- measurements ----

// measurement accumulates one operation's results (several with -count > 1).
type measurement struct {
	Unit  string
	Sum   float64 // sum of the rates, for the mean
	N     int
	Note  string // why there is no value, when N == 0
	Label string // where it came from, for notes (e.g. BenchmarkSign/cryptopro-a in pkg)
}

func (m *measurement) value() (float64, bool) {
	if m == nil || m.N == 0 {
		return 0, false
	}
	return m.Sum / float64(m.N), true
}

// results maps an operation name to its measurement, remembering the order.
type results struct {
	byName map[string]*measurement
	order  []string
	notes  []string // file-level notes (harness header lines)
}

func newResults() *results {
	return &results{byName: map[string]*measurement{}}
}

func (r *results) get(name string) *measurement {
	m, ok := r.byName[name]
	if !ok {
		m = &measurement{}
		r.byName[name] = m
		r.order = append(r.order, name)
	}
	return m
}

func (r *results) add(name, unit string, v float64) {
	m := r.get(name)
	if m.N > 0 && m.Unit != unit {
		return // keep the first unit; a mix cannot be averaged
	}
	m.Unit = unit
	m.Sum += v
	m.N++
}

// ---- `go test -bench` output ----

var procSuffix = regexp.MustCompile(`-[0-9]+$`)

// goOpName maps a benchmark name as printed by `go test` (e.g.
// "BenchmarkSign/cryptopro-a-2") to its spec when the benchmark is known, and
// else to an operation name by the rule "lower-case the top-level name". The
// second result is the benchmark's name without the -GOMAXPROCS suffix.
func goOpName(printed string, byBench map[string]opSpec) (opSpec, string) {
	name := strings.TrimPrefix(printed, "Benchmark")
	if s, ok := byBench[name]; ok {
		return s, "Benchmark" + name
	}
	name = procSuffix.ReplaceAllString(name, "")
	if s, ok := byBench[name]; ok {
		return s, "Benchmark" + name
	}
	t, rest, hasSub := strings.Cut(name, "/")
	op := strings.ToLower(t)
	if hasSub {
		op += "/" + rest
	}
	return opSpec{Name: op}, "Benchmark" + name
}

// parseGo reads `go test -bench` output into res. A result line is
//
//	BenchmarkName[-P] <iterations> <value> <unit> [<value> <unit>]...
//
// possibly with the name on a line of its own when the benchmark logged
// something; non-benchmark lines are ignored.
func parseGo(r io.Reader, specs []opSpec, res *results) error {
	byBench := map[string]opSpec{}
	for _, s := range specs {
		byBench[s.Bench] = s
	}
	pkg := ""
	pending := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		name := ""
		switch {
		case strings.HasPrefix(f[0], "Benchmark"):
			name, f = f[0], f[1:]
			if len(f) == 0 {
				pending = name
				continue
			}
		case pending != "":
			name = pending
		default:
			continue
		}
		if _, err := strconv.ParseInt(f[0], 10, 64); err != nil || len(f) < 3 {
			continue // not a result line (e.g. "--- FAIL: ...", log output)
		}
		pending = ""
		nsop, mbs := math.NaN(), math.NaN()
		for i := 1; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				nsop = v
			case "MB/s":
				mbs = v
			}
		}
		spec, bench := goOpName(name, byBench)
		op, want := spec.Name, spec.Unit
		m := res.get(op)
		if m.Label == "" {
			m.Label = bench
			if pkg != "" {
				m.Label += " in " + pkg
			}
		}
		switch {
		case want == unitMBs && math.IsNaN(mbs):
			m.Note = "reports no MB/s (does it call b.SetBytes?)"
		case want == unitMBs || (want == "" && !math.IsNaN(mbs)):
			res.add(op, unitMBs, mbs)
		case nsop > 0:
			res.add(op, unitOps, 1e9/nsop)
		default:
			m.Note = "reports no ns/op"
		}
	}
	return sc.Err()
}

// ---- harness output ----

// parseHarness reads gostbench output: lines of space-separated key=value
// fields, "note=" last and running to the end of the line; "#" lines are
// comments, kept as file-level notes.
func parseHarness(r io.Reader, res *results) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if c, ok := strings.CutPrefix(line, "#"); ok {
			res.notes = append(res.notes, strings.TrimSpace(c))
			continue
		}
		if !strings.HasPrefix(line, "op=") {
			continue
		}
		kv := parseFields(line)
		op := kv["op"]
		if op == "" {
			continue
		}
		m := res.get(op)
		v, err := strconv.ParseFloat(kv["value"], 64)
		switch {
		case err == nil && v > 0 && !math.IsInf(v, 0):
			res.add(op, kv["unit"], v)
		case kv["note"] != "":
			m.Note = kv["note"]
		default:
			m.Note = "no value in " + strconv.Quote(line)
		}
	}
	return sc.Err()
}

func parseFields(line string) map[string]string {
	kv := map[string]string{}
	for line != "" {
		line = strings.TrimLeft(line, " \t")
		if rest, ok := strings.CutPrefix(line, "note="); ok {
			kv["note"] = strings.TrimSpace(rest)
			break
		}
		field, rest := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			field, rest = line[:i], line[i+1:]
		}
		if k, v, ok := strings.Cut(field, "="); ok {
			kv[k] = v
		}
		line = rest
	}
	return kv
}

// ---- the report ----

// formatValue prints a rate: MB/s with one decimal, ops/s as an integer
// (three significant digits below 100).
func formatValue(v float64, unit string) string {
	switch {
	case unit == unitMBs:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// report prints the comparison and the notes; it returns whether anything
// at all was measured.
func report(w io.Writer, specs []opSpec, kep, ssl *results) bool {
	type row struct {
		name  string
		unit  string
		label string // kep's benchmark, for notes
		pkg   string
		note  string // printed beside the figure
	}
	var rows []row
	known := map[string]bool{}
	for _, s := range specs {
		rows = append(rows, row{s.Name, s.Unit, "Benchmark" + s.Bench + " in " + s.Pkg, s.Pkg, s.Note})
		known[s.Name] = true
	}
	for _, res := range []*results{kep, ssl} {
		for _, name := range res.order {
			if !known[name] {
				known[name] = true
				rows = append(rows, row{name: name})
			}
		}
	}

	var mbNames []string
	var lines, notes []string
	measured := false
	missingByPkg := map[string][]string{}
	var pkgOrder []string
	sslMissing := 0
	for _, r := range rows {
		km, sm := kep.byName[r.name], ssl.byName[r.name]
		kv, kok := km.value()
		sv, sok := sm.value()
		unit := r.unit
		if unit == "" {
			if kok {
				unit = km.Unit
			} else if sok {
				unit = sm.Unit
			}
		}
		if kok && sok && km.Unit != sm.Unit {
			notes = append(notes, fmt.Sprintf("%s: units differ (kep %s, openssl %s): not compared", r.name, km.Unit, sm.Unit))
			sok = false
		}
		if unit == unitMBs {
			mbNames = append(mbNames, r.name)
		}
		ks, ss, ratio := "-", "-", "-"
		if kok {
			ks = formatValue(kv, unit)
			measured = true
		}
		if sok {
			ss = formatValue(sv, unit)
			measured = true
		}
		if kok && sok {
			ratio = strconv.FormatFloat(kv/sv, 'f', 2, 64)
		}
		line := fmt.Sprintf("op=%s kep=%s openssl=%s ratio=%s", r.name, ks, ss, ratio)
		if r.note != "" {
			line += " note=" + r.note
		}
		lines = append(lines, line)

		switch {
		case kok:
		case km != nil && km.Note != "":
			notes = append(notes, fmt.Sprintf("kep %s: %s %s", r.name, km.Label, km.Note))
		case r.pkg != "":
			if _, ok := missingByPkg[r.pkg]; !ok {
				pkgOrder = append(pkgOrder, r.pkg)
			}
			missingByPkg[r.pkg] = append(missingByPkg[r.pkg], r.label)
		default:
			notes = append(notes, fmt.Sprintf("kep %s: no kep benchmark is mapped to it (Pkg and Bench of its opSpec in bench/cmd/benchcmp)", r.name))
		}
		switch {
		case sok:
		case sm != nil && sm.Note != "":
			notes = append(notes, fmt.Sprintf("openssl %s: %s", r.name, sm.Note))
		case len(ssl.order) > 0:
			notes = append(notes, fmt.Sprintf("openssl %s: not measured by the harness (no row in gostbench.c)", r.name))
		default:
			sslMissing++
		}
	}
	for _, pkg := range pkgOrder {
		missing := missingByPkg[pkg]
		total := 0
		for _, s := range specs {
			if s.Pkg == pkg {
				total++
			}
		}
		if len(missing) == total {
			notes = append(notes, fmt.Sprintf("kep: no results from %s (package or benchmarks not there yet, or its tests do not build)", pkg))
			continue
		}
		for _, m := range missing {
			notes = append(notes, "kep: no result for "+m)
		}
	}
	if sslMissing > 0 {
		notes = append(notes, "openssl: no harness results at all (harness not run or failed; see above)")
	}

	header := "# kep vs OpenSSL"
	for _, n := range ssl.notes {
		if v, ok := strings.CutPrefix(n, "gostbench: "); ok {
			header += " (" + v + ")"
			break
		}
	}
	fmt.Fprintln(w, header+"; ratio = kep/openssl, above 1 means kep is faster")
	if len(mbNames) > 0 {
		sort.Strings(mbNames)
		fmt.Fprintf(w, "# units: MB/s for %s; ops/s for the others\n", strings.Join(mbNames, ", "))
	} else {
		fmt.Fprintln(w, "# units: ops/s")
	}
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	for _, n := range notes {
		fmt.Fprintln(w, "# note: "+n)
	}
	if !measured {
		fmt.Fprintln(w, "# nothing was measured")
	}
	return measured
}
