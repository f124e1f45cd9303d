package verify

// SetReportHook lets the external tests see every report Verify returns.
func SetReportHook(f func(*Report)) { reportHook = f }

// SetAnchorTables turns the trust anchors' precomputed tables on or off (on
// by default) for the benchmarks; it returns the previous setting.
func SetAnchorTables(on bool) bool {
	was := !noAnchorTables
	noAnchorTables = !on
	return was
}

// Exported for the fuzz targets of the long-term parsers.
var (
	ParseCertificateValues = parseCertificateValues
	ParseCertificateRefs   = parseCertificateRefs
	ParseRevocationValues  = parseRevocationValues
	ParseRevocationRefs    = parseRevocationRefs
)

// HashRef is an OtherHash of the references, for the fuzz targets.
type HashRef = hashRef
