package cades

import (
	"context"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
)

// emptyBackend is a machine with no tokens: enough for everything but
// signatures (the browser tests sign through the real agent).
type emptyBackend struct{ now time.Time }

func (emptyBackend) Certificates(context.Context) ([]*keystore.Entry, error) { return nil, nil }
func (emptyBackend) WithKey(context.Context, KeyUse, func(context.Context, crypto.Signer) error) error {
	return errors.New("no key")
}
func (emptyBackend) Verify(ctx context.Context, sig []byte, opts verify.Options) (*verify.Report, error) {
	return verify.Verify(ctx, sig, opts)
}
func (emptyBackend) ValidateCertificate(context.Context, *certs.Certificate, []*certs.Certificate) error {
	return errors.New("no roots")
}
func (emptyBackend) Timestamper(string) (sign.Timestamper, error) { return nil, errors.New("no TSA") }
func (emptyBackend) LongTerm() (sign.RevocationSource, sign.IssuerSource, []*certs.Certificate) {
	return nil, nil, nil
}
func (b emptyBackend) Now() time.Time { return b.now }

func newTestSession(l Limits) *Session {
	return NewSession(emptyBackend{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}, l)
}

func hresult(t *testing.T, err error) uint32 {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a cades.Error", err)
	}
	return e.HRESULT
}

// crypto-pro's _extractMeaningfulErrorMessage, in Go: the text before the
// HRESULT, shown only when it holds Cyrillic.
var cryptoProCut = regexp.MustCompile(`^(.*?)(?:(?:\.?\s?\(?0x)|(?:\.?$))`)

func TestErrorStrings(t *testing.T) {
	for _, c := range []struct {
		err  *Error
		want string
	}{
		{newError(HResultCancelled, "Операция отменена пользователем"), "Операция отменена пользователем (0x8010006E)"},
		{notSupported("Объект CAdESCOM.SignedXML"), "Объект CAdESCOM.SignedXML не поддерживается kep (0x80004001)"},
		{invalidArg("индекс %d вне 1…%d", 3, 2), "Параметр задан неверно: индекс 3 вне 1…2 (0x80070057)"},
		{AsError(errors.New("boom")), "Ошибка: boom (0x80004005)"},
	} {
		got := c.err.Error()
		if got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
		if !regexp.MustCompile(` \(0x8[0-9A-F]{7}\)$`).MatchString(got) {
			t.Errorf("%q does not end in \" (0x8XXXXXXX)\"", got)
		}
		m := cryptoProCut.FindStringSubmatch(got)
		if m == nil || m[1] != c.err.Message {
			t.Errorf("crypto-pro would show %q, want %q", m, c.err.Message)
		}
	}
	if !errors.Is(notSupported("x"), ErrNotSupported) {
		t.Error("notSupported does not wrap ErrNotSupported")
	}
}

