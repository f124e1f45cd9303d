package hint

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/kepkit/kep/internal/demopki"
)

// TestDetect reads the files the demo makes and a signature made with it, and
// a few documents people give by mistake.
func TestDetect(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	m, err := demopki.Create(dir, demopki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := os.ReadFile(m.Path(m.CA))
	caBlock, _ := pem.Decode(caPEM)
	crl, _ := os.ReadFile(m.Path(m.CRL))
	for _, c := range []struct {
		name string
		data []byte
		want Kind
	}{
		{"ca.pem", caPEM, Certificate},
		{"ca.der", caBlock.Bytes, Certificate},
		{"ca.crl", crl, CRL},
		{"crl.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl}), CRL},
		// SEQUENCE (indefinite) { OID signedData, [0] … } as BER signers write it.
		{"ber cms", []byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0, 0x80}, CMS},
		{"der cms", []byte{0x30, 0x82, 0x01, 0x00, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}, CMS},
		{"pem cms", pem.EncodeToMemory(&pem.Block{Type: "CMS", Bytes: []byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}}), CMS},
		{"other oid", []byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x02}, Unknown},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3"), PDF},
		{"docx", []byte("PK\x03\x04\x14\x00"), ZIP},
		{"text", []byte("договор\n"), Text},
		{"binary", []byte{0xff, 0xfe, 0x00, 0x81}, Unknown},
		{"empty", nil, Unknown},
		{"truncated", []byte{0x30, 0x84}, Unknown},
	} {
		if got := Detect(c.data); got != c.want {
			t.Errorf("%s: %v (%s), want %v (%s)", c.name, got, got.Describe(), c.want, c.want.Describe())
		}
	}
}
