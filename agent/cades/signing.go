package cades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/cms"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/tsp"
	"github.com/kepkit/kep/verify"
)

// Signature types (CADESCOM_CADES_TYPE).
const (
	CadesDefault = 0 // CryptoPro's default: CAdES-X Long Type 1
	CadesBES     = 1
	CadesT       = 5
	CadesXLT1    = 0x5D
	PKCS7Type    = 0xFFFF // CADESCOM_PKCS7_TYPE
)

// Content encodings (CADESCOM_CONTENT_ENCODING_TYPE).
const (
	StringToUCS2LE = 0
	Base64ToBinary = 1
)

// Certificate inclusion (CAPICOM_CERTIFICATE_INCLUDE_OPTION).
const (
	IncludeChainExceptRoot = 0
	IncludeWholeChain      = 1
	IncludeEndEntityOnly   = 2
)

// Authenticated attributes (CADESCOM_ATTRIBUTE).
const (
	AttrSigningTime         = 0
	AttrDocumentName        = 1
	AttrDocumentDescription = 2
)

// Hash algorithms (CADESCOM_HASH_ALGORITHM).
const (
	HashSHA1        = 0
	HashSHA256      = 4
	HashSHA384      = 5
	HashSHA512      = 6
	HashGOST94      = 100
	HashStreebog256 = 101
	HashStreebog512 = 102
)

// maxClockSkew bounds how far a page's signing time may be from the
// agent's clock: the signingTime attribute is the page's claim, and a page
// must not backdate a signature.
const maxClockSkew = 5 * time.Minute

// ---- CPSigner and its attributes -----------------------------------------

type signerObj struct {
	cert        *certObj
	options     int
	auth        *attrList
	unauth      *attrList
	tsa         string
	check       bool
	pin         []byte
	signingTime time.Time // of a signer read from a signature
	tsTime      time.Time
	readOnly    bool
}

func (*signerObj) className() string { return "CPSigner" }
func (*signerObj) props() []string {
	return []string{"Certificate", "Options", "AuthenticatedAttributes2", "UnauthenticatedAttributes", "TSAAddress",
		"CheckCertificate", "KeyPin", "SigningTime", "SignatureTimeStampTime"}
}
func (*signerObj) methods() []string { return []string{"Display", "Load"} }
func (sg *signerObj) wipe()          { clear(sg.pin); sg.pin = nil }

func (sg *signerObj) get(_ context.Context, _ *Session, name string) (any, error) {
	switch name {
	case "Certificate":
		if sg.cert == nil {
			return nil, nil
		}
		return sg.cert, nil
	case "Options":
		return sg.options, nil
	case "AuthenticatedAttributes2":
		if sg.auth == nil {
			sg.auth = &attrList{}
		}
		return sg.auth, nil
	case "UnauthenticatedAttributes":
		if sg.unauth == nil {
			sg.unauth = &attrList{}
		}
		return sg.unauth, nil
	case "TSAAddress":
		return sg.tsa, nil
	case "CheckCertificate":
		return sg.check, nil
	case "KeyPin":
		return "", nil // never read back
	case "SigningTime":
		if sg.signingTime.IsZero() {
			return nil, newError(HResultNotFound, "В подписи нет времени подписания")
		}
		return sg.signingTime, nil
	}
	if sg.tsTime.IsZero() {
		return nil, newError(HResultNotFound, "В подписи нет штампа времени")
	}
	return sg.tsTime, nil
}

func (sg *signerObj) set(_ *Session, name string, v arg) error {
	if sg.readOnly {
		return readOnly(name)
	}
	switch name {
	case "Certificate":
		c, ok := v.o.(*certObj)
		if v.kind != 'o' || !ok || c.cert == nil {
			return invalidArg("Certificate: ожидался объект Certificate")
		}
		sg.cert = c
		return nil
	case "Options":
		n, err := v.int("Options", 0)
		if err != nil {
			return err
		}
		if n < IncludeChainExceptRoot || n > IncludeEndEntityOnly {
			return invalidArg("Options %d", n)
		}
		sg.options = n
		return nil
	case "TSAAddress":
		s, err := v.str("TSAAddress")
		if err != nil {
			return err
		}
		if s != "" && !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
			return invalidArg("TSAAddress: адрес http:// или https://")
		}
		sg.tsa = s
		return nil
	case "CheckCertificate":
		b, err := v.bool("CheckCertificate", false)
		sg.check = b
		return err
	case "KeyPin":
		s, err := v.str("KeyPin")
		if err != nil {
			return err
		}
		clear(sg.pin)
		sg.pin = []byte(s)
		return nil
	}
	return readOnly(name)
}