// TestHRESULTs pins the values (Windows SDK winerror.h / scarderr.h).
func TestHRESULTs(t *testing.T) {
	for name, c := range map[string][2]uint32{
		"SCARD_W_CANCELLED_BY_USER":   {HResultCancelled, 0x8010006E},
		"SCARD_W_WRONG_CHV":           {HResultWrongPIN, 0x8010006B},
		"SCARD_W_CHV_BLOCKED":         {HResultPINLocked, 0x8010006C},
		"SCARD_E_NO_SMARTCARD":        {HResultNoSmartCard, 0x8010000C},
		"SCARD_W_REMOVED_CARD":        {HResultCardRemoved, 0x80100069},
		"CRYPT_E_NOT_FOUND":           {HResultNotFound, 0x80092004},
		"CRYPT_E_NO_KEY_PROPERTY":     {HResultNoKeyProperty, 0x8009200B},
		"NTE_BAD_SIGNATURE":           {HResultBadSignature, 0x80090006},
		"NTE_BAD_ALGID":               {HResultBadAlgID, 0x80090008},
		"CRYPT_E_HASH_VALUE":          {HResultHashValue, 0x80091007},
		"CRYPT_E_NO_SIGNER":           {HResultNoSigner, 0x8009100E},
		"CRYPT_E_ASN1_BADTAG":         {HResultASN1BadTag, 0x8009310B},
		"CERT_E_CHAINING":             {HResultChaining, 0x800B010A},
		"CERT_E_EXPIRED":              {HResultExpired, 0x800B0101},
		"CRYPT_E_REVOKED":             {HResultRevoked, 0x80092010},
		"CRYPT_E_NO_REVOCATION_CHECK": {HResultNoRevocation, 0x80092012},
		"E_INVALIDARG":                {HResultInvalidArg, 0x80070057},
		"E_NOTIMPL":                   {HResultNotImpl, 0x80004001},
		"E_FAIL":                      {HResultFail, 0x80004005},
		"E_ACCESSDENIED":              {HResultAccessDenied, 0x80070005},
		"E_OUTOFMEMORY":               {HResultOutOfMemory, 0x8007000E},
	} {
		if c[0] != c[1] {
			t.Errorf("%s = %#x, want %#x", name, c[0], c[1])
		}
	}
}

// TestConstantsAgree reads the constants block of cadesplugin.js and
// checks every value the agent interprets against the Go constant.
func TestConstantsAgree(t *testing.T) {
	src, err := os.ReadFile("../client/cadesplugin.js")
	if err != nil {
		t.Fatal(err)
	}
	js := map[string]int64{}
	for _, m := range regexp.MustCompile(`\b([A-Z][A-Za-z0-9_]+): (0x[0-9A-Fa-f]+|-?\d+)\b`).FindAllStringSubmatch(string(src), -1) {
		v, err := strconv.ParseInt(m[2], 0, 64)
		if err != nil {
			t.Fatal(err)
		}
		js[m[1]] = v
	}
	for name, want := range map[string]int{
		"CADESCOM_CADES_DEFAULT": CadesDefault, "CADESCOM_CADES_BES": CadesBES, "CADESCOM_CADES_T": CadesT,
		"CADESCOM_CADES_X_LONG_TYPE_1": CadesXLT1, "CADESCOM_PKCS7_TYPE": PKCS7Type,
		"CADESCOM_BASE64_TO_BINARY": Base64ToBinary, "CADESCOM_STRING_TO_UCS2LE": StringToUCS2LE,
		"CADESCOM_ENCODE_BASE64": EncodeBase64, "CADESCOM_ENCODE_BINARY": EncodeBinary, "CADESCOM_ENCODE_ANY": EncodeAny,
		"CAPICOM_MEMORY_STORE": StoreMemory, "CAPICOM_LOCAL_MACHINE_STORE": StoreLocalMachine,
		"CAPICOM_CURRENT_USER_STORE": StoreCurrentUser, "CADESCOM_CONTAINER_STORE": StoreContainer,
		"CAPICOM_CERTIFICATE_FIND_SHA1_HASH": FindSHA1Hash, "CAPICOM_CERTIFICATE_FIND_SUBJECT_NAME": FindSubjectName,
		"CAPICOM_CERTIFICATE_FIND_ISSUER_NAME": FindIssuerName, "CAPICOM_CERTIFICATE_FIND_EXTENDED_PROPERTY": FindExtendedProperty,
		"CAPICOM_CERTIFICATE_FIND_APPLICATION_POLICY": FindApplicationPolicy, "CAPICOM_CERTIFICATE_FIND_CERTIFICATE_POLICY": FindCertificatePolicy,
		"CAPICOM_CERTIFICATE_FIND_TIME_VALID": FindTimeValid, "CAPICOM_CERTIFICATE_FIND_TIME_NOT_YET_VALID": FindTimeNotYetValid,
		"CAPICOM_CERTIFICATE_FIND_TIME_EXPIRED": FindTimeExpired, "CAPICOM_CERTIFICATE_FIND_KEY_USAGE": FindKeyUsage,
		"CAPICOM_PROPID_KEY_PROV_INFO":                  PropIDKeyProvInfo,
		"CAPICOM_CERTIFICATE_INCLUDE_CHAIN_EXCEPT_ROOT": IncludeChainExceptRoot, "CAPICOM_CERTIFICATE_INCLUDE_WHOLE_CHAIN": IncludeWholeChain,
		"CAPICOM_CERTIFICATE_INCLUDE_END_ENTITY_ONLY": IncludeEndEntityOnly,
		"CAPICOM_CERT_INFO_SUBJECT_SIMPLE_NAME":       InfoSubjectSimpleName, "CAPICOM_CERT_INFO_ISSUER_SIMPLE_NAME": InfoIssuerSimpleName,
		"CAPICOM_CERT_INFO_SUBJECT_EMAIL_NAME": InfoSubjectEmailName, "CAPICOM_CERT_INFO_ISSUER_EMAIL_NAME": InfoIssuerEmailName,
		"CAPICOM_CERT_INFO_SUBJECT_UPN": InfoSubjectUPN, "CAPICOM_CERT_INFO_ISSUER_UPN": InfoIssuerUPN,
		"CAPICOM_CERT_INFO_SUBJECT_DNS_NAME": InfoSubjectDNSName, "CAPICOM_CERT_INFO_ISSUER_DNS_NAME": InfoIssuerDNSName,
		"CAPICOM_AUTHENTICATED_ATTRIBUTE_SIGNING_TIME": AttrSigningTime, "CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_NAME": AttrDocumentName,
		"CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_DESCRIPTION": AttrDocumentDescription,
		"CADESCOM_HASH_ALGORITHM_SHA1":                          HashSHA1, "CADESCOM_HASH_ALGORITHM_SHA_256": HashSHA256,
		"CADESCOM_HASH_ALGORITHM_SHA_384": HashSHA384, "CADESCOM_HASH_ALGORITHM_SHA_512": HashSHA512,
		"CADESCOM_HASH_ALGORITHM_CP_GOST_3411": HashGOST94, "CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_256": HashStreebog256,
		"CADESCOM_HASH_ALGORITHM_CP_GOST_3411_2012_512": HashStreebog512,
		"CAPICOM_DIGITAL_SIGNATURE_KEY_USAGE":           128,
	} {
		got, ok := js[name]
		if !ok {
			t.Errorf("cadesplugin.js lacks %s", name)
			continue
		}
		if got != int64(want) {
			t.Errorf("%s: cadesplugin.js %d, agent %d", name, got, want)
		}
	}
	if !strings.Contains(string(src), `CAPICOM_MY_STORE: "My"`) {
		t.Error(`cadesplugin.js lacks CAPICOM_MY_STORE: "My"`)
	}
}

