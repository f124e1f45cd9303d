package agent

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/kepkit/kep/agent/cades"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/internal/testpki"
	"github.com/kepkit/kep/verify"
)

// cadesObj is an object reference in a cades.* reply.
type cadesObj struct {
	ID    int64  `json:"$obj"`
	Class string `json:"class"`
}

type cadesResult struct {
	Value json.RawMessage `json:"value"`
}

func cadesCreate(t *testing.T, c *client, progID string) int64 {
	t.Helper()
	return mustCall[cadesObj](t, c, "cades.create", map[string]string{"progId": progID}).ID
}

func cadesGetObj(t *testing.T, c *client, id int64, name string, args ...any) int64 {
	t.Helper()
	var r cadesResult
	if args == nil {
		r = mustCall[cadesResult](t, c, "cades.get", map[string]any{"id": id, "name": name})
	} else {
		r = mustCall[cadesResult](t, c, "cades.call", map[string]any{"id": id, "name": name, "args": args})
	}
	var o cadesObj
	if err := json.Unmarshal(r.Value, &o); err != nil || o.ID == 0 {
		t.Fatalf("%s: not an object: %s", name, r.Value)
	}
	return o.ID
}

func cadesSet(t *testing.T, c *client, id int64, name string, v any) {
	t.Helper()
	mustCall[json.RawMessage](t, c, "cades.set", map[string]any{"id": id, "name": name, "value": v})
}

// TestCadesKeyPin: an operator's --page-pin-origin signs with CPSigner.KeyPin
// and no window; a wrong KeyPin is SCARD_W_WRONG_CHV; the signature is
// audited and verifies.
func TestCadesKeyPin(t *testing.T) {
	f := newFixture(t, Config{PagePINOrigins: []string{siteOrigin}})
	c := f.dial(t, siteOrigin)
	id := f.ids[0]
	store := cadesCreate(t, c, "CAdESCOM.Store")
	mustCall[cadesResult](t, c, "cades.call", map[string]any{"id": store, "name": "Open", "args": []any{2, "My", 2}})
	all := cadesGetObj(t, c, store, "Certificates")
	found := cadesGetObj(t, c, all, "Find", 0, strings.ToLower(id.Cert.Thumbprint()))
	cert := cadesGetObj(t, c, found, "Item", 1)
	thumb := mustCall[cadesResult](t, c, "cades.get", map[string]any{"id": cert, "name": "Thumbprint"})
	if string(thumb.Value) != `"`+id.Cert.Thumbprint()+`"` || len(id.Cert.Thumbprint()) != 40 || strings.ToUpper(id.Cert.Thumbprint()) != id.Cert.Thumbprint() {
		t.Fatalf("Thumbprint %s, want 40 upper-case hex %s", thumb.Value, id.Cert.Thumbprint())
	}
	signer := cadesCreate(t, c, "CAdESCOM.CPSigner")
	cadesSet(t, c, signer, "Certificate", map[string]int64{"$obj": cert})
	sd := cadesCreate(t, c, "CAdESCOM.CadesSignedData")
	cadesSet(t, c, sd, "ContentEncoding", 1)
	doc := []byte("платёжное поручение")
	cadesSet(t, c, sd, "Content", base64.StdEncoding.EncodeToString(doc))

	cadesSet(t, c, signer, "KeyPin", "0000")
	_, e := c.call(t, "cades.call", map[string]any{"id": sd, "name": "SignCades", "args": []any{map[string]int64{"$obj": signer}, 1, true}})
	if e == nil || e.Data.Reason != ReasonCades || !strings.HasSuffix(e.Message, "(0x8010006B)") {
		t.Fatalf("a wrong KeyPin gives %+v", e)
	}
	cadesSet(t, c, signer, "KeyPin", testPIN)
	r := mustCall[cadesResult](t, c, "cades.call", map[string]any{"id": sd, "name": "SignCades", "args": []any{map[string]int64{"$obj": signer}, 1, true}})
	var b64 string
	if err := json.Unmarshal(r.Value, &b64); err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Verify(context.Background(), sig, verify.Options{Roots: []*certs.Certificate{f.pki.Root.Cert}, Content: bytes.NewReader(doc)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Signers) != 1 || rep.Signers[0].Certificate.Thumbprint != id.Cert.Thumbprint() || rep.Signers[0].Indication == verify.TotalFailed {
		t.Fatalf("the signature: %s", rep.Summary("en"))
	}
	log, err := os.ReadFile(f.audit)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), `"method":"cades.CadesSignedData.SignCades"`) || !strings.Contains(string(log), `"result":"ok"`) {
		t.Fatalf("audit log: %s", log)
	}
	t.Run("CAdES-T", func(t *testing.T) { testCadesT(t, f) })
}

