package cades

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11/keystore"
	"github.com/kepkit/kep/sign"
	"github.com/kepkit/kep/verify"
)

// Backend is what a Session needs from the agent: the certificates the
// page may use, the user's approval and key for one signature, and
// verification with the agent's trust anchors.
type Backend interface {
	// Certificates lists the certificates of every token that the page may
	// see (its own share of them when the user chose a few).
	Certificates(ctx context.Context) ([]*keystore.Entry, error)
	// WithKey has the user approve use (in the agent's window, or with the
	// page's PIN where the operator allows it) and runs fn with the key.
	WithKey(ctx context.Context, use KeyUse, fn func(ctx context.Context, signer crypto.Signer) error) error
	// Verify checks sig with the agent's trust anchors and clock; opts
	// carries the content (or its digest) only.
	Verify(ctx context.Context, sig []byte, opts verify.Options) (*verify.Report, error)
	// ValidateCertificate checks a certificate's chain to the agent's trust
	// anchors now (Certificate.IsValid, Find with bFindValidOnly).
	ValidateCertificate(ctx context.Context, c *certs.Certificate, chain []*certs.Certificate) error
	// Timestamper returns the time-stamping client for a CPSigner's
	// TSAAddress, or the agent's own TSA when url is empty.
	Timestamper(url string) (sign.Timestamper, error)
	// LongTerm gives what CAdES-X Long Type 1 needs: the revocation
	// data source, the issuer fetcher and the certificates (roots,
	// intermediates) the chains are built from.
	LongTerm() (sign.RevocationSource, sign.IssuerSource, []*certs.Certificate)
	// Now is the agent's clock.
	Now() time.Time
}

// KeyUse is one signature the user is asked to approve.
type KeyUse struct {
	Entry *keystore.Entry
	// PIN is CPSigner.KeyPin, nil when the page set none. The Backend wipes it.
	PIN         []byte
	DigestAlg   string
	Digest      []byte
	Size        int64 // bytes signed; -1 for a hash given by the page
	Description string
	Method      string // e.g. "CadesSignedData.SignCades", for the audit log
}

// Limits bound what one connection's objects may hold. Zero fields take the
// defaults given.
type Limits struct {
	MaxObjects int   // live objects (4096)
	MaxBytes   int64 // content, signatures and certificates held (64 MiB)
	MaxArgs    int   // arguments of one call (16)
}

func (l Limits) withDefaults() Limits {
	if l.MaxObjects <= 0 {
		l.MaxObjects = 4096
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 64 << 20
	}
	if l.MaxArgs <= 0 {
		l.MaxArgs = 16
	}
	return l
}

// Session is one connection's objects: a handle table whose ids the page's
// proxy objects carry. Close releases everything. Safe for concurrent use;
// a call waiting for the user does not block the other objects.
type Session struct {
	b      Backend
	limits Limits

	mu    sync.Mutex
	objs  map[int64]object
	next  int64
	bytes int64
}

// NewSession makes an empty session over b.
func NewSession(b Backend, limits Limits) *Session {
	return &Session{b: b, limits: limits.withDefaults(), objs: map[int64]object{}}
}

// object is an instance of a CAdESCOM class.
type object interface {
	className() string
	// props and methods list the members, for the page's proxy.
	props() []string
	methods() []string
	get(ctx context.Context, s *Session, name string) (any, error)
	set(s *Session, name string, v arg) error
	call(ctx context.Context, s *Session, name string, args []arg) (any, error)
}

// sized objects hold bytes counted against Limits.MaxBytes.
type sized interface{ size() int64 }

// Ref is an object as the page sees it: its id, class and members.
type Ref struct {
	ID      int64    `json:"$obj"`
	Class   string   `json:"class"`
	Props   []string `json:"props"`
	Methods []string `json:"methods"`
}