func TestUnbuiltClasses(t *testing.T) {
	s := newTestSession(Limits{})
	for _, p := range []string{"CAdESCOM.SignedXML", "CAdESCOM.CPEnvelopedData", "CAdESCOM.RawSignature",
		"X509Enrollment.CX509Enrollment", "X509Enrollment.CX509CertificateRequestPkcs10", "CAdESCOM.SymmetricAlgorithm"} {
		_, err := s.Create(p)
		if err == nil {
			t.Fatalf("%s was created", p)
		}
		if hresult(t, err) != HResultNotImpl || !strings.Contains(err.Error(), "не поддерживается kep") {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := s.Create("Foo.Bar"); err == nil || hresult(t, err) != HResultInvalidArg {
		t.Errorf("unknown ProgID: %v", err)
	}
	// ProgIDs are matched without regard to case, as COM does.
	for _, p := range []string{"CADESCOM.CPAttribute", "cadescom.cpattribute", "CAdESCOM.CPAttribute"} {
		if ref, err := s.Create(p); err != nil || ref.Class != "CPAttribute" {
			t.Errorf("%s: %v %v", p, ref, err)
		}
	}
}

func TestMembersAndLimits(t *testing.T) {
	s := newTestSession(Limits{MaxObjects: 3})
	ref, err := s.Create("CAdESCOM.HashedData")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), ref.ID, "Nope"); err == nil || hresult(t, err) != HResultInvalidArg {
		t.Errorf("unknown member: %v", err)
	}
	if _, err := s.Call(context.Background(), ref.ID+100, "Hash", nil); err == nil || hresult(t, err) != 0x80070006 {
		t.Errorf("unknown object: %v", err)
	}
	s.Create("CAdESCOM.About")
	s.Create("CAdESCOM.About")
	if _, err := s.Create("CAdESCOM.About"); err == nil || hresult(t, err) != HResultOutOfMemory {
		t.Fatalf("a 4th object of 3: %v", err)
	}
	s.Release([]int64{ref.ID, ref.ID})
	if s.Len() != 2 {
		t.Fatalf("%d objects after one release", s.Len())
	}
	if _, err := s.Create("CAdESCOM.About"); err != nil {
		t.Fatal(err)
	}
	s.ReleaseAll()
	if s.Len() != 0 {
		t.Fatalf("%d objects after ReleaseAll", s.Len())
	}
	// Bytes held are bounded too.
	s = newTestSession(Limits{MaxBytes: 1000})
	sd, _ := s.Create("CAdESCOM.CadesSignedData")
	if err := s.Set(sd.ID, "Content", json.RawMessage(`"`+strings.Repeat("я", 600)+`"`)); err == nil || hresult(t, err) != HResultOutOfMemory {
		t.Fatalf("1200 bytes of content under a 1000-byte limit: %v", err)
	}
	if err := s.Set(sd.ID, "Content", json.RawMessage(`"`+strings.Repeat("я", 400)+`"`)); err != nil {
		t.Fatal(err)
	}
	s.ReleaseAll()
	if s.bytes != 0 {
		t.Fatalf("%d bytes still charged after ReleaseAll", s.bytes)
	}
}

