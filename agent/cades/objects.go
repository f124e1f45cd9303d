package cades

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/pkcs11/keystore"
)

// progIDs are the classes kep builds, by lower-case ProgID.
var progIDs = map[string]func(s *Session) object{
	"cadescom.about":           func(*Session) object { return &about{} },
	"cadescom.store":           func(*Session) object { return &store{} },
	"capicom.store":            func(*Session) object { return &store{} },
	"cadescom.certificate":     func(*Session) object { return &certObj{} },
	"capicom.certificate":      func(*Session) object { return &certObj{} },
	"cadescom.cpsigner":        func(*Session) object { return &signerObj{options: IncludeChainExceptRoot} },
	"cadescom.cpattribute":     func(*Session) object { return &attrObj{name: -1} },
	"cadescom.cadessigneddata": func(*Session) object { return &signedData{} },
	"cadescom.hasheddata":      func(*Session) object { return &hashedData{alg: HashSHA1} },
}

// unbuilt reports the ProgIDs of CryptoPro's plug-in that kep does not
// build (SignedXML, CPEnvelopedData, RawSignature, X509Enrollment.*…):
// creating one fails with E_NOTIMPL, never silently.
func unbuilt(lower string) bool {
	for _, p := range []string{"cadescom.", "capicom.", "x509enrollment."} {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	return false
}

// ---- About and Version -------------------------------------------------

// PluginVersion is the version of CryptoPro's plug-in API that kep answers
// as: wrappers refuse plug-ins older than 2.0.12438 (crypto-pro's
// _isSupportedCadesVersion). CSPVersion is the CSP level reported: 5.0, a
// CSP with GOST R 34.10-2012 (crypto-pro wants 4.0 or later). Neither is a
// CryptoPro product: CSPName says kep.
var (
	PluginVersion = [3]int{2, 0, 15000}
	CSPVersion    = [3]int{5, 0, 12000}
)

const cspName = "kep (открытый агент подписи, без КриптоПро CSP)"

type about struct{}

func (*about) className() string { return "About" }
func (*about) props() []string {
	return []string{"Version", "PluginVersion", "MajorVersion", "MinorVersion", "BuildVersion"}
}
func (*about) methods() []string {
	return []string{"CSPName", "CSPVersion", "ProviderVersion", "toString"}
}
func (a *about) get(_ context.Context, _ *Session, name string) (any, error) {
	switch name {
	case "Version":
		return versionString(PluginVersion), nil
	case "PluginVersion":
		return &version{v: PluginVersion}, nil
	case "MajorVersion":
		return PluginVersion[0], nil
	case "MinorVersion":
		return PluginVersion[1], nil
	}
	return PluginVersion[2], nil
}
func (*about) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (*about) call(_ context.Context, _ *Session, name string, _ []arg) (any, error) {
	switch name {
	case "CSPName":
		return cspName, nil
	case "CSPVersion":
		return &version{v: CSPVersion}, nil
	case "ProviderVersion":
		return versionString(CSPVersion), nil
	}
	return versionString(PluginVersion), nil
}

func versionString(v [3]int) string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

type version struct{ v [3]int }

func (*version) className() string { return "Version" }
func (*version) props() []string {
	return []string{"MajorVersion", "MinorVersion", "BuildVersion", "toStringDefault"}
}
func (*version) methods() []string { return []string{"toString"} }
func (v *version) get(_ context.Context, _ *Session, name string) (any, error) {
	switch name {
	case "MajorVersion":
		return v.v[0], nil
	case "MinorVersion":
		return v.v[1], nil
	case "BuildVersion":
		return v.v[2], nil
	}
	return versionString(v.v), nil
}
func (*version) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (v *version) call(context.Context, *Session, string, []arg) (any, error) {
	return versionString(v.v), nil
}

func readOnly(name string) error {
	return invalidArg("свойство %s только для чтения", name)
}

// ---- Store and Certificates ----------------------------------------------

// Store locations and names (CAPICOM_STORE_LOCATION, CADESCOM).
const (
	StoreMemory       = 0
	StoreLocalMachine = 1
	StoreCurrentUser  = 2
	StoreContainer    = 100 // CADESCOM_CONTAINER_STORE: the keys' containers
)

type store struct {
	open     bool
	location int
	name     string
	list     []*certObj
}

func (*store) className() string { return "Store" }
func (*store) props() []string   { return []string{"Certificates", "Location", "Name"} }
func (*store) methods() []string { return []string{"Open", "Close", "Delete", "Import"} }
func (st *store) get(_ context.Context, _ *Session, name string) (any, error) {
	switch name {
	case "Certificates":
		if !st.open {
			return &certList{}, nil
		}
		return &certList{list: st.list}, nil
	case "Location":
		return st.location, nil
	}
	return st.name, nil
}
func (*store) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (st *store) call(ctx context.Context, s *Session, name string, args []arg) (any, error) {
	switch name {
	case "Open":
		loc, err := argAt(args, 0).int("StoreLocation", StoreCurrentUser)
		if err != nil {
			return nil, err
		}
		storeName, err := argAt(args, 1).str("StoreName")
		if err != nil {
			return nil, err
		}
		if storeName == "" {
			storeName = "My"
		}
		if _, err := argAt(args, 2).int("OpenMode", 2); err != nil {
			return nil, err
		}
		st.location, st.name, st.list = loc, storeName, nil
		// The user's certificates are those of the tokens (the personal
		// store and the key containers alike). Other stores (Root, CA,
		// AddressBook, the machine's) hold nothing in kep.
		if (loc == StoreCurrentUser || loc == StoreContainer) && strings.EqualFold(storeName, "My") {
			var entries []*keystore.Entry
			err := s.outside(func() error {
				var err error
				entries, err = s.b.Certificates(ctx)
				return err
			})
			if err != nil && len(entries) == 0 {
				return nil, wrapErr(err)
			}
			for _, e := range entries {
				st.list = append(st.list, &certObj{cert: e.Certificate, entry: e})
			}
		} else if loc != StoreMemory && loc != StoreLocalMachine && loc != StoreCurrentUser && loc != StoreContainer {
			return nil, invalidArg("хранилище %d", loc)
		}
		st.open = true
		return nil, nil
	case "Close":
		st.open, st.list = false, nil
		return nil, nil
	}
	return nil, notSupported("Store." + name)
}

type certList struct{ list []*certObj }

func (*certList) className() string { return "Certificates" }
func (*certList) props() []string   { return []string{"Count"} }
func (*certList) methods() []string { return []string{"Item", "Find", "Select"} }
func (l *certList) get(context.Context, *Session, string) (any, error) {
	return len(l.list), nil
}
func (*certList) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (l *certList) call(ctx context.Context, s *Session, name string, args []arg) (any, error) {
	switch name {
	case "Item":
		i, err := argAt(args, 0).int("Index", 0)
		if err != nil {
			return nil, err
		}
		if i < 1 || i > len(l.list) {
			return nil, invalidArg("индекс %d вне 1…%d", i, len(l.list))
		}
		return l.list[i-1], nil
	case "Find":
		return l.find(ctx, s, args)
	}
	return nil, notSupported("Certificates.Select (выбор сертификата в окне)")
}

// Find types (CAPICOM_CERTIFICATE_FIND_TYPE).
const (
	FindSHA1Hash          = 0
	FindSubjectName       = 1
	FindIssuerName        = 2
	FindRootName          = 3
	FindTemplateName      = 4
	FindExtension         = 5
	FindExtendedProperty  = 6
	FindApplicationPolicy = 7
	FindCertificatePolicy = 8
	FindTimeValid         = 9
	FindTimeNotYetValid   = 10
	FindTimeExpired       = 11
	FindKeyUsage          = 12
	PropIDKeyProvInfo     = 2 // CAPICOM_PROPID_KEY_PROV_INFO
)

func (l *certList) find(ctx context.Context, s *Session, args []arg) (any, error) {
	typ, err := argAt(args, 0).int("FindType", -1)
	if err != nil {
		return nil, err
	}
	crit := argAt(args, 1)
	validOnly, err := argAt(args, 2).bool("FindValidOnly", false)
	if err != nil {
		return nil, err
	}
	now := s.b.Now()
	var match func(c *certObj) bool
	switch typ {
	case FindSHA1Hash:
		want, err := crit.str("Criteria")
		if err != nil {
			return nil, err
		}
		want = strings.ToUpper(strings.Join(strings.Fields(want), ""))
		match = func(c *certObj) bool { return c.cert.Thumbprint() == want }
	case FindSubjectName, FindIssuerName:
		want, err := crit.str("Criteria")
		if err != nil {
			return nil, err
		}
		want = strings.ToLower(want)
		match = func(c *certObj) bool {
			raw := c.cert.RawSubject
			if typ == FindIssuerName {
				raw = c.cert.RawIssuer
			}
			name, _ := FormatName(raw)
			return strings.Contains(strings.ToLower(name), want)
		}
	case FindExtendedProperty:
		prop, err := crit.int("Criteria", -1)
		if err != nil {
			return nil, err
		}
		if prop != PropIDKeyProvInfo {
			return nil, notSupported(fmt.Sprintf("Поиск по свойству %d", prop))
		}
		match = func(c *certObj) bool { return c.entry != nil && c.entry.CanSign() }
	case FindTimeValid, FindTimeNotYetValid, FindTimeExpired:
		at := now
		if !crit.absent() {
			t, err := parseDate(crit)
			if err != nil {
				return nil, err
			}
			at = t
		}
		match = func(c *certObj) bool {
			switch typ {
			case FindTimeNotYetValid:
				return at.Before(c.cert.NotBefore)
			case FindTimeExpired:
				return at.After(c.cert.NotAfter)
			}
			return !at.Before(c.cert.NotBefore) && !at.After(c.cert.NotAfter)
		}
	case FindKeyUsage:
		var bits x509.KeyUsage
		switch crit.kind {
		case 'n':
			n, err := crit.int("Criteria", 0)
			if err != nil {
				return nil, err
			}
			bits = capicomKeyUsage(n)
		case 's':
			b, ok := keyUsageNames[strings.ToLower(crit.s)]
			if !ok {
				return nil, invalidArg("назначение ключа %q", limitText(crit.s))
			}
			bits = b
		default:
			return nil, invalidArg("Criteria: назначение ключа")
		}
		match = func(c *certObj) bool { return c.cert.KeyUsage == 0 || c.cert.KeyUsage&bits == bits }
	case FindApplicationPolicy, FindCertificatePolicy:
		want, err := crit.str("Criteria")
		if err != nil {
			return nil, err
		}
		match = func(c *certObj) bool {
			if typ == FindCertificatePolicy {
				for _, p := range c.cert.PolicyIdentifiers {
					if p.String() == want {
						return true
					}
				}
				return false
			}
			if len(c.cert.ExtKeyUsage) == 0 && len(c.cert.UnknownExtKeyUsage) == 0 {
				return true // no EKU: good for every application
			}
			for _, o := range ekuOIDs(c.cert) {
				if o == want {
					return true
				}
			}
			return false
		}
	default:
		return nil, notSupported(fmt.Sprintf("Certificates.Find с типом %d", typ))
	}
	out := &certList{}
	for _, c := range l.list {
		if !match(c) {
			continue
		}
		if validOnly {
			ok := false
			if err := s.outside(func() error {
				ok = s.b.ValidateCertificate(ctx, c.cert, c.chain()) == nil
				return nil
			}); err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		out.list = append(out.list, c)
	}
	return out, nil
}

// CAPICOM_KEY_USAGE bits are those of the X.509 KeyUsage BIT STRING as a
// number (CAPICOM_DIGITAL_SIGNATURE_KEY_USAGE is 128 = 0x80, the first bit).
func capicomKeyUsage(n int) x509.KeyUsage {
	var ku x509.KeyUsage
	for i := 0; i < 9; i++ {
		if n&(0x80>>i) != 0 || (i == 8 && n&0x8000 != 0) {
			ku |= 1 << i
		}
	}
	return ku
}

var keyUsageNames = map[string]x509.KeyUsage{
	"digitalsignature": x509.KeyUsageDigitalSignature,
	"nonrepudiation":   x509.KeyUsageContentCommitment,
	"keyencipherment":  x509.KeyUsageKeyEncipherment,
	"dataencipherment": x509.KeyUsageDataEncipherment,
	"keyagreement":     x509.KeyUsageKeyAgreement,
	"keycertsign":      x509.KeyUsageCertSign,
	"crlsign":          x509.KeyUsageCRLSign,
}

// ---- Certificate ------------------------------------------------------------

// certObj is a Certificate: one from a token (entry set) or one imported
// or found in a signature.
type certObj struct {
	cert  *certs.Certificate
	entry *keystore.Entry
	extra []*certs.Certificate // certificates that came with it (a signature's)
}

func (c *certObj) chain() []*certs.Certificate {
	if c.entry != nil {
		return c.entry.Chain
	}
	return c.extra
}

func (*certObj) className() string { return "Certificate" }
func (*certObj) props() []string {
	return []string{"SubjectName", "IssuerName", "Thumbprint", "SerialNumber", "ValidFromDate", "ValidToDate", "Version", "PrivateKey"}
}
func (*certObj) methods() []string {
	return []string{"HasPrivateKey", "IsValid", "Export", "Import", "PublicKey", "GetInfo", "ExtendedKeyUsage", "KeyUsage",
		"BasicConstraints", "FindPrivateKey", "Display"}
}
func (c *certObj) size() int64 {
	if c.cert == nil {
		return 0
	}
	return int64(len(c.cert.Raw))
}

var errNoCert = newError(HResultInvalidArg, "Сертификат не задан: вызовите Import")

func (c *certObj) get(ctx context.Context, s *Session, name string) (any, error) {
	if c.cert == nil {
		return nil, errNoCert
	}
	switch name {
	case "SubjectName":
		return nameOrErr(c.cert.RawSubject)
	case "IssuerName":
		return nameOrErr(c.cert.RawIssuer)
	case "Thumbprint":
		return c.cert.Thumbprint(), nil
	case "SerialNumber":
		return strings.ToUpper(hex.EncodeToString(c.cert.SerialNumber.Bytes())), nil
	case "ValidFromDate":
		return c.cert.NotBefore, nil
	case "ValidToDate":
		return c.cert.NotAfter, nil
	case "Version":
		return c.cert.Version, nil
	case "PrivateKey":
		e, err := c.keyEntry(ctx, s)
		if err != nil {
			return nil, err
		}
		if e == nil || !e.CanSign() {
			return nil, newError(HResultNoKeyProperty, "Закрытый ключ этого сертификата не найден ни на одном токене")
		}
		return &privKey{e: e}, nil
	}
	return nil, noMember(c, name)
}

func nameOrErr(der []byte) (any, error) {
	n, err := FormatName(der)
	if err != nil {
		return nil, newError(HResultASN1BadTag, "Имя в сертификате не читается: %v", err)
	}
	return n, nil
}

// keyEntry finds the token entry of the certificate (for an imported one,
// by its thumbprint among the tokens').
func (c *certObj) keyEntry(ctx context.Context, s *Session) (*keystore.Entry, error) {
	if c.entry != nil {
		return c.entry, nil
	}
	var list []*keystore.Entry
	err := s.outside(func() error {
		var err error
		list, err = s.b.Certificates(ctx)
		return err
	})
	for _, e := range list {
		if e.ID == c.cert.Thumbprint() {
			return e, nil
		}
	}
	if err != nil {
		return nil, wrapErr(err)
	}
	return nil, nil
}

func (*certObj) set(_ *Session, name string, _ arg) error { return readOnly(name) }

// Export encodings (CAPICOM_ENCODING_TYPE).
const (
	EncodeBase64 = 0
	EncodeBinary = 1
	EncodeAny    = -1
)

func (c *certObj) call(ctx context.Context, s *Session, name string, args []arg) (any, error) {
	if name == "Import" {
		data, err := argAt(args, 0).str("EncodedCertificate")
		if err != nil {
			return nil, err
		}
		der, err := decodeBase64OrPEM(data)
		if err != nil {
			return nil, err
		}
		cert, err := certs.ParseCertificate(der)
		if err != nil {
			return nil, newError(HResultASN1BadTag, "Сертификат не читается: %v", err)
		}
		if err := s.charge(int64(len(cert.Raw)) - c.size()); err != nil {
			return nil, err
		}
		c.cert, c.entry, c.extra = cert, nil, nil
		return nil, nil
	}
	if c.cert == nil {
		return nil, errNoCert
	}
	switch name {
	case "HasPrivateKey":
		e, err := c.keyEntry(ctx, s)
		if err != nil {
			return nil, err
		}
		return e != nil && e.CanSign(), nil
	case "FindPrivateKey":
		e, err := c.keyEntry(ctx, s)
		if err != nil {
			return nil, err
		}
		if e == nil || !e.CanSign() {
			return nil, newError(HResultNoKeyProperty, "Закрытый ключ этого сертификата не найден ни на одном токене")
		}
		c.entry = e
		return nil, nil
	case "IsValid":
		var verr error
		s.outside(func() error { verr = s.b.ValidateCertificate(ctx, c.cert, c.chain()); return nil })
		return &certStatus{ok: verr == nil}, nil
	case "Export":
		enc, err := argAt(args, 0).int("EncodingType", EncodeBase64)
		if err != nil {
			return nil, err
		}
		return encodeBytes(c.cert.Raw, enc)
	case "PublicKey":
		return &pubKey{c: c.cert}, nil
	case "GetInfo":
		typ, err := argAt(args, 0).int("InfoType", 0)
		if err != nil {
			return nil, err
		}
		return certInfo(c.cert, typ)
	case "ExtendedKeyUsage":
		return &extKeyUsage{c: c.cert}, nil
	case "KeyUsage":
		return &keyUsage{c: c.cert}, nil
	case "BasicConstraints":
		return &basicConstraints{c: c.cert}, nil
	}
	return nil, notSupported("Certificate.Display (окно сертификата)")
}

// GetInfo types (CAPICOM_CERT_INFO_TYPE).
const (
	InfoSubjectSimpleName = 0
	InfoIssuerSimpleName  = 1
	InfoSubjectEmailName  = 2
	InfoIssuerEmailName   = 3
	InfoSubjectUPN        = 4
	InfoIssuerUPN         = 5
	InfoSubjectDNSName    = 6
	InfoIssuerDNSName     = 7
)

func certInfo(c *certs.Certificate, typ int) (any, error) {
	switch typ {
	case InfoSubjectSimpleName:
		return simpleName(c.RawSubject), nil
	case InfoIssuerSimpleName:
		return simpleName(c.RawIssuer), nil
	case InfoSubjectEmailName:
		if len(c.EmailAddresses) > 0 {
			return c.EmailAddresses[0], nil
		}
		return emailName(c.RawSubject), nil
	case InfoIssuerEmailName:
		return emailName(c.RawIssuer), nil
	case InfoSubjectDNSName:
		if len(c.DNSNames) > 0 {
			return c.DNSNames[0], nil
		}
		return simpleName(c.RawSubject), nil
	case InfoIssuerDNSName:
		return simpleName(c.RawIssuer), nil
	case InfoSubjectUPN, InfoIssuerUPN:
		return "", nil
	}
	return nil, invalidArg("InfoType %d", typ)
}

type certStatus struct{ ok bool }

func (*certStatus) className() string { return "CertificateStatus" }
func (*certStatus) props() []string   { return []string{"Result"} }
func (*certStatus) methods() []string { return nil }
func (st *certStatus) get(context.Context, *Session, string) (any, error) {
	return st.ok, nil
}
func (*certStatus) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (*certStatus) call(context.Context, *Session, string, []arg) (any, error) {
	return nil, nil
}

// ---- keys --------------------------------------------------------------------

// Key algorithm OIDs and the names CryptoPro CSP gives them.
var keyAlgNames = map[string]string{
	"1.2.643.7.1.1.1.1":    "ГОСТ Р 34.10-2012 256 бит",
	"1.2.643.7.1.1.1.2":    "ГОСТ Р 34.10-2012 512 бит",
	"1.2.643.2.2.19":       "ГОСТ Р 34.10-2001",
	"1.2.840.113549.1.1.1": "RSA",
	"1.2.840.10045.2.1":    "ECC",
}

type spki struct {
	Algorithm struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters asn1.RawValue `asn1:"optional"`
	}
	PublicKey asn1.BitString
}

type pubKey struct{ c *certs.Certificate }

func (*pubKey) className() string { return "PublicKey" }
func (*pubKey) props() []string {
	return []string{"Algorithm", "Length", "EncodedKey", "EncodedParameters"}
}
func (*pubKey) methods() []string { return nil }
func (p *pubKey) get(_ context.Context, _ *Session, name string) (any, error) {
	var k spki
	if _, err := asn1.Unmarshal(p.c.RawSubjectPublicKeyInfo, &k); err != nil {
		return nil, newError(HResultASN1BadTag, "Открытый ключ не читается: %v", err)
	}
	switch name {
	case "Algorithm":
		oid := k.Algorithm.Algorithm.String()
		return &oidObj{value: oid, friendly: keyAlgNames[oid]}, nil
	case "Length":
		switch pk := p.c.PublicKey.(type) {
		case *gost3410.PublicKey:
			if k.Algorithm.Algorithm.String() == "1.2.643.7.1.1.1.2" {
				return 512, nil
			}
			return 256, nil
		case *rsa.PublicKey:
			return pk.N.BitLen(), nil
		case *ecdsa.PublicKey:
			return pk.Curve.Params().BitSize, nil
		}
		return k.PublicKey.BitLength, nil
	case "EncodedKey":
		return &encodedData{b: k.PublicKey.Bytes}, nil
	}
	return &encodedData{b: k.Algorithm.Parameters.FullBytes}, nil
}
func (*pubKey) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (*pubKey) call(context.Context, *Session, string, []arg) (any, error) {
	return nil, nil
}

type oidObj struct{ value, friendly string }

func (*oidObj) className() string { return "OID" }
func (*oidObj) props() []string   { return []string{"Value", "FriendlyName", "Name"} }
func (*oidObj) methods() []string { return nil }
func (o *oidObj) get(_ context.Context, _ *Session, name string) (any, error) {
	switch name {
	case "Value":
		return o.value, nil
	case "FriendlyName":
		if o.friendly == "" {
			return o.value, nil
		}
		return o.friendly, nil
	}
	return 0, nil // CAPICOM_OID_OTHER
}
func (*oidObj) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (*oidObj) call(context.Context, *Session, string, []arg) (any, error) {
	return nil, nil
}

type encodedData struct{ b []byte }

func (*encodedData) className() string { return "EncodedData" }
func (*encodedData) props() []string   { return []string{"Format"} }
func (*encodedData) methods() []string { return []string{"Value"} }
func (*encodedData) get(context.Context, *Session, string) (any, error) {
	return "", nil
}
func (*encodedData) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (e *encodedData) call(_ context.Context, _ *Session, _ string, args []arg) (any, error) {
	enc, err := argAt(args, 0).int("EncodingType", EncodeBase64)
	if err != nil {
		return nil, err
	}
	return encodeBytes(e.b, enc)
}

// privKey is Certificate.PrivateKey: where the key is.
type privKey struct{ e *keystore.Entry }

func (*privKey) className() string { return "PrivateKey" }
func (*privKey) props() []string {
	return []string{"ContainerName", "UniqueContainerName", "ProviderName", "ProviderType", "KeySpec", "CachePin"}
}
func (*privKey) methods() []string { return []string{"ChangePin"} }
func (p *privKey) get(_ context.Context, _ *Session, name string) (any, error) {
	switch name {
	case "ContainerName", "UniqueContainerName":
		return p.e.Token.Info.Label + "\\" + p.e.HexID(), nil
	case "ProviderName":
		switch p.e.Token.Source {
		case keystore.SourceSoft:
			return "kep: программный токен", nil
		case keystore.SourceCryptoPro:
			return "kep: контейнер CryptoPro CSP", nil
		}
		return "kep: PKCS#11 " + strings.TrimSpace(p.e.Token.Info.Manufacturer+" "+p.e.Token.Info.Model), nil
	case "ProviderType":
		// PROV_GOST_2012_256 (80), PROV_GOST_2012_512 (81), PROV_RSA_FULL (1).
		switch certs.DefaultDigestFor(p.e.Certificate.PublicKey) {
		case certs.Streebog256:
			return 80, nil
		case certs.Streebog512:
			return 81, nil
		}
		return 1, nil
	case "KeySpec":
		return 2, nil // AT_SIGNATURE
	}
	return false, nil
}
func (*privKey) set(_ *Session, name string, _ arg) error {
	return notSupported("PrivateKey." + name + " (PIN-код хранит kep по настройке --pin-cache)")
}
func (*privKey) call(context.Context, *Session, string, []arg) (any, error) {
	return nil, notSupported("PrivateKey.ChangePin (kep tokens pin change)")
}

type extKeyUsage struct{ c *certs.Certificate }

func ekuOIDs(c *certs.Certificate) []string {
	var out []string
	for _, u := range c.ExtKeyUsage {
		if o, ok := extKeyUsageOIDs[u]; ok {
			out = append(out, o)
		}
	}
	for _, o := range c.UnknownExtKeyUsage {
		out = append(out, o.String())
	}
	return out
}

var extKeyUsageOIDs = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:             "2.5.29.37.0",
	x509.ExtKeyUsageServerAuth:      "1.3.6.1.5.5.7.3.1",
	x509.ExtKeyUsageClientAuth:      "1.3.6.1.5.5.7.3.2",
	x509.ExtKeyUsageCodeSigning:     "1.3.6.1.5.5.7.3.3",
	x509.ExtKeyUsageEmailProtection: "1.3.6.1.5.5.7.3.4",
	x509.ExtKeyUsageTimeStamping:    "1.3.6.1.5.5.7.3.8",
	x509.ExtKeyUsageOCSPSigning:     "1.3.6.1.5.5.7.3.9",
}

