// Package demopki makes the demo PKI `kep demo init` installs: a GOST CA
// with a CRL, a person's qualified-looking GOST-256 certificate, an
// organisation's GOST-512 one and an RSA one under an RSA CA, with their keys
// in a software token protected by the documented demo PIN. Everything is
// made in Go (no OpenSSL needed on the user's machine).
//
// The identifiers (СНИЛС, ИНН, ОГРН) are invented but carry valid check
// digits, so the certificates look like real qualified ones to every check
// except the trust anchor: the demo CA is not accredited and must never be
// trusted outside the demo.
package demopki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/pkcs11/soft"
)

// PIN is the demo token's PIN. It protects nothing of value: the demo keys
// certify nobody.
const PIN = "12345678"

// DefaultCRLURL is where the demo portal (`kep demo`) serves the CRL.
const DefaultCRLURL = "http://127.0.0.1:8090/demo/ca.crl"

// File names in the demo directory.
const (
	ManifestFile = "demo.json"
	TokenDir     = "token"
	CAFile       = "ca.pem" // both CA certificates
	CRLFile      = "ca.crl" // the GOST CA's CRL, DER
	RSACRLFile   = "rsa-ca.crl"
	ReadmeFile   = "README.txt"
)

// ErrExists: the directory already holds a demo (use Options.Force).
var ErrExists = errors.New("demopki: a demo PKI is already there")

// Options tune Create. The zero value is the default demo.
type Options struct {
	// CRLURL is the CRL distribution point written into the certificates
	// (DefaultCRLURL when empty).
	CRLURL string
	// Force replaces an existing demo.
	Force bool
	// Now is the time of issue (time.Now when zero).
	Now  time.Time
	Rand io.Reader
}

// Identity is one certificate of the demo.
type Identity struct {
	Role         string `json:"role"` // "person", "organization", "rsa"
	Subject      string `json:"subject"`
	Thumbprint   string `json:"thumbprint"`
	KeyID        string `json:"keyId"` // CKA_ID, hex
	KeyAlgorithm string `json:"keyAlgorithm"`
}

// Manifest describes a demo directory (demo.json).
type Manifest struct {
	Dir        string     `json:"-"`
	Token      string     `json:"token"`
	CA         string     `json:"ca"`
	CRL        string     `json:"crl"`
	RSACRL     string     `json:"rsaCrl"`
	CRLURL     string     `json:"crlUrl"`
	PIN        string     `json:"pin"`
	Created    time.Time  `json:"created"`
	Identities []Identity `json:"identities"`
}

// Path returns a manifest path joined to the demo directory.
func (m *Manifest) Path(name string) string { return filepath.Join(m.Dir, name) }

// CRLFile returns the file of the demo directory that holds the CRL its
// certificates name at url (the GOST CA's or the RSA CA's), for a user whose
// portal, which serves it there, is not running.
func (m *Manifest) CRLFile(url string) (string, bool) {
	if url == "" {
		return "", false
	}
	if url == m.CRLURL {
		return m.Path(m.CRL), true
	}
	if base, ok := strings.CutSuffix(m.CRLURL, CRLFile); ok && url == base+RSACRLFile {
		return m.Path(m.RSACRL), true
	}
	return "", false
}

// Load reads the manifest of the demo in dir.
func Load(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	m.Dir = dir
	return &m, nil
}

