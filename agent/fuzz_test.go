package agent

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzUnquoteJSON: the PIN decoder agrees with encoding/json on every JSON
// string it accepts, and accepts every JSON string of valid UTF-8 that
// encoding/json decodes without replacing anything.
func FuzzUnquoteJSON(f *testing.F) {
	for _, s := range []string{`"1234"`, `"\u0031\u0032"`, `"\ud83d\ude00"`, `"\ud800"`, `"a\"b\\c\/d\n"`, `"`, `""`, `"\x"`, `"` + "\xff" + `"`, `"\u12"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, q []byte) {
		got, ok := unquoteJSON(q)
		var want string
		err := json.Unmarshal(q, &want)
		if ok {
			if err != nil {
				t.Fatalf("unquoteJSON accepted %q, encoding/json refuses it: %v", q, err)
			}
			if string(got) != want {
				t.Fatalf("unquoteJSON(%q) = %q, encoding/json %q", q, got, want)
			}
			return
		}
		// Refused: then encoding/json refuses it too, or it is not a plain
		// string literal of valid UTF-8 (encoding/json replaces bad bytes).
		if err == nil && utf8.Valid(q) && len(q) >= 2 && q[0] == '"' && bytes.Equal(bytes.TrimSpace(q), q) {
			if re, _ := json.Marshal(want); bytes.Equal(re, q) {
				t.Fatalf("unquoteJSON refused %q, a plain JSON string %q", q, want)
			}
		}
	})
}

// FuzzDecodeRequest: any message gives a request or a JSON-RPC error, never
// a panic; a request re-encodes to JSON that decodes to the same request;
// an error keeps an id only when it is a valid JSON-RPC id.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{`{"jsonrpc":"2.0","id":1,"method":"agent.info"}`, `{`, `[]`, `{"jsonrpc":"2.0","id":{},"method":"x"}`,
		`{"jsonrpc":"2.0","id":"a","method":"sign","params":{"pin":"1234"}}`, `null`, `{"jsonrpc":"2.0","method":"n"} {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, rerr := decodeRequest(data)
		if rerr != nil {
			if rerr.Data == nil || reasonCodes[rerr.Data.Reason] != rerr.Code {
				t.Fatalf("error %+v without a stable reason", rerr)
			}
			if req.ID != nil && validID(req.ID) == nil {
				t.Fatalf("error keeps invalid id %q", req.ID)
			}
			return
		}
		if req.JSONRPC != "2.0" || req.Method == "" {
			t.Fatalf("accepted %q as %+v", data, req)
		}
		re, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		again, rerr := decodeRequest(re)
		if rerr != nil || again.Method != req.Method || !bytes.Equal(again.ID, req.ID) || !jsonEqual(again.Params, req.Params) {
			t.Fatalf("round trip of %q: %+v %v", data, again, rerr)
		}
	})
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// FuzzDecodeParams: the params of sign and login.sign decode strictly (an
// unknown member is an error), never panic, and what decodes re-encodes to
// params that decode to the same values; the PIN is kept exactly.
func FuzzDecodeParams(f *testing.F) {
	for _, s := range []string{`{"certId":"AB","data":"eA==","pin":"1234"}`, `{"certId":"AB","hash":"AAAA","hashAlg":"sha256"}`,
		`{"certId":"AB","challenge":"x","format":"esia-compatible","pin":"\u0031"}`, `{"PIN":"1"}`, `{"pin":1}`, `[]`, `null`, `{"bogus":true}`} {
		f.Add([]byte(s))
	}
	known := jsonFields(reflect.TypeOf(SignParams{}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p SignParams
		if err := decodeParams(append([]byte(nil), data...), &p); err == nil {
			var members map[string]json.RawMessage
			if len(bytes.TrimSpace(data)) > 0 && string(bytes.TrimSpace(data)) != "null" {
				if json.Unmarshal(data, &members) != nil {
					t.Fatalf("accepted %q, not an object", data)
				}
			}
			for k := range members {
				if !known[k] {
					t.Fatalf("accepted unknown member %q", k)
				}
			}
			if raw, ok := members["pin"]; ok && string(raw) != "null" {
				var want string
				if json.Unmarshal(raw, &want) == nil && p.PIN != nil && utf8.Valid(raw) && string(*p.PIN) != want {
					t.Fatalf("pin %q decoded as %q", want, *p.PIN)
				}
			}
			p.PIN = nil
			// Empty and absent byte strings encode alike (omitempty).
			for _, b := range []*[]byte{&p.Data, &p.Hash} {
				if len(*b) == 0 {
					*b = nil
				}
			}
			re, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var again SignParams
			if err := decodeParams(re, &again); err != nil || !reflect.DeepEqual(again, p) {
				t.Fatalf("round trip of %q: %+v %v, want %+v", data, again, err, p)
			}
		}
		var l LoginParams
		decodeParams(append([]byte(nil), data...), &l)
	})
}