// CAPICOM_EKU names of the usages it knows.
var ekuNames = map[string]int{
	"1.3.6.1.5.5.7.3.1":      1, // CAPICOM_EKU_SERVER_AUTH
	"1.3.6.1.5.5.7.3.2":      2, // CAPICOM_EKU_CLIENT_AUTH
	"1.3.6.1.5.5.7.3.3":      3, // CAPICOM_EKU_CODE_SIGNING
	"1.3.6.1.5.5.7.3.4":      4, // CAPICOM_EKU_EMAIL_PROTECTION
	"1.3.6.1.4.1.311.20.2.2": 5, // CAPICOM_EKU_SMARTCARD_LOGON
}

func extPresent(c *certs.Certificate, oid string) (present, critical bool) {
	for _, e := range c.Extensions {
		if e.Id.String() == oid {
			return true, e.Critical
		}
	}
	return false, false
}

func (*extKeyUsage) className() string { return "ExtendedKeyUsage" }
func (*extKeyUsage) props() []string   { return []string{"EKUs"} }
func (*extKeyUsage) methods() []string { return []string{"IsPresent", "IsCritical"} }
func (u *extKeyUsage) get(context.Context, *Session, string) (any, error) {
	return &ekuList{oids: ekuOIDs(u.c)}, nil
}
func (*extKeyUsage) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (u *extKeyUsage) call(_ context.Context, _ *Session, name string, _ []arg) (any, error) {
	present, critical := extPresent(u.c, "2.5.29.37")
	if name == "IsPresent" {
		return present, nil
	}
	return critical, nil
}