// Create makes the demo in dir. It builds everything in a sibling
// directory first and moves it in place at the end, so a failure leaves
// dir as it was.
func Create(dir string, opts Options) (*Manifest, error) {
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil && !opts.Force {
		return nil, fmt.Errorf("%w in %s", ErrExists, dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.CRLURL == "" {
		opts.CRLURL = DefaultCRLURL
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, ".kep-demo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	m, err := build(tmp, opts)
	if err != nil {
		return nil, err
	}
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return nil, err
	}
	if old != "" {
		os.RemoveAll(old)
	}
	m.Dir = dir
	return m, nil
}

// issuer is a CA being built.
type issuer struct {
	tmpl *x509.Certificate
	key  crypto.Signer
	der  []byte
}

func build(dir string, opts Options) (*Manifest, error) {
	now := opts.Now.UTC().Truncate(time.Second)
	gost256, err := gost3410.GenerateKey(gost3410.TC26256A, opts.Rand)
	if err != nil {
		return nil, err
	}
	mk := func(tmpl *x509.Certificate, parent *issuer, key crypto.Signer) (*issuer, error) {
		p, pkey := tmpl, key
		if parent != nil {
			p, pkey = parent.tmpl, parent.key
		}
		der, err := certs.CreateCertificate(opts.Rand, tmpl, p, key.Public(), pkey)
		if err != nil {
			return nil, fmt.Errorf("demopki: %s: %w", tmpl.Subject.CommonName, err)
		}
		parsed, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		tmpl.SubjectKeyId = parsed.SubjectKeyId
		return &issuer{tmpl: tmpl, key: key, der: der}, nil
	}
	serial := func() *big.Int {
		n, _ := rand.Int(opts.Rand, new(big.Int).Lsh(big.NewInt(1), 120))
		return n
	}
	caExts, err := signToolExtensions(true)
	if err != nil {
		return nil, err
	}
	gostCA, err := mk(&x509.Certificate{
		SerialNumber: serial(),
		RawSubject: rdn(
			attr{oidC, "RU", 0}, attr{oidST, "77 г. Москва", 0}, attr{oidL, "Москва", 0},
			attr{oidO, "Демо УЦ kep (не аккредитован)", 0}, attr{oidCN, "Демо УЦ kep", 0},
			attr{certs.OIDOGRN, withOGRNCheck("102770000000"), numeric}, attr{certs.OIDINNLE, withINN10Check("770000000"), numeric},
		),
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, MaxPathLen: 0, MaxPathLenZero: true,
		KeyUsage:        x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		ExtraExtensions: caExts[:1], // subjectSignTool
	}, nil, gost256)
	if err != nil {
		return nil, err
	}
	rsaCAKey, err := rsa.GenerateKey(opts.Rand, 2048)
	if err != nil {
		return nil, err
	}
	rsaCA, err := mk(&x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "kep demo RSA CA", Organization: []string{"kep demo"}, Country: []string{"RU"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, rsaCAKey)
	if err != nil {
		return nil, err
	}

	leafExts, err := signToolExtensions(false)
	if err != nil {
		return nil, err
	}
	leaf := func(subject []byte, ekus ...x509.ExtKeyUsage) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber: serial(), RawSubject: subject,
			NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
			ExtKeyUsage:           ekus,
			CRLDistributionPoints: []string{opts.CRLURL},
			Policies:              []x509.OID{policyKC1},
			ExtraExtensions:       leafExts,
		}
	}
	personKey, err := gost3410.GenerateKey(gost3410.TC26256A, opts.Rand)
	if err != nil {
		return nil, err
	}
	person, err := mk(leaf(rdn(
		attr{oidC, "RU", 0}, attr{oidST, "77 г. Москва", 0}, attr{oidL, "Москва", 0},
		attr{certs.OIDSurname, "Иванов", 0}, attr{certs.OIDGivenName, "Иван Иванович", 0},
		attr{oidCN, "Иванов Иван Иванович", 0},
		attr{certs.OIDSNILS, withSNILSCheck("112233445"), numeric},
		attr{certs.OIDINN, withINN12Check("7701234567"), numeric},
		attr{certs.OIDEmailAddress, "ivanov@example.ru", ia5},
	), x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection), gostCA, personKey)
	if err != nil {
		return nil, err
	}
	orgKey, err := gost3410.GenerateKey(gost3410.TC26512A, opts.Rand)
	if err != nil {
		return nil, err
	}
	org, err := mk(leaf(rdn(
		attr{oidC, "RU", 0}, attr{oidST, "77 г. Москва", 0}, attr{oidL, "Москва", 0},
		attr{certs.OIDStreet, "ул. Цветочная, д. 1", 0},
		attr{oidO, "ООО «Ромашка»", 0}, attr{oidCN, "ООО «Ромашка»", 0},
		attr{certs.OIDTitle, "Генеральный директор", 0},
		attr{certs.OIDSurname, "Петрова", 0}, attr{certs.OIDGivenName, "Мария Сергеевна", 0},
		attr{certs.OIDOGRN, withOGRNCheck("102770012345"), numeric},
		attr{certs.OIDINNLE, withINN10Check("770123456"), numeric},
		attr{certs.OIDSNILS, withSNILSCheck("123456789"), numeric},
		attr{certs.OIDINN, withINN12Check("7702345678"), numeric},
	), x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection), gostCA, orgKey)
	if err != nil {
		return nil, err
	}
	rsaKey, err := rsa.GenerateKey(opts.Rand, 2048)
	if err != nil {
		return nil, err
	}
	rsaLeaf := leaf(nil, x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection)
	rsaLeaf.Subject = pkix.Name{CommonName: "Сидоров Пётр (RSA)", Country: []string{"RU"}}
	rsaLeaf.Policies, rsaLeaf.ExtraExtensions = nil, nil
	rsaLeaf.CRLDistributionPoints = nil
	if base, ok := strings.CutSuffix(opts.CRLURL, CRLFile); ok {
		rsaLeaf.CRLDistributionPoints = []string{base + RSACRLFile}
	}
	rsaID, err := mk(rsaLeaf, rsaCA, rsaKey)
	if err != nil {
		return nil, err
	}

	crl := func(ca *issuer) ([]byte, error) {
		return certs.CreateCRL(opts.Rand, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now.Add(-time.Hour),
			NextUpdate: now.AddDate(1, 0, 0)}, ca.tmpl, ca.key)
	}
	gostCRL, err := crl(gostCA)
	if err != nil {
		return nil, err
	}
	rsaCRL, err := crl(rsaCA)
	if err != nil {
		return nil, err
	}

	m := &Manifest{Token: TokenDir, CA: CAFile, CRL: CRLFile, RSACRL: RSACRLFile, CRLURL: opts.CRLURL, PIN: PIN, Created: now}
	tokDir := filepath.Join(dir, TokenDir)
	if err := soft.Init(tokDir, []byte(PIN), "kep demo"); err != nil {
		return nil, err
	}
	tok, err := soft.Open(tokDir)
	if err != nil {
		return nil, err
	}
	defer tok.Close()
	if err := tok.Login([]byte(PIN)); err != nil {
		return nil, err
	}
	for _, id := range []struct {
		role, label string
		leaf, ca    *issuer
	}{
		{"person", "Иванов И. И.", person, gostCA},
		{"organization", "ООО «Ромашка»", org, gostCA},
		{"rsa", "Сидоров П. (RSA)", rsaID, rsaCA},
	} {
		leafCert, err := certs.ParseCertificate(id.leaf.der)
		if err != nil {
			return nil, err
		}
		caCert, err := certs.ParseCertificate(id.ca.der)
		if err != nil {
			return nil, err
		}
		obj, err := tok.ImportKey(id.leaf.key, id.label, leafCert, caCert)
		if err != nil {
			return nil, err
		}
		m.Identities = append(m.Identities, Identity{Role: id.role, Subject: leafCert.SubjectString(),
			Thumbprint: leafCert.Thumbprint(), KeyID: hex.EncodeToString(obj.ID), KeyAlgorithm: leafCert.KeyAlgorithm})
	}
	caPEM := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: gostCA.der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rsaCA.der})...)
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{CAFile, caPEM}, {CRLFile, gostCRL}, {RSACRLFile, rsaCRL},
		{ReadmeFile, []byte(readme(m))}, {ManifestFile, append(manifest, '\n')},
	} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func readme(m *Manifest) string {
	s := "Демонстрационная ИОК kep / kep demo PKI\n\n" +
		"Это ДЕМОНСТРАЦИОННЫЕ ключи и сертификаты: «Демо УЦ kep» не аккредитован, и\n" +
		"сертификаты никого не удостоверяют. Не добавляйте ca.pem в доверенные нигде,\n" +
		"кроме демо-портала kep.\n\n" +
		"These are DEMO keys and certificates. Never trust ca.pem outside the kep demo.\n\n" +
		"Software token: " + m.Token + "\nDemo PIN (ПИН-код): " + m.PIN + "\n\nCertificates:\n"
	for _, id := range m.Identities {
		s += fmt.Sprintf("  %-12s %s\n               %s\n", id.Role, id.Subject, id.Thumbprint)
	}
	return s + "\nkep demo      # the demo portal using this PKI\n"
}