// TestCadesReleasedOnClose: the connection's objects go with it.
func TestCadesReleasedOnClose(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	c := f.dial(t, siteOrigin)
	for i := 0; i < 5; i++ {
		cadesCreate(t, c, "CAdESCOM.About")
	}
	var s *cades.Session
	f.agent.mu.Lock()
	for conn := range f.agent.conns {
		s = conn.cadesSession()
	}
	f.agent.mu.Unlock()
	if s == nil || s.Len() != 5 {
		t.Fatalf("the connection holds %v objects, want 5", s)
	}
	mustCall[json.RawMessage](t, c, "cades.release", map[string]any{"ids": []int64{1}})
	if s.Len() != 4 {
		t.Fatalf("%d objects after releasing one", s.Len())
	}
	c.ws.Close()
	deadline := time.Now().Add(10 * time.Second)
	for s.Len() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d objects left after the connection closed", s.Len())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCadesErrorHRESULTs: the agent's reasons reach CryptoPro code with the
// HRESULTs CryptoPro's plug-in reports for the same causes.
func TestCadesErrorHRESULTs(t *testing.T) {
	for reason, want := range map[string]uint32{
		ReasonUserCancelled: 0x8010006E, ReasonConsentDenied: 0x8010006E, ReasonPINIncorrect: 0x8010006B,
		ReasonPINLocked: 0x8010006C, ReasonCertNotFound: 0x80092004, ReasonKeyUnusable: 0x8009200B,
		ReasonTokenNotPresent: 0x8010000C, ReasonTokenRemoved: 0x80100069, ReasonInvalidParams: 0x80070057,
		ReasonOriginNotApproved: 0x80070005, ReasonPromptTimeout: 0x800705B4,
	} {
		e := cadesError(rpcError(reason, "x"))
		if e.HRESULT != want {
			t.Errorf("%s: %#x, want %#x", reason, e.HRESULT, want)
		}
		if e.Message == "" || !strings.ContainsAny(e.Message, "абвгдеёжзийклмнопрстуфхцчшщыьэюя") {
			t.Errorf("%s: message %q is not Russian", reason, e.Message)
		}
	}
	if e := cadesError(ErrDenied); e.HRESULT != cades.HResultCancelled {
		t.Errorf("ErrDenied: %#x", e.HRESULT)
	}
	ce := &cades.Error{HRESULT: cades.HResultNotImpl, Message: "x не поддерживается kep"}
	if got := cadesError(ce); !errors.Is(got, ce) && got != ce {
		t.Error("a cades.Error is not passed through")
	}
}

// testCadesT (in TestCadesKeyPin's agent): SignCades(signer, CADESCOM_CADES_T) with CPSigner.TSAAddress
// gives a CAdES-T signature whose time-stamp verifies, and the signer read
// back has a SignatureTimeStampTime; X-L1 goes to sign's X-L1 profile (the
// test PKI publishes no revocation data, so it must fail saying why, not
// as unsupported).
func testCadesT(t *testing.T, f *fixture) {
	tsa := f.pki.TSA(t, testpki.CryptoProA, "critical,timeStamping")
	c := f.dial(t, siteOrigin)
	cert := cadesCreate(t, c, "CAdESCOM.Certificate")
	mustCall[cadesResult](t, c, "cades.call", map[string]any{"id": cert, "name": "Import",
		"args": []any{base64.StdEncoding.EncodeToString(f.ids[0].Cert.Raw)}})
	signer := cadesCreate(t, c, "CAdESCOM.CPSigner")
	cadesSet(t, c, signer, "Certificate", map[string]int64{"$obj": cert})
	cadesSet(t, c, signer, "TSAAddress", tsa.URL)
	cadesSet(t, c, signer, "KeyPin", testPIN)
	sd := cadesCreate(t, c, "CAdESCOM.CadesSignedData")
	doc := "Счёт № 7" // CADESCOM_STRING_TO_UCS2LE, the default: UTF-16LE is signed
	cadesSet(t, c, sd, "Content", doc)
	r := mustCall[cadesResult](t, c, "cades.call", map[string]any{"id": sd, "name": "SignCades", "args": []any{map[string]int64{"$obj": signer}, 5, true}})
	var b64 string
	json.Unmarshal(r.Value, &b64)
	sig, _ := base64.StdEncoding.DecodeString(b64)
	var ucs []byte
	for _, u := range utf16.Encode([]rune(doc)) {
		ucs = append(ucs, byte(u), byte(u>>8))
	}
	rep, err := verify.Verify(context.Background(), sig, verify.Options{Roots: []*certs.Certificate{f.pki.Root.Cert},
		Content: bytes.NewReader(ucs), Profile: verify.ProfileCAdEST})
	if err != nil || rep.Signers[0].Timestamp == nil || rep.Signers[0].Timestamp.Indication != verify.TotalPassed {
		t.Fatalf("CAdES-T: %v %s", err, rep.Summary("en"))
	}
	signers := cadesGetObj(t, c, sd, "Signers")
	one := cadesGetObj(t, c, signers, "Item", 1)
	ts := mustCall[cadesResult](t, c, "cades.get", map[string]any{"id": one, "name": "SignatureTimeStampTime"})
	var when string
	json.Unmarshal(ts.Value, &when)
	if tm, err := time.Parse(time.RFC3339, when); err != nil || !tm.Equal(rep.Signers[0].Timestamp.Time.Truncate(time.Millisecond)) {
		t.Errorf("SignatureTimeStampTime %s, the token says %v", ts.Value, rep.Signers[0].Timestamp.Time)
	}

	_, e := c.call(t, "cades.call", map[string]any{"id": sd, "name": "SignCades", "args": []any{map[string]int64{"$obj": signer}, 0x5D, true}})
	if e == nil {
		t.Fatal("an X-L1 signature without revocation data was made")
	}
	t.Logf("X-L1 without revocation data: %s", e.Message)
	if strings.HasSuffix(e.Message, "(0x80004001)") || !strings.Contains(e.Message, "(0x8") {
		t.Fatalf("X-L1: %s", e.Message)
	}
}

// TestCadesWindow: for a site that may not pass PINs, a CPSigner.KeyPin is
// dropped and SignHash is approved in the agent's window, which shows the
// site, the certificate, the hash and that it comes through CryptoPro's
// API; the user's refusal reaches the page as SCARD_W_CANCELLED_BY_USER.
func TestCadesWindow(t *testing.T) {
	f := newFixture(t, Config{AllowOrigins: []string{siteOrigin}})
	c := f.dial(t, siteOrigin)
	id := f.ids[0]
	store := cadesCreate(t, c, "CAdESCOM.Store")
	mustCall[cadesResult](t, c, "cades.call", map[string]any{"id": store, "name": "Open", "args": []any{100, "My", 2}})
	all := cadesGetObj(t, c, store, "Certificates")
	found := cadesGetObj(t, c, all, "Find", 0, id.Cert.Thumbprint())
	cert := cadesGetObj(t, c, found, "Item", 1)
	signer := cadesCreate(t, c, "CAdESCOM.CPSigner")
	cadesSet(t, c, signer, "Certificate", map[string]int64{"$obj": cert})
	cadesSet(t, c, signer, "KeyPin", "0000") // wrong, and dropped: the window asks
	hd := cadesCreate(t, c, "CAdESCOM.HashedData")
	cadesSet(t, c, hd, "Algorithm", 101)
	doc := []byte("выписка")
	digest := certs.Streebog256.Sum(doc)
	mustCall[cadesResult](t, c, "cades.call", map[string]any{"id": hd, "name": "SetHashValue", "args": []any{strings.ToUpper(hex.EncodeToString(digest))}})
	sd := cadesCreate(t, c, "CAdESCOM.CadesSignedData")
	args := []any{map[string]int64{"$obj": hd}, map[string]int64{"$obj": signer}, 1}

	u := f.expect(answer{Approve: true, PIN: testPIN})
	r := mustCall[cadesResult](t, c, "cades.call", map[string]any{"id": sd, "name": "SignHash", "args": args})
	u.wait(t)
	u.mu.Lock()
	shown := u.shown
	u.mu.Unlock()
	if len(shown) != 1 || shown[0].Origin != siteOrigin || !shown[0].NeedPIN || shown[0].Size != -1 ||
		!strings.EqualFold(shown[0].Digest, hex.EncodeToString(digest)) || !strings.Contains(shown[0].Description, "SignHash") {
		t.Fatalf("the window showed %+v", shown)
	}
	var b64 string
	json.Unmarshal(r.Value, &b64)
	sig, _ := base64.StdEncoding.DecodeString(b64)
	rep, err := verify.Verify(context.Background(), sig, verify.Options{Roots: []*certs.Certificate{f.pki.Root.Cert}, Content: bytes.NewReader(doc)})
	if err != nil || rep.Signers[0].Indication == verify.TotalFailed {
		t.Fatalf("%v %s", err, rep.Summary("en"))
	}
	// VerifyHash with the right hash passes and lists the signer.
	mustCall[cadesResult](t, c, "cades.call", map[string]any{"id": sd, "name": "VerifyHash", "args": []any{map[string]int64{"$obj": hd}, b64, 1}})

	u = f.expect(answer{Approve: false})
	_, e := c.call(t, "cades.call", map[string]any{"id": sd, "name": "SignHash", "args": args})
	u.wait(t)
	if e == nil || !strings.HasSuffix(e.Message, "(0x8010006E)") {
		t.Fatalf("a refusal gives %+v", e)
	}
}