func (*signerObj) call(_ context.Context, _ *Session, name string, _ []arg) (any, error) {
	if name == "Load" {
		return nil, notSupported("CPSigner.Load (ключ из файла PFX)")
	}
	return nil, notSupported("CPSigner.Display (окно)")
}

type attrList struct{ list []*attrObj }

func (*attrList) className() string { return "CPAttributes" }
func (*attrList) props() []string   { return []string{"Count"} }
func (*attrList) methods() []string { return []string{"Add", "Item", "Clear", "Remove"} }
func (l *attrList) get(context.Context, *Session, string) (any, error) {
	return len(l.list), nil
}
func (*attrList) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (l *attrList) call(_ context.Context, _ *Session, name string, args []arg) (any, error) {
	switch name {
	case "Add":
		a, ok := argAt(args, 0).o.(*attrObj)
		if !ok {
			return nil, invalidArg("Add: ожидался объект CPAttribute")
		}
		if len(l.list) >= 16 {
			return nil, invalidArg("больше 16 атрибутов")
		}
		l.list = append(l.list, a)
		return nil, nil
	case "Clear":
		l.list = nil
		return nil, nil
	}
	i, err := argAt(args, 0).int("Index", 0)
	if err != nil {
		return nil, err
	}
	if i < 1 || i > len(l.list) {
		return nil, invalidArg("индекс %d вне 1…%d", i, len(l.list))
	}
	if name == "Remove" {
		l.list = append(l.list[:i-1], l.list[i:]...)
		return nil, nil
	}
	return l.list[i-1], nil
}

type attrObj struct {
	name     int // -1 until set
	value    arg
	encoding int
}

func (*attrObj) className() string { return "CPAttribute" }
func (*attrObj) props() []string   { return []string{"Name", "Value", "ValueEncoding", "OID"} }
func (*attrObj) methods() []string { return nil }
func (a *attrObj) get(_ context.Context, _ *Session, name string) (any, error) {
	switch name {
	case "Name":
		return a.name, nil
	case "ValueEncoding":
		return a.encoding, nil
	case "OID":
		return &oidObj{value: attrOIDs[a.name]}, nil
	}
	switch a.value.kind {
	case 's':
		return a.value.s, nil
	case 'n':
		return a.value.n, nil
	case 'b':
		return a.value.b, nil
	}
	return nil, nil
}

// attrOIDs of the authenticated attributes CADESCOM names.
var attrOIDs = map[int]string{
	AttrSigningTime:         "1.2.840.113549.1.9.5",
	AttrDocumentName:        "1.2.643.2.45.1.1.1",
	AttrDocumentDescription: "1.2.643.2.45.1.1.2",
}

func (a *attrObj) set(_ *Session, name string, v arg) error {
	switch name {
	case "Name":
		n, err := v.int("Name", 0)
		if err != nil {
			return err
		}
		if n < AttrSigningTime || n > AttrDocumentDescription {
			return notSupported(fmt.Sprintf("Атрибут %d", n))
		}
		a.name = n
		return nil
	case "Value":
		if v.kind == 'o' {
			return invalidArg("Value: ожидалась дата или строка")
		}
		a.value = arg{kind: v.kind, b: v.b, n: v.n, s: v.s}
		return nil
	case "ValueEncoding":
		n, err := v.int("ValueEncoding", 0)
		a.encoding = n
		return err
	}
	return notSupported("CPAttribute.OID (атрибуты с произвольным OID)")
}
func (*attrObj) call(context.Context, *Session, string, []arg) (any, error) {
	return nil, nil
}

// ---- HashedData -------------------------------------------------------------

type hashedData struct {
	alg      int
	encoding int
	h        hash.Hash
	value    []byte // set by SetHashValue, or the hash's sum
	set_     bool
}

func hashDigest(alg int) (*certs.Digest, error) {
	switch alg {
	case HashStreebog256:
		return certs.Streebog256, nil
	case HashStreebog512:
		return certs.Streebog512, nil
	case HashSHA256:
		return certs.SHA256, nil
	case HashSHA384:
		return certs.SHA384, nil
	case HashSHA512:
		return certs.SHA512, nil
	case HashSHA1:
		return certs.DigestByName("sha1")
	case HashGOST94:
		return nil, newError(HResultBadAlgID, "Алгоритм ГОСТ Р 34.11-94 не поддерживается kep: подписи ГОСТ 2001 года отменены с 2020 года")
	}
	return nil, newError(HResultBadAlgID, "Алгоритм хеширования %d не поддерживается kep", alg)
}