// TestHashedData: Streebog values as hex, UCS-2 and base64 data, chunked
// Hash, SetHashValue lengths, GOST R 34.11-94 refused.
func TestHashedData(t *testing.T) {
	ctx := context.Background()
	s := newTestSession(Limits{})
	for _, c := range []struct {
		alg  int
		enc  int
		data []string
		raw  []byte
		d    *certs.Digest
	}{
		{HashStreebog256, Base64ToBinary, []string{"0L/RgNC40LLQtdGC"}, []byte("привет"), certs.Streebog256},
		{HashStreebog512, Base64ToBinary, []string{"0L/RgNC4", "0LLQtdGC"}, []byte("привет"), certs.Streebog512},
		{HashStreebog256, StringToUCS2LE, []string{"Да"}, []byte{0x14, 0x04, 0x30, 0x04}, certs.Streebog256},
		{HashSHA256, Base64ToBinary, []string{""}, nil, certs.SHA256},
	} {
		ref, _ := s.Create("CAdESCOM.HashedData")
		if err := s.Set(ref.ID, "Algorithm", json.RawMessage(strconv.Itoa(c.alg))); err != nil {
			t.Fatal(err)
		}
		if err := s.Set(ref.ID, "DataEncoding", json.RawMessage(strconv.Itoa(c.enc))); err != nil {
			t.Fatal(err)
		}
		for _, part := range c.data {
			a, _ := json.Marshal([]string{part})
			if _, err := s.Call(ctx, ref.ID, "Hash", a); err != nil {
				t.Fatal(err)
			}
		}
		v, err := s.Get(ctx, ref.ID, "Value")
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ToUpper(hex.EncodeToString(c.d.Sum(c.raw))); v != want {
			t.Errorf("alg %d: Value %v, want %s", c.alg, v, want)
		}
	}
	ref, _ := s.Create("CAdESCOM.HashedData")
	if err := s.Set(ref.ID, "Algorithm", json.RawMessage("100")); err == nil || hresult(t, err) != HResultBadAlgID {
		t.Errorf("GOST R 34.11-94: %v", err)
	}
	s.Set(ref.ID, "Algorithm", json.RawMessage("101"))
	if _, err := s.Call(ctx, ref.ID, "SetHashValue", json.RawMessage(`["ABCD"]`)); err == nil || hresult(t, err) != HResultInvalidArg {
		t.Errorf("a 2-byte hash value: %v", err)
	}
	h := strings.Repeat("ab", 32)
	if _, err := s.Call(ctx, ref.ID, "SetHashValue", json.RawMessage(`["`+h+`"]`)); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(ctx, ref.ID, "Value"); v != strings.ToUpper(h) {
		t.Errorf("Value after SetHashValue: %v", v)
	}
}