// policyKC1 is the КС1 signing tool class (1.2.643.100.113.1).
var policyKC1 = func() x509.OID {
	oid, err := x509.OIDFromInts([]uint64{1, 2, 643, 100, 113, 1})
	if err != nil {
		panic(err)
	}
	return oid
}()

var (
	oidC  = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidST = asn1.ObjectIdentifier{2, 5, 4, 8}
	oidL  = asn1.ObjectIdentifier{2, 5, 4, 7}
	oidO  = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
)

// String encodings of attribute values.
const (
	numeric = asn1.TagNumericString
	ia5     = asn1.TagIA5String
)

type attr struct {
	oid   asn1.ObjectIdentifier
	value string
	tag   int // 0: PrintableString when possible, else UTF8String
}

// rdn encodes a subject name, one attribute per RDN, with the string types
// FSB order 795 wants (NumericString for the registration numbers).
func rdn(attrs ...attr) []byte {
	var seq pkix.RDNSequence
	for _, a := range attrs {
		var v any = a.value
		if a.tag != 0 {
			v = asn1.RawValue{Tag: a.tag, Bytes: []byte(a.value)}
		} else if !printable(a.value) {
			v = asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(a.value)}
		}
		seq = append(seq, pkix.RelativeDistinguishedNameSET{{Type: a.oid, Value: v}})
	}
	der, err := asn1.Marshal(seq)
	if err != nil {
		panic(err) // the attributes above always encode
	}
	return der
}