func (*hashedData) className() string { return "HashedData" }
func (*hashedData) props() []string   { return []string{"Algorithm", "DataEncoding", "Value", "Key"} }
func (*hashedData) methods() []string { return []string{"Hash", "SetHashValue"} }
func (hd *hashedData) get(_ context.Context, _ *Session, name string) (any, error) {
	switch name {
	case "Algorithm":
		return hd.alg, nil
	case "DataEncoding":
		return hd.encoding, nil
	case "Value":
		v, err := hd.digest()
		if err != nil {
			return nil, err
		}
		return strings.ToUpper(hex.EncodeToString(v)), nil
	}
	return nil, notSupported("HashedData.Key (HMAC)")
}

// digest is the hash value: SetHashValue's, or the data hashed so far.
func (hd *hashedData) digest() ([]byte, error) {
	if hd.set_ {
		return hd.value, nil
	}
	if hd.h == nil {
		return nil, newError(HResultInvalidArg, "Параметр задан неверно: значение хеша не задано (Hash или SetHashValue)")
	}
	return hd.h.Sum(nil), nil
}

func (hd *hashedData) set(_ *Session, name string, v arg) error {
	switch name {
	case "Algorithm":
		n, err := v.int("Algorithm", 0)
		if err != nil {
			return err
		}
		if _, err := hashDigest(n); err != nil {
			return err
		}
		if hd.h != nil || hd.set_ {
			return invalidArg("Algorithm задаётся до Hash и SetHashValue")
		}
		hd.alg = n
		return nil
	case "DataEncoding":
		n, err := v.int("DataEncoding", 0)
		if err != nil {
			return err
		}
		if n != StringToUCS2LE && n != Base64ToBinary {
			return invalidArg("DataEncoding %d", n)
		}
		hd.encoding = n
		return nil
	}
	return notSupported("HashedData." + name)
}

func (hd *hashedData) call(_ context.Context, _ *Session, name string, args []arg) (any, error) {
	d, err := hashDigest(hd.alg)
	if err != nil {
		return nil, err
	}
	s, err := argAt(args, 0).str("newVal")
	if err != nil {
		return nil, err
	}
	if name == "SetHashValue" {
		v, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil || len(v) != d.Size {
			return nil, invalidArg("значение хеша: %d байт в шестнадцатеричной записи", d.Size)
		}
		hd.value, hd.set_, hd.h = v, true, nil
		return nil, nil
	}
	data, err := decodeContent(s, hd.encoding)
	if err != nil {
		return nil, err
	}
	if hd.set_ {
		return nil, invalidArg("значение хеша уже задано SetHashValue")
	}
	if hd.h == nil {
		hd.h = d.New()
	}
	hd.h.Write(data) // Hash may be called again for the next part
	return nil, nil
}

// decodeContent turns a page's string into bytes: UTF-16LE (CryptoPro's
// default, CADESCOM_STRING_TO_UCS2LE) or base64.
func decodeContent(s string, enc int) ([]byte, error) {
	if enc == Base64ToBinary {
		return decodeBase64(s)
	}
	u := utf16.Encode([]rune(s))
	out := make([]byte, 2*len(u))
	for i, c := range u {
		out[2*i], out[2*i+1] = byte(c), byte(c>>8)
	}
	return out, nil
}