// TestAbout: the versions wrappers check (crypto-pro: plug-in 2.x.y with
// y ≥ 12438, CSP ≥ 4.0), through toString as they call it.
func TestAbout(t *testing.T) {
	ctx := context.Background()
	s := newTestSession(Limits{})
	about, _ := s.Create("CAdESCOM.About")
	v, err := s.Get(ctx, about.ID, "PluginVersion")
	if err != nil {
		t.Fatal(err)
	}
	str, err := s.Call(ctx, v.(*Ref).ID, "toString", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)$`).FindStringSubmatch(str.(string))
	if m == nil || m[1] != "2" {
		t.Fatalf("PluginVersion %q", str)
	}
	if b, _ := strconv.Atoi(m[3]); b < 12438 {
		t.Errorf("build %d is below what crypto-pro accepts", b)
	}
	csp, _ := s.Call(ctx, about.ID, "CSPVersion", nil)
	cs, _ := s.Call(ctx, csp.(*Ref).ID, "toString", nil)
	if f, _ := strconv.ParseFloat(strings.Join(strings.Split(cs.(string), ".")[:2], "."), 64); f < 4 {
		t.Errorf("CSPVersion %v", cs)
	}
	name, _ := s.Call(ctx, about.ID, "CSPName", nil)
	if !strings.Contains(name.(string), "kep") {
		t.Errorf("CSPName %q does not say kep", name)
	}
}

func TestDates(t *testing.T) {
	tm := time.Date(2026, 3, 4, 5, 6, 7, 8e6, time.FixedZone("MSK", 3*3600))
	if got := isoDate(tm); got != "2026-03-04T02:06:07.008Z" {
		t.Errorf("isoDate = %s", got)
	}
	back, err := parseDate(arg{kind: 's', s: isoDate(tm)})
	if err != nil || !back.Equal(tm) {
		t.Errorf("parseDate(isoDate) = %v, %v", back, err)
	}
	if _, err := parseDate(arg{kind: 's', s: "вчера"}); err == nil {
		t.Error("a date in words was parsed")
	}
}

func TestContentEncoding(t *testing.T) {
	for _, c := range []struct {
		s    string
		enc  int
		want []byte
	}{
		{"A", StringToUCS2LE, []byte{'A', 0}},
		{"Я😀", StringToUCS2LE, []byte{0x2F, 0x04, 0x3D, 0xD8, 0x00, 0xDE}},
		{"QUJD", Base64ToBinary, []byte("ABC")},
		{"QU\r\nJD", Base64ToBinary, []byte("ABC")},
		{"QQ", Base64ToBinary, []byte("A")},
	} {
		got, err := decodeContent(c.s, c.enc)
		if err != nil || string(got) != string(c.want) {
			t.Errorf("decodeContent(%q, %d) = %x, %v; want %x", c.s, c.enc, got, err, c.want)
		}
		if c.enc == StringToUCS2LE && encodeContent(got, c.enc) != c.s {
			t.Errorf("encodeContent does not give %q back", c.s)
		}
	}
	if _, err := decodeContent("не base64", Base64ToBinary); err == nil || hresult(t, err) != HResultInvalidArg {
		t.Errorf("bad base64: %v", err)
	}
}
