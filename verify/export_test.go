package verify

// SetReportHook lets the external tests see every report Verify returns.
func SetReportHook(f func(*Report)) { reportHook = f }

// Exported for the fuzz targets of the long-term parsers.
var (
	ParseCertificateValues = parseCertificateValues
	ParseCertificateRefs   = parseCertificateRefs
)