// Create makes an object from its ProgID ("CAdESCOM.Store"…, matched
// without regard to case, as COM does).
func (s *Session) Create(progID string) (*Ref, error) {
	mk, ok := progIDs[strings.ToLower(progID)]
	if !ok {
		if unbuilt(strings.ToLower(progID)) {
			return nil, notSupported("Объект " + progID)
		}
		return nil, newError(HResultInvalidArg, "Неизвестный объект %q", limitText(progID))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.register(mk(s))
}

// register adds o to the table (s.mu held) and returns its Ref.
func (s *Session) register(o object) (*Ref, error) {
	if len(s.objs) >= s.limits.MaxObjects {
		return nil, newError(HResultOutOfMemory, "Создано слишком много объектов (%d): освободите их, cadesplugin.ReleasePluginObjects()", s.limits.MaxObjects)
	}
	if z, ok := o.(sized); ok {
		if err := s.charge(z.size()); err != nil {
			return nil, err
		}
	}
	s.next++
	s.objs[s.next] = o
	return &Ref{ID: s.next, Class: o.className(), Props: o.props(), Methods: o.methods()}, nil
}

// charge reserves n bytes (s.mu held).
func (s *Session) charge(n int64) error {
	if s.bytes+n > s.limits.MaxBytes {
		return newError(HResultOutOfMemory, "Недостаточно памяти: объекты этой страницы держат больше %d МиБ", s.limits.MaxBytes>>20)
	}
	s.bytes += n
	return nil
}

func (s *Session) lookup(id int64) (object, error) {
	o := s.objs[id]
	if o == nil {
		return nil, newError(HResultInvalidHandle, "Объект %d не существует или освобождён", id)
	}
	return o, nil
}

// Get reads a property.
func (s *Session) Get(ctx context.Context, id int64, name string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	if !has(o.props(), name) {
		return nil, noMember(o, name)
	}
	v, err := o.get(ctx, s, name)
	if err != nil {
		return nil, err
	}
	return s.out(v)
}

// Set writes a property (propset_Name in the asynchronous API).
func (s *Session) Set(id int64, name string, value json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.lookup(id)
	if err != nil {
		return err
	}
	if !has(o.props(), name) {
		return noMember(o, name)
	}
	args, err := s.decodeArgs(append(append([]byte{'['}, value...), ']'))
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return invalidArg("одно значение для %s", name)
	}
	return o.set(s, name, args[0])
}

// Call runs a method.
func (s *Session) Call(ctx context.Context, id int64, name string, args json.RawMessage) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.lookup(id)
	if err != nil {
		return nil, err
	}
	if !has(o.methods(), name) {
		return nil, noMember(o, name)
	}
	if len(args) == 0 {
		args = json.RawMessage("[]")
	}
	a, err := s.decodeArgs(args)
	if err != nil {
		return nil, err
	}
	v, err := o.call(ctx, s, name, a)
	if err != nil {
		return nil, err
	}
	return s.out(v)
}

// Release frees the objects named (ids the session does not hold are
// ignored, as released twice).
func (s *Session) Release(ids []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.drop(id)
	}
}

// ReleaseAll frees every object (cadesplugin.ReleasePluginObjects, and the
// end of the connection).
func (s *Session) ReleaseAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.objs {
		s.drop(id)
	}
}

// Len is the number of live objects.
func (s *Session) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objs)
}

func (s *Session) drop(id int64) {
	o := s.objs[id]
	if o == nil {
		return
	}
	if z, ok := o.(sized); ok {
		s.bytes -= z.size()
	}
	if w, ok := o.(interface{ wipe() }); ok {
		w.wipe()
	}
	delete(s.objs, id)
}

// outside runs fn without the session lock: for the user's approval and
// the network, during which the page may use its other objects.
func (s *Session) outside(fn func() error) error {
	s.mu.Unlock()
	defer s.mu.Lock()
	return fn()
}

// out turns a member's result into what the page gets: objects are
// registered and given as Refs.
func (s *Session) out(v any) (any, error) {
	switch t := v.(type) {
	case object:
		return s.register(t)
	case time.Time:
		return isoDate(t), nil
	}
	return v, nil
}

// isoDate is how dates travel to the page: ISO 8601 in UTC with
// milliseconds, as JavaScript's Date.prototype.toISOString writes them.
func isoDate(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func has(list []string, name string) bool {
	for _, n := range list {
		if n == name {
			return true
		}
	}
	return false
}

func noMember(o object, name string) *Error {
	return newError(HResultInvalidArg, "У объекта %s нет члена %q", o.className(), limitText(name))
}

// limitText keeps a page's text short and printable in error messages.
func limitText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64]) + "…"
	}
	return s
}