type ekuList struct{ oids []string }

func (*ekuList) className() string { return "EKUs" }
func (*ekuList) props() []string   { return []string{"Count"} }
func (*ekuList) methods() []string { return []string{"Item"} }
func (l *ekuList) get(context.Context, *Session, string) (any, error) {
	return len(l.oids), nil
}
func (*ekuList) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (l *ekuList) call(_ context.Context, _ *Session, _ string, args []arg) (any, error) {
	i, err := argAt(args, 0).int("Index", 0)
	if err != nil {
		return nil, err
	}
	if i < 1 || i > len(l.oids) {
		return nil, invalidArg("индекс %d вне 1…%d", i, len(l.oids))
	}
	return &ekuOne{oid: l.oids[i-1]}, nil
}

type ekuOne struct{ oid string }

func (*ekuOne) className() string { return "EKU" }
func (*ekuOne) props() []string   { return []string{"OID", "Name"} }
func (*ekuOne) methods() []string { return nil }
func (e *ekuOne) get(_ context.Context, _ *Session, name string) (any, error) {
	if name == "OID" {
		return e.oid, nil
	}
	return ekuNames[e.oid], nil
}
func (*ekuOne) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (*ekuOne) call(context.Context, *Session, string, []arg) (any, error) {
	return nil, nil
}