// encodeContent is decodeContent's inverse, for reading Content back.
func encodeContent(b []byte, enc int) string {
	if enc == Base64ToBinary {
		s, _ := encodeBytes(b, EncodeBase64)
		return s
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}

// ---- CadesSignedData -------------------------------------------------------

type signedData struct {
	encoding   int
	content    []byte
	contentSet bool
	display    int
	sig        []byte // the last signature made or verified
	signers    []*signerObj
	certs      []*certObj
}

func (d *signedData) size() int64 { return int64(len(d.content) + len(d.sig)) }

func (*signedData) className() string { return "CadesSignedData" }
func (*signedData) props() []string {
	return []string{"Content", "ContentEncoding", "DisplayData", "Signers", "Certificates"}
}
func (*signedData) methods() []string {
	return []string{"SignCades", "SignHash", "CoSignCades", "CoSignHash", "VerifyCades", "VerifyHash", "EnhanceCades", "Display"}
}

func (d *signedData) get(_ context.Context, _ *Session, name string) (any, error) {
	switch name {
	case "Content":
		return encodeContent(d.content, d.encoding), nil
	case "ContentEncoding":
		return d.encoding, nil
	case "DisplayData":
		return d.display, nil
	case "Signers":
		return &signerList{list: d.signers}, nil
	}
	return &certList{list: d.certs}, nil
}

func (d *signedData) set(s *Session, name string, v arg) error {
	switch name {
	case "ContentEncoding":
		n, err := v.int("ContentEncoding", 0)
		if err != nil {
			return err
		}
		if n != StringToUCS2LE && n != Base64ToBinary {
			return invalidArg("ContentEncoding %d", n)
		}
		d.encoding = n
		return nil
	case "Content":
		str, err := v.str("Content")
		if err != nil {
			return err
		}
		b, err := decodeContent(str, d.encoding)
		if err != nil {
			return err
		}
		return d.setContent(s, b)
	case "DisplayData":
		// How CryptoPro's window shows the data; kep's window always shows
		// the size and digest of what is signed.
		n, err := v.int("DisplayData", 0)
		d.display = n
		return err
	}
	return readOnly(name)
}

func (d *signedData) setContent(s *Session, b []byte) error {
	if err := s.charge(int64(len(b) - len(d.content))); err != nil {
		return err
	}
	d.content, d.contentSet = b, true
	return nil
}

func (d *signedData) setSig(s *Session, b []byte) error {
	if err := s.charge(int64(len(b) - len(d.sig))); err != nil {
		return err
	}
	d.sig = b
	return nil
}

func (d *signedData) call(ctx context.Context, s *Session, name string, args []arg) (any, error) {
	switch name {
	case "SignCades":
		return d.signCades(ctx, s, args, false)
	case "CoSignCades":
		return d.signCades(ctx, s, args, true)
	case "SignHash":
		return d.signHash(ctx, s, args, false)
	case "CoSignHash":
		return d.signHash(ctx, s, args, true)
	case "VerifyCades":
		return nil, d.verifyCades(ctx, s, args)
	case "VerifyHash":
		return nil, d.verifyHash(ctx, s, args)
	case "EnhanceCades":
		return nil, notSupported("CadesSignedData.EnhanceCades (усовершенствование подписи)")
	}
	return nil, notSupported("CadesSignedData.Display (окно)")
}

// level checks a signature type for signing: whether it needs a
// time-stamp and whether it is CAdES-X Long Type 1 (CryptoPro's default,
// CADESCOM_CADES_DEFAULT, is X-L1 too).
func level(typ int) (timestamp, xl1 bool, err error) {
	switch typ {
	case CadesBES, PKCS7Type:
		return false, false, nil
	case CadesT:
		return true, false, nil
	case CadesXLT1, CadesDefault:
		return true, true, nil
	}
	return false, false, invalidArg("тип подписи %d", typ)
}

// signParams is what a signature needs from the page's objects, read
// under the session lock.
type signParams struct {
	signer *signerObj
	entry  *certObj
	opts   sign.Options
	pin    []byte
}

func (d *signedData) prepare(ctx context.Context, s *Session, sgArg arg, typ int) (*signParams, error) {
	sg, ok := sgArg.o.(*signerObj)
	if !ok {
		if sgArg.absent() {
			return nil, notSupported("Выбор сертификата в окне (SignCades без CPSigner)")
		}
		return nil, invalidArg("ожидался объект CPSigner")
	}
	if sg.cert == nil || sg.cert.cert == nil {
		return nil, newError(HResultNotFound, "Не задан сертификат подписи (CPSigner.Certificate)")
	}
	ts, xl1, err := level(typ)
	if err != nil {
		return nil, err
	}
	p := &signParams{signer: sg, entry: sg.cert}
	cert := sg.cert.cert
	p.opts.Digest = certs.DefaultDigestFor(cert.PublicKey)
	if p.opts.Digest == nil {
		return nil, newError(HResultBadAlgID, "Алгоритм ключа сертификата не поддерживается kep")
	}
	now := s.b.Now()
	p.opts.SigningTime = now
	if sg.auth != nil {
		for _, a := range sg.auth.list {
			switch a.name {
			case AttrSigningTime:
				t, err := parseDate(a.value)
				if err != nil {
					return nil, err
				}
				if skew := t.Sub(now); skew > maxClockSkew || skew < -maxClockSkew {
					return nil, invalidArg("время подписания %s расходится с часами компьютера %s больше чем на 5 минут",
						t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
				}
				p.opts.SigningTime = t
			case AttrDocumentName:
				return nil, notSupported("Атрибут «имя документа» (CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_NAME)")
			case AttrDocumentDescription:
				return nil, notSupported("Атрибут «описание документа» (CADESCOM_AUTHENTICATED_ATTRIBUTE_DOCUMENT_DESCRIPTION)")
			default:
				return nil, invalidArg("атрибут без имени (CPAttribute.Name)")
			}
		}
	}
	if sg.unauth != nil && len(sg.unauth.list) > 0 {
		return nil, notSupported("Неподписанные атрибуты (UnauthenticatedAttributes)")
	}
	for _, c := range sg.cert.chain() {
		selfSigned := bytes.Equal(c.RawSubject, c.RawIssuer)
		switch {
		case sg.options == IncludeEndEntityOnly:
		case sg.options == IncludeChainExceptRoot && selfSigned:
		default:
			p.opts.Chain = append(p.opts.Chain, c)
		}
	}
	if ts {
		tsa, err := s.b.Timestamper(sg.tsa)
		if err != nil {
			return nil, wrapErr(err)
		}
		p.opts.Timestamper = tsa
		p.opts.Profile = sign.ProfileT
	}
	if xl1 {
		p.opts.Profile = sign.ProfileXLT1
		p.opts.Revocation, p.opts.Issuers, p.opts.ValidationCerts = s.b.LongTerm()
	}
	if sg.pin != nil {
		p.pin = append([]byte(nil), sg.pin...)
	}
	if sg.check {
		var verr error
		s.outside(func() error { verr = s.b.ValidateCertificate(ctx, cert, sg.cert.chain()); return nil })
		if verr != nil {
			return nil, wrapErr(verr)
		}
	}
	return p, nil
}

// entry finds the token key of the signer's certificate.
func (p *signParams) keyUse(ctx context.Context, s *Session, digest []byte, size int64, method string) (KeyUse, error) {
	e, err := p.entry.keyEntry(ctx, s)
	if err != nil {
		return KeyUse{}, err
	}
	if e == nil || !e.CanSign() {
		return KeyUse{}, newError(HResultNoKeyProperty, "Закрытый ключ сертификата %s не найден ни на одном токене", p.entry.cert.Thumbprint())
	}
	return KeyUse{Entry: e, PIN: p.pin, DigestAlg: p.opts.Digest.Name, Digest: digest, Size: size, Method: method,
		Description: "CryptoPro API: " + method}, nil
}

func (d *signedData) signCades(ctx context.Context, s *Session, args []arg, cosign bool) (any, error) {
	defaultType := CadesDefault
	typIdx, detIdx, encIdx := 1, 2, 3
	if cosign {
		typIdx, detIdx, encIdx = 1, -1, 2
	}
	typ, err := argAt(args, typIdx).int("CadesType", defaultType)
	if err != nil {
		return nil, err
	}
	detached := false
	if detIdx >= 0 {
		if detached, err = argAt(args, detIdx).bool("bDetached", false); err != nil {
			return nil, err
		}
	}
	enc, err := argAt(args, encIdx).int("EncodingType", EncodeBase64)
	if err != nil {
		return nil, err
	}
	if _, err := encodeBytes(nil, enc); err != nil {
		return nil, err
	}
	p, err := d.prepare(ctx, s, argAt(args, 0), typ)
	if err != nil {
		return nil, err
	}
	defer clear(p.pin)
	var existing []byte
	if cosign {
		if d.sig == nil {
			return nil, newError(HResultNoSigner, "Нет подписи для добавления подписи: сначала VerifyCades")
		}
		existing = d.sig
		parsed, err := cms.Parse(existing)
		if err != nil {
			return nil, newError(HResultASN1BadTag, "Подпись не читается: %v", err)
		}
		detached = parsed.EContent == nil
		if !detached {
			if err := d.setContent(s, parsed.EContent); err != nil {
				return nil, err
			}
		}
	}
	if !d.contentSet && !(cosign && !detached) {
		return nil, newError(HResultInvalidArg, "Параметр задан неверно: не заданы данные для подписи (Content)")
	}
	content := d.content
	digest := p.opts.Digest.Sum(content)
	method := "CadesSignedData.SignCades"
	if cosign {
		method = "CadesSignedData.CoSignCades"
	}
	use, err := p.keyUse(ctx, s, digest, int64(len(content)), method)
	if err != nil {
		return nil, err
	}
	p.opts.Attached = !detached
	cert := p.entry.cert
	var out []byte
	err = s.outside(func() error {
		return s.b.WithKey(ctx, use, func(ctx context.Context, signer crypto.Signer) error {
			var err error
			switch {
			case cosign:
				out, err = sign.Cosign(ctx, existing, bytes.NewReader(content), signer, cert, p.opts)
			case detached:
				out, err = sign.SignDigestContext(ctx, digest, signer, cert, p.opts)
			default:
				out, err = sign.Sign(ctx, bytes.NewReader(content), signer, cert, p.opts)
			}
			return err
		})
	})
	if err != nil {
		return nil, wrapErr(err)
	}
	if err := d.loaded(s, out); err != nil {
		return nil, err
	}
	return encodeBytes(out, enc)
}

func (d *signedData) signHash(ctx context.Context, s *Session, args []arg, cosign bool) (any, error) {
	hd, ok := argAt(args, 0).o.(*hashedData)
	if !ok {
		return nil, invalidArg("ожидался объект HashedData")
	}
	typ, err := argAt(args, 2).int("CadesType", CadesDefault)
	if err != nil {
		return nil, err
	}
	enc, err := argAt(args, 3).int("EncodingType", EncodeBase64)
	if err != nil {
		return nil, err
	}
	if _, err := encodeBytes(nil, enc); err != nil {
		return nil, err
	}
	p, err := d.prepare(ctx, s, argAt(args, 1), typ)
	if err != nil {
		return nil, err
	}
	defer clear(p.pin)
	hdDigest, err := hashDigest(hd.alg)
	if err != nil {
		return nil, err
	}
	digest, err := hd.digest()
	if err != nil {
		return nil, err
	}
	if hdDigest != p.opts.Digest {
		return nil, newError(HResultBadAlgID, "Ключ сертификата подписывает хеш %s, а HashedData — %s", p.opts.Digest.Name, hdDigest.Name)
	}
	var existing *cms.SignedData
	if cosign {
		if d.sig == nil {
			return nil, newError(HResultNoSigner, "Нет подписи для добавления подписи: сначала VerifyHash")
		}
		if existing, err = cms.Parse(d.sig); err != nil {
			return nil, newError(HResultASN1BadTag, "Подпись не читается: %v", err)
		}
		if existing.EContent != nil {
			return nil, invalidArg("CoSignHash добавляет подпись к отделённой подписи")
		}
	}
	method := "CadesSignedData.SignHash"
	if cosign {
		method = "CadesSignedData.CoSignHash"
	}
	use, err := p.keyUse(ctx, s, digest, -1, method)
	if err != nil {
		return nil, err
	}
	cert := p.entry.cert
	var out []byte
	err = s.outside(func() error {
		return s.b.WithKey(ctx, use, func(ctx context.Context, signer crypto.Signer) error {
			var err error
			out, err = sign.SignDigestContext(ctx, digest, signer, cert, p.opts)
			if err == nil && existing != nil {
				out, err = mergeSigners(existing, out)
			}
			return err
		})
	})
	if err != nil {
		return nil, wrapErr(err)
	}
	if err := d.loaded(s, out); err != nil {
		return nil, err
	}
	return encodeBytes(out, enc)
}

// mergeSigners adds the signer of the one-signer signature add to
// existing, keeping existing's signers, certificates and CRLs as they are.
func mergeSigners(existing *cms.SignedData, add []byte) ([]byte, error) {
	n, err := cms.Parse(add)
	if err != nil {
		return nil, err
	}
	for _, a := range n.DigestAlgorithms {
		if !hasAlg(existing.DigestAlgorithms, a) {
			existing.DigestAlgorithms = append(existing.DigestAlgorithms, a)
		}
	}
	for _, c := range n.Certificates {
		found := false
		for _, e := range existing.Certificates {
			if bytes.Equal(e, c) {
				found = true
			}
		}
		if !found {
			existing.Certificates = append(existing.Certificates, c)
		}
	}
	existing.SignerInfos = append(existing.SignerInfos, n.SignerInfos...)
	return existing.Marshal()
}

func hasAlg(list []pkix.AlgorithmIdentifier, a pkix.AlgorithmIdentifier) bool {
	for _, x := range list {
		if x.Algorithm.Equal(a.Algorithm) {
			return true
		}
	}
	return false
}

// loaded keeps a signature made or verified: Signers and Certificates
// describe it, CoSign adds to it.
func (d *signedData) loaded(s *Session, sig []byte) error {
	sd, err := cms.Parse(sig)
	if err != nil {
		return newError(HResultASN1BadTag, "Подпись не читается: %v", err)
	}
	if err := d.setSig(s, sig); err != nil {
		return err
	}
	var embedded []*certs.Certificate
	for _, raw := range sd.Certificates {
		if c, err := certs.ParseCertificate(raw); err == nil {
			embedded = append(embedded, c)
		}
	}
	d.certs = nil
	for _, c := range embedded {
		d.certs = append(d.certs, &certObj{cert: c, extra: embedded})
	}
	d.signers = nil
	for i := range sd.SignerInfos {
		si := &sd.SignerInfos[i]
		sg := &signerObj{readOnly: true}
		if c := signerCert(si, embedded); c != nil {
			sg.cert = &certObj{cert: c, extra: embedded}
		}
		if vals, n := si.Attr(cms.OIDAttrSigningTime); n == 1 && len(vals) == 1 {
			if t, err := cms.ParseTime(vals[0]); err == nil {
				sg.signingTime = t
			}
		}
		for _, a := range si.UnsignedAttrs {
			if a.Type.Equal(cms.OIDAttrSignatureTimeStamp) && len(a.Values) > 0 {
				if t, ok := tokenTime(a.Values[0]); ok {
					sg.tsTime = t
				}
			}
		}
		d.signers = append(d.signers, sg)
	}
	return nil
}

func signerCert(si *cms.SignerInfo, list []*certs.Certificate) *certs.Certificate {
	for _, c := range list {
		switch {
		case si.IssuerAndSerial != nil:
			if bytes.Equal(c.RawIssuer, si.IssuerAndSerial.RawIssuer) && c.SerialNumber.Cmp(si.IssuerAndSerial.Serial) == 0 {
				return c
			}
		case si.SubjectKeyID != nil:
			if bytes.Equal(c.SubjectKeyId, si.SubjectKeyID) {
				return c
			}
		}
	}
	return nil
}

type signerList struct{ list []*signerObj }

func (*signerList) className() string { return "CPSigners" }
func (*signerList) props() []string   { return []string{"Count"} }
func (*signerList) methods() []string { return []string{"Item"} }
func (l *signerList) get(context.Context, *Session, string) (any, error) {
	return len(l.list), nil
}
func (*signerList) set(_ *Session, name string, _ arg) error { return readOnly(name) }
func (l *signerList) call(_ context.Context, _ *Session, _ string, args []arg) (any, error) {
	i, err := argAt(args, 0).int("Index", 0)
	if err != nil {
		return nil, err
	}
	if i < 1 || i > len(l.list) {
		return nil, invalidArg("индекс %d вне 1…%d", i, len(l.list))
	}
	return l.list[i-1], nil
}

// ---- verification ------------------------------------------------------------

func verifyProfile(typ int) (verify.Profile, bool, error) {
	switch typ {
	case CadesDefault, PKCS7Type:
		return verify.ProfileCMS, false, nil
	case CadesBES:
		return verify.ProfileCAdESBES, false, nil
	case CadesT:
		return verify.ProfileCAdEST, false, nil
	case CadesXLT1:
		return verify.ProfileCAdEST, true, nil
	}
	return 0, false, invalidArg("тип подписи %d", typ)
}

func (d *signedData) verifyCades(ctx context.Context, s *Session, args []arg) error {
	msg, err := argAt(args, 0).str("SignedMessage")
	if err != nil {
		return err
	}
	typ, err := argAt(args, 1).int("CadesType", CadesDefault)
	if err != nil {
		return err
	}
	detached, err := argAt(args, 2).bool("bDetached", false)
	if err != nil {
		return err
	}
	sig, err := decodeBase64(msg)
	if err != nil {
		return err
	}
	opts := verify.Options{}
	if opts.Profile, _, err = verifyProfile(typ); err != nil {
		return err
	}
	if detached {
		if !d.contentSet {
			return newError(HResultInvalidArg, "Параметр задан неверно: для отделённой подписи задайте Content")
		}
		opts.Content = bytes.NewReader(d.content)
	}
	return d.check(ctx, s, sig, opts, typ == CadesXLT1, !detached)
}

func (d *signedData) verifyHash(ctx context.Context, s *Session, args []arg) error {
	hd, ok := argAt(args, 0).o.(*hashedData)
	if !ok {
		return invalidArg("ожидался объект HashedData")
	}
	msg, err := argAt(args, 1).str("SignedMessage")
	if err != nil {
		return err
	}
	typ, err := argAt(args, 2).int("CadesType", CadesDefault)
	if err != nil {
		return err
	}
	sig, err := decodeBase64(msg)
	if err != nil {
		return err
	}
	alg, err := hashDigest(hd.alg)
	if err != nil {
		return err
	}
	digest, err := hd.digest()
	if err != nil {
		return err
	}
	opts := verify.Options{ContentDigest: digest, ContentDigestAlg: alg}
	if opts.Profile, _, err = verifyProfile(typ); err != nil {
		return err
	}
	return d.check(ctx, s, sig, opts, typ == CadesXLT1, false)
}

// check verifies sig and keeps it; a signature that does not pass throws,
// as CryptoPro's VerifyCades does.
func (d *signedData) check(ctx context.Context, s *Session, sig []byte, opts verify.Options, xl1, attached bool) error {
	var rep *verify.Report
	err := s.outside(func() error {
		var err error
		rep, err = s.b.Verify(ctx, sig, opts)
		return err
	})
	if err != nil {
		return wrapErr(err)
	}
	if err := ReportError(rep); err != nil {
		return err
	}
	if xl1 {
		for _, sr := range rep.Signers {
			if sr.Level != "X-L1" {
				return newError(HResultNotFound, "Подпись не усовершенствованная (CAdES-X Long Type 1): её уровень %s", sr.Level)
			}
		}
	}
	if attached && rep.Content != nil {
		if err := d.setContent(s, rep.Content); err != nil {
			return err
		}
	}
	return d.loaded(s, sig)
}

// ReportError is the CAdESCOM error of a verification report that did not
// pass (nil for TOTAL_PASSED), with the HRESULT CryptoAPI gives the cause.
func ReportError(rep *verify.Report) *Error {
	if rep.Indication == verify.TotalPassed {
		return nil
	}
	summary := rep.Summary("ru")
	failed := map[string]bool{}
	sub := rep.SubIndication
	for _, c := range rep.Checks {
		if c.Status == verify.Failed {
			failed[c.Code] = true
		}
	}
	for _, sr := range rep.Signers {
		if sr.Indication != verify.TotalPassed && sub == "" {
			sub = sr.SubIndication
		}
		for _, c := range sr.Checks {
			if c.Status == verify.Failed {
				failed[c.Code] = true
			}
		}
	}
	hr := HResultFail
	switch {
	case failed["FORMAT"]:
		hr = HResultASN1BadTag
	case failed["CONTENT"]:
		hr = HResultInvalidArg
	case failed["MESSAGE_DIGEST"] || sub == verify.HashFailure:
		hr = HResultHashValue
	case failed["SIGNATURE"] || sub == verify.SigCryptoFailure:
		hr = HResultBadSignature
	case failed["SIGNER_CERTIFICATE"] || sub == verify.NoSigningCertificateFound:
		hr = HResultNoSigner
	case strings.Contains(sub, "REVOKED"):
		hr = HResultRevoked
	case sub == certs.SubOutOfBoundsNoPOE || sub == certs.SubOutOfBoundsNotRevoked || sub == certs.SubNotYetValid:
		hr = HResultExpired
	case sub == "TRY_LATER" || sub == "REVOCATION_UNKNOWN":
		hr = HResultNoRevocation
	case sub == certs.SubNoCertificateChainFound || failed["CHAIN"] || sub == certs.SubCertificateChainGeneral:
		hr = HResultChaining
	}
	return &Error{HRESULT: hr, Message: "Подпись не прошла проверку: " + oneLine(summary)}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}

// tokenTime reads genTime from a time-stamp token (for
// SignatureTimeStampTime); it proves nothing here, verify checks it.
func tokenTime(token []byte) (time.Time, bool) {
	info, err := tspParse(token)
	if err != nil {
		return time.Time{}, false
	}
	return info, true
}

func tspParse(token []byte) (time.Time, error) {
	info, err := tsp.Parse(token)
	if err != nil {
		return time.Time{}, err
	}
	return info.GenTime, nil
}
