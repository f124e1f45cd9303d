// Package trustlist reads the list of accredited certification authorities
// that the Минцифры publishes on the e-trust portal (the «TSL» XML,
// https://e-trust.gosuslugi.ru/app/scc/portal/api/v1/portal/ca/getxml) and
// answers whether a CA was accredited at a given time: a signature is
// qualified (63-FZ) only when its certificate's issuer was an accredited CA
// («Действует») when it was made.
//
// The elements read are those of the portal's schema: the root
// АккредитованныеУдостоверяющиеЦентры with Версия and Дата; per CA
// (УдостоверяющийЦентр) Название, КраткоеНазвание, ИНН, ОГРН,
// РеестровыйНомер, СтатусАккредитации (Статус, ДействуетС) and
// ИсторияСтатусовАккредитации (СтатусАккредитации…); per key
// (ПрограммноАппаратныеКомплексы/ПрограммноАппаратныйКомплекс/
// КлючиУполномоченныхЛиц/Ключ) ИдентификаторКлюча, АдресаСписковОтзыва/Адрес
// and Сертификаты/ДанныеСертификата with Отпечаток and Данные (the
// certificate, base64 DER). Other elements are skipped. The file (tens of
// megabytes) is read as a stream; Parse bounds its size.
//
// Warning: the list is downloaded over HTTPS but is not signed in a way this
// package checks; keep it where only its owner can write.
package trustlist

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kepkit/kep/certs"
)

// MaxSize bounds the XML read by Parse.
const MaxSize = 256 << 20

// Accreditation statuses as the list writes them.
const (
	StatusActive     = "Действует"
	StatusTerminated = "Прекращена"
	StatusSuspended  = "Приостановлена"
)

// ErrFormat: the data is not a list of accredited CAs.
var ErrFormat = errors.New("trustlist: not a list of accredited CAs")

// List is a parsed list.
type List struct {
	Version int64
	Date    time.Time
	CAs     []*CA

	byThumb map[string]*CA
	byKeyID map[string]*CA
}

// CA is an accredited (or formerly accredited) certification authority.
type CA struct {
	Name, ShortName string
	INN, OGRN       string
	RegNumber       string
	// Status is the current status; History all known ones, oldest first
	// (Status included).
	Status  StatusEntry
	History []StatusEntry
	Keys    []Key
}

// StatusEntry is an accreditation status from a time on.
type StatusEntry struct {
	Status string    `json:"status"`
	From   time.Time `json:"from"`
}

// Key is one of a CA's signing keys.
type Key struct {
	ID           []byte // ИдентификаторКлюча: the key identifier (SKI)
	CRLs         []string
	Certificates []*certs.Certificate
}

// StatusAt is the CA's accreditation status at t: the last status that took
// effect at or before t ("" before the first).
func (ca *CA) StatusAt(t time.Time) StatusEntry {
	var out StatusEntry
	for _, s := range ca.History {
		if !s.From.After(t) {
			out = s
		}
	}
	return out
}

// Accreditation is the answer about a CA certificate.
type Accreditation struct {
	Accredited bool
	// CA is the list's entry for the certificate; nil when it is not listed.
	CA     *CA
	Status StatusEntry
	Detail string
}

// Accredited says whether ca (the certificate that issued a signer's
// certificate) belonged to a CA accredited at at. The certificate is found by
// its SHA-1 thumbprint, else by its subject key identifier.
func (l *List) Accredited(ca *certs.Certificate, at time.Time) Accreditation {
	entry := l.byThumb[ca.Thumbprint()]
	if entry == nil && len(ca.SubjectKeyId) > 0 {
		entry = l.byKeyID[hex.EncodeToString(ca.SubjectKeyId)]
	}
	if entry == nil {
		return Accreditation{Detail: fmt.Sprintf("%s is not on the list of accredited CAs (version %d)", ca.Subject.CommonName, l.Version)}
	}
	st := entry.StatusAt(at)
	a := Accreditation{CA: entry, Status: st, Accredited: st.Status == StatusActive}
	switch {
	case st.Status == "":
		a.Detail = fmt.Sprintf("%s was not yet accredited at %s", entry.Name, at.UTC().Format(time.RFC3339))
	default:
		a.Detail = fmt.Sprintf("%s: %s since %s (list version %d)", entry.Name, st.Status, st.From.UTC().Format("2006-01-02"), l.Version)
	}
	return a
}