type keyUsage struct{ c *certs.Certificate }

var keyUsageProps = []struct {
	name string
	bit  x509.KeyUsage
}{
	{"IsDigitalSignatureEnabled", x509.KeyUsageDigitalSignature},
	{"IsNonRepudiationEnabled", x509.KeyUsageContentCommitment},
	{"IsKeyEnciphermentEnabled", x509.KeyUsageKeyEncipherment},
	{"IsDataEnciphermentEnabled", x509.KeyUsageDataEncipherment},
	{"IsKeyAgreementEnabled", x509.KeyUsageKeyAgreement},
	{"IsKeyCertSignEnabled", x509.KeyUsageCertSign},
	{"IsCRLSignEnabled", x509.KeyUsageCRLSign},
	{"IsEncipherOnlyEnabled", x509.KeyUsageEncipherOnly},
	{"IsDecipherOnlyEnabled", x509.KeyUsageDecipherOnly},
}

func (*keyUsage) className() string { return "KeyUsage" }
func (*keyUsage) props() []string {
	out := []string{"IsPresent", "IsCritical"}
	for _, p := range keyUsageProps {
		out = append(out, p.name)
	}
	return out
}
func (*keyUsage) methods() []string { return nil }
func (u *keyUsage) get(_ context.Context, _ *Session, name string) (any, error) {
	present, critical := extPresent(u.c, "2.5.29.15")
	switch name {
	case "IsPresent":
		return present, nil
	case "IsCritical":
		return critical, nil
	}
	for _, p := range keyUsageProps {
		if p.name == name {
			return u.c.KeyUsage&p.bit != 0, nil
		}
	}
	return false, nil
}
func (*keyUsage) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (*keyUsage) call(context.Context, *Session, string, []arg) (any, error) {
	return nil, nil
}