// arg is one argument from the page: null, a boolean, a number, a string
// or one of the session's objects ({"$obj": id}).
type arg struct {
	kind byte // 'z' null/absent, 'b', 'n', 's', 'o'
	b    bool
	n    float64
	s    string
	id   int64
	o    object
}

// decodeArgs reads a JSON array of arguments.
func (s *Session) decodeArgs(raw json.RawMessage) ([]arg, error) {
	list, err := parseArgs(raw, s.limits.MaxArgs)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].kind == 'o' {
			o, err := s.lookup(list[i].id)
			if err != nil {
				return nil, err
			}
			list[i].o = o
		}
	}
	return list, nil
}

// parseArgs decodes the JSON array without resolving object ids.
func parseArgs(raw json.RawMessage, maxArgs int) ([]arg, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, invalidArg("аргументы: %v", err)
	}
	if len(items) > maxArgs {
		return nil, invalidArg("больше %d аргументов", maxArgs)
	}
	out := make([]arg, 0, len(items))
	for _, it := range items {
		a, err := parseArg(it)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func parseArg(it json.RawMessage) (arg, error) {
	t := bytes.TrimSpace(it)
	if len(t) == 0 {
		return arg{}, invalidArg("пустой аргумент")
	}
	switch t[0] {
	case 'n':
		return arg{kind: 'z'}, nil
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(t, &b); err != nil {
			return arg{}, invalidArg("%v", err)
		}
		return arg{kind: 'b', b: b}, nil
	case '"':
		var str string
		if err := json.Unmarshal(t, &str); err != nil {
			return arg{}, invalidArg("%v", err)
		}
		return arg{kind: 's', s: str}, nil
	case '{':
		var ref struct {
			ID *int64 `json:"$obj"`
		}
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ref); err != nil || ref.ID == nil {
			return arg{}, invalidArg("объект передаётся как {\"$obj\": id}")
		}
		return arg{kind: 'o', id: *ref.ID}, nil
	case '[':
		return arg{}, invalidArg("массивы не принимаются")
	default:
		var n float64
		if err := json.Unmarshal(t, &n); err != nil {
			return arg{}, invalidArg("%v", err)
		}
		return arg{kind: 'n', n: n}, nil
	}
}

// encodeArgs writes args back as JSON (the fuzz target's round trip).
func encodeArgs(args []arg) ([]byte, error) {
	vals := make([]any, len(args))
	for i, a := range args {
		switch a.kind {
		case 'z':
			vals[i] = nil
		case 'b':
			vals[i] = a.b
		case 'n':
			vals[i] = a.n
		case 's':
			vals[i] = a.s
		case 'o':
			vals[i] = map[string]int64{"$obj": a.id}
		}
	}
	return json.Marshal(vals)
}

// argument accessors: i is the argument's index, def the value when absent.

func argAt(args []arg, i int) arg {
	if i < len(args) {
		return args[i]
	}
	return arg{kind: 'z'}
}

func (a arg) absent() bool { return a.kind == 'z' }

func (a arg) int(name string, def int) (int, error) {
	switch a.kind {
	case 'z':
		return def, nil
	case 'n':
		if a.n != math.Trunc(a.n) || math.Abs(a.n) > 1<<31 {
			return 0, invalidArg("%s: целое число, не %v", name, a.n)
		}
		return int(a.n), nil
	case 'b':
		if a.b {
			return 1, nil
		}
		return 0, nil
	}
	return 0, invalidArg("%s: ожидалось число", name)
}

func (a arg) bool(name string, def bool) (bool, error) {
	switch a.kind {
	case 'z':
		return def, nil
	case 'b':
		return a.b, nil
	case 'n':
		return a.n != 0, nil
	}
	return false, invalidArg("%s: ожидалось true или false", name)
}

func (a arg) str(name string) (string, error) {
	switch a.kind {
	case 's':
		return a.s, nil
	case 'z':
		return "", nil
	}
	return "", invalidArg("%s: ожидалась строка", name)
}

// sortedKeys is for the documentation test.
func sortedKeys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