func printable(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == ' ' || r == '\'' || r == '(' ||
			r == ')' || r == '+' || r == ',' || r == '-' || r == '.' || r == '/' || r == ':' || r == '=' || r == '?') {
			return false
		}
	}
	return true
}

// signToolExtensions are subjectSignTool (and, for leaves, issuerSignTool and
// identificationKind) as FSB order 795 requires.
func signToolExtensions(ca bool) ([]pkix.Extension, error) {
	subj, err := asn1.MarshalWithParams("kep (демонстрационное СКЗИ)", "utf8")
	if err != nil {
		return nil, err
	}
	exts := []pkix.Extension{{Id: certs.OIDSubjectSignTool, Value: subj}}
	if ca {
		return exts, nil
	}
	iss, err := asn1.Marshal(struct {
		SignTool, CATool, SignToolCert, CAToolCert string `asn1:"utf8"`
	}{"kep (демонстрационное СКЗИ)", "kep demo init", "нет сертификата соответствия (демо)", "нет сертификата соответствия (демо)"})
	if err != nil {
		return nil, err
	}
	kind, err := asn1.Marshal(0) // personal presence
	if err != nil {
		return nil, err
	}
	return append(exts, pkix.Extension{Id: certs.OIDIssuerSignTool, Value: iss}, pkix.Extension{Id: certs.OIDIdentificationKind, Value: kind}), nil
}

// Check digits of the Russian registration numbers.

func digits(s string) []int {
	d := make([]int, len(s))
	for i, c := range s {
		d[i] = int(c - '0')
	}
	return d
}

func weightedMod11(d, w []int) int {
	sum := 0
	for i := range w {
		sum += d[i] * w[i]
	}
	return sum % 11 % 10
}

func withSNILSCheck(nine string) string {
	d := digits(nine)
	sum := 0
	for i, v := range d {
		sum += v * (9 - i)
	}
	check := sum
	for check > 101 {
		check %= 101
	}
	if check == 100 || check == 101 {
		check = 0
	}
	return fmt.Sprintf("%s%02d", nine, check)
}

func withINN10Check(nine string) string {
	return nine + fmt.Sprint(weightedMod11(digits(nine), []int{2, 4, 10, 3, 5, 9, 4, 6, 8}))
}

func withINN12Check(ten string) string {
	eleven := ten + fmt.Sprint(weightedMod11(digits(ten), []int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8}))
	return eleven + fmt.Sprint(weightedMod11(digits(eleven), []int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}))
}

func withOGRNCheck(twelve string) string {
	n, _ := new(big.Int).SetString(twelve, 10)
	return twelve + fmt.Sprint(new(big.Int).Mod(n, big.NewInt(11)).Int64()%10)
}