type basicConstraints struct{ c *certs.Certificate }

func (*basicConstraints) className() string { return "BasicConstraints" }
func (*basicConstraints) props() []string {
	return []string{"IsPresent", "IsCritical", "IsCertificateAuthority", "IsPathLenConstraintPresent", "PathLenConstraint"}
}
func (*basicConstraints) methods() []string { return nil }
func (b *basicConstraints) get(_ context.Context, _ *Session, name string) (any, error) {
	present, critical := extPresent(b.c, "2.5.29.19")
	switch name {
	case "IsPresent":
		return present, nil
	case "IsCritical":
		return critical, nil
	case "IsCertificateAuthority":
		return b.c.IsCA, nil
	case "IsPathLenConstraintPresent":
		return b.c.MaxPathLen >= 0 && !(b.c.MaxPathLen == 0 && !b.c.MaxPathLenZero), nil
	}
	return b.c.MaxPathLen, nil
}
func (*basicConstraints) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (*basicConstraints) call(context.Context, *Session, string, []arg) (any, error) {
	return nil, nil
}

// ---- encodings ---------------------------------------------------------------

// encodeBytes gives bytes as CAPICOM_ENCODING_TYPE says: base64 (0, the
// default; also for -1), or a "binary string" (1), one character per byte.
func encodeBytes(b []byte, enc int) (string, error) {
	switch enc {
	case EncodeBase64, EncodeAny:
		return base64.StdEncoding.EncodeToString(b), nil
	case EncodeBinary:
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r), nil
	}
	return "", invalidArg("EncodingType %d", enc)
}

// decodeBase64 reads base64 as CryptoPro does: line breaks and other white
// space are ignored, padding optional.
func decodeBase64(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	b, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(clean, "="))
	}
	if err != nil {
		return nil, newError(HResultInvalidArg, "Параметр задан неверно: строка не в кодировке base64")
	}
	return b, nil
}

func decodeBase64OrPEM(s string) ([]byte, error) {
	if i := strings.Index(s, "-----BEGIN"); i >= 0 {
		if j := strings.Index(s[i:], "\n"); j >= 0 {
			body := s[i+j+1:]
			if k := strings.Index(body, "-----END"); k >= 0 {
				return decodeBase64(body[:k])
			}
		}
	}
	return decodeBase64(s)
}

// parseDate reads a date from the page: an ISO 8601 string (how the proxy
// sends a JavaScript Date) or milliseconds since 1970.
func parseDate(a arg) (time.Time, error) {
	switch a.kind {
	case 's':
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000Z07:00", "2006-01-02"} {
			if t, err := time.Parse(layout, a.s); err == nil {
				return t, nil
			}
		}
	case 'n':
		return time.UnixMilli(int64(a.n)), nil
	}
	return time.Time{}, invalidArg("дата: ожидалась строка ISO 8601")
}