// CheckAccreditation implements verify.AccreditationChecker.
func (l *List) CheckAccreditation(ca *certs.Certificate, at time.Time) (bool, string) {
	a := l.Accredited(ca, at)
	return a.Accredited, a.Detail
}

// Certificates returns the CA certificates on the list: the self-signed ones
// (roots, such as the head CA's) and the others (intermediates).
func (l *List) Certificates() (roots, intermediates []*certs.Certificate) {
	seen := map[string]bool{}
	for _, ca := range l.CAs {
		for _, k := range ca.Keys {
			for _, c := range k.Certificates {
				if seen[c.Thumbprint()] {
					continue
				}
				seen[c.Thumbprint()] = true
				if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
					roots = append(roots, c)
				} else {
					intermediates = append(intermediates, c)
				}
			}
		}
	}
	return roots, intermediates
}

// xml shapes of the elements read.
type xmlStatus struct {
	Status string `xml:"Статус"`
	From   string `xml:"ДействуетС"`
}

type xmlCA struct {
	Name      string      `xml:"Название"`
	ShortName string      `xml:"КраткоеНазвание"`
	INN       string      `xml:"ИНН"`
	OGRN      string      `xml:"ОГРН"`
	RegNumber string      `xml:"РеестровыйНомер"`
	Status    xmlStatus   `xml:"СтатусАккредитации"`
	History   []xmlStatus `xml:"ИсторияСтатусовАккредитации>СтатусАккредитации"`
	Complexes []struct {
		Keys []struct {
			ID    string   `xml:"ИдентификаторКлюча"`
			CRLs  []string `xml:"АдресаСписковОтзыва>Адрес"`
			Certs []struct {
				Thumbprint string `xml:"Отпечаток"`
				Data       string `xml:"Данные"`
			} `xml:"Сертификаты>ДанныеСертификата"`
		} `xml:"КлючиУполномоченныхЛиц>Ключ"`
	} `xml:"ПрограммноАппаратныеКомплексы>ПрограммноАппаратныйКомплекс"`
}

// Parse reads a list from r (at most MaxSize bytes).
func Parse(r io.Reader) (*List, error) { return parse(r, MaxSize) }

func parse(r io.Reader, limit int64) (*List, error) {
	lr := &io.LimitedReader{R: r, N: limit + 1}
	dec := xml.NewDecoder(lr)
	dec.CharsetReader = func(charset string, in io.Reader) (io.Reader, error) {
		if strings.EqualFold(charset, "utf-8") {
			return in, nil
		}
		return nil, fmt.Errorf("%w: encoding %s (the portal writes UTF-8)", ErrFormat, charset)
	}
	l := &List{byThumb: map[string]*CA{}, byKeyID: map[string]*CA{}}
	rootSeen := false
	l, err := parseTokens(dec, l, &rootSeen)
	if lr.N <= 0 {
		return nil, fmt.Errorf("%w: over %d bytes", ErrFormat, limit)
	}
	if err != nil {
		return nil, err
	}
	if !rootSeen {
		return nil, fmt.Errorf("%w: empty document", ErrFormat)
	}
	return l, nil
}

func parseTokens(dec *xml.Decoder, l *List, rootSeen *bool) (*List, error) {
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case !*rootSeen:
			if se.Name.Local != "АккредитованныеУдостоверяющиеЦентры" {
				return nil, fmt.Errorf("%w: root element <%s>", ErrFormat, se.Name.Local)
			}
			*rootSeen = true
		case se.Name.Local == "Версия":
			var s string
			if err := dec.DecodeElement(&s, &se); err != nil {
				return nil, fmt.Errorf("%w: Версия: %v", ErrFormat, err)
			}
			if l.Version, err = strconv.ParseInt(strings.TrimSpace(s), 10, 64); err != nil {
				return nil, fmt.Errorf("%w: Версия %q", ErrFormat, s)
			}
		case se.Name.Local == "Дата":
			var s string
			if err := dec.DecodeElement(&s, &se); err != nil {
				return nil, fmt.Errorf("%w: Дата: %v", ErrFormat, err)
			}
			if l.Date, err = parseTime(s); err != nil {
				return nil, fmt.Errorf("%w: Дата %q", ErrFormat, s)
			}
		case se.Name.Local == "УдостоверяющийЦентр":
			var x xmlCA
			if err := dec.DecodeElement(&x, &se); err != nil {
				return nil, fmt.Errorf("%w: УдостоверяющийЦентр: %v", ErrFormat, err)
			}
			ca, err := convert(x)
			if err != nil {
				return nil, err
			}
			l.add(ca)
		default:
			if err := dec.Skip(); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrFormat, err)
			}
		}
	}
	return l, nil
}

func (l *List) add(ca *CA) {
	l.CAs = append(l.CAs, ca)
	for _, k := range ca.Keys {
		if len(k.ID) > 0 {
			l.byKeyID[hex.EncodeToString(k.ID)] = ca
		}
		for _, c := range k.Certificates {
			l.byThumb[c.Thumbprint()] = ca
			if len(c.SubjectKeyId) > 0 {
				l.byKeyID[hex.EncodeToString(c.SubjectKeyId)] = ca
			}
		}
	}
}

func convert(x xmlCA) (*CA, error) {
	ca := &CA{Name: strings.TrimSpace(x.Name), ShortName: strings.TrimSpace(x.ShortName), INN: strings.TrimSpace(x.INN),
		OGRN: strings.TrimSpace(x.OGRN), RegNumber: strings.TrimSpace(x.RegNumber)}
	status := func(s xmlStatus) (StatusEntry, error) {
		t, err := parseTime(s.From)
		if err != nil {
			return StatusEntry{}, fmt.Errorf("%w: %s: ДействуетС %q", ErrFormat, ca.Name, s.From)
		}
		return StatusEntry{Status: strings.TrimSpace(s.Status), From: t}, nil
	}
	if x.Status.Status != "" {
		st, err := status(x.Status)
		if err != nil {
			return nil, err
		}
		ca.Status = st
		ca.History = append(ca.History, st)
	}
	for _, h := range x.History {
		st, err := status(h)
		if err != nil {
			return nil, err
		}
		if st != ca.Status {
			ca.History = append(ca.History, st)
		}
	}
	sort.SliceStable(ca.History, func(i, j int) bool { return ca.History[i].From.Before(ca.History[j].From) })
	for _, cx := range x.Complexes {
		for _, kx := range cx.Keys {
			k := Key{CRLs: kx.CRLs}
			if id := strings.TrimSpace(kx.ID); id != "" {
				b, err := hex.DecodeString(strings.ReplaceAll(id, " ", ""))
				if err != nil {
					return nil, fmt.Errorf("%w: %s: ИдентификаторКлюча %q", ErrFormat, ca.Name, id)
				}
				k.ID = b
			}
			for _, cd := range kx.Certs {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(cd.Data), ""))
				if err != nil {
					return nil, fmt.Errorf("%w: %s: certificate %s: %v", ErrFormat, ca.Name, cd.Thumbprint, err)
				}
				c, err := certs.ParseCertificate(der)
				if err != nil {
					return nil, fmt.Errorf("%w: %s: certificate %s: %v", ErrFormat, ca.Name, cd.Thumbprint, err)
				}
				if tp := strings.ToUpper(strings.TrimSpace(cd.Thumbprint)); tp != "" && tp != c.Thumbprint() {
					return nil, fmt.Errorf("%w: %s: Отпечаток %s is not the certificate's (%s)", ErrFormat, ca.Name, tp, c.Thumbprint())
				}
				k.Certificates = append(k.Certificates, c)
			}
			ca.Keys = append(ca.Keys, k)
		}
	}
	return ca, nil
}

// parseTime reads the list's dateTime values (with or without a zone; no
// zone means Moscow time, as the portal writes).
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			if layout != time.RFC3339Nano {
				t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), moscow)
			}
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q", s)
}

var moscow = time.FixedZone("MSK", 3*60*60)

// PortalURL is where the e-trust portal publishes the list.
const PortalURL = "https://e-trust.gosuslugi.ru/app/scc/portal/api/v1/portal/ca/getxml"

// DefaultFile is where `kep trust update` keeps the list: kep/trust/tsl.xml
// in the user's config directory.
func DefaultFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "kep", "trust", "tsl.xml"), nil
}

// Load parses the list in the file at path.
func Load(path string) (*List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	l, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// Fetch downloads a list from url (http or https) within MaxSize bytes,
// checks that it parses, and returns its bytes with the parse.
func Fetch(ctx context.Context, client *http.Client, url string) ([]byte, *List, error) {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Minute}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("trustlist: %s: HTTP %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("trustlist: %s: %w", url, err)
	}
	if len(data) > MaxSize {
		return nil, nil, fmt.Errorf("%w: %s sent over %d bytes", ErrFormat, url, MaxSize)
	}
	l, err := Parse(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", url, err)
	}
	return data, l, nil
}
