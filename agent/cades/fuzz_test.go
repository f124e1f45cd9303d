package cades

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzParseArgs: whatever a page sends as a call's arguments either fails
// with E_INVALIDARG or decodes to arguments that encode and decode again
// to the same arguments.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{`[]`, `[1, "My", 2]`, `[{"$obj": 7}, 65535, true]`, `[null, -1.5, "\u0000я"]`,
		`[{"$obj": 1, "x": 2}]`, `[[1]]`, `{"a":1}`, `[1e400]`, `["\ud800"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		args, err := parseArgs(data, 16)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not a cades.Error", err, err)
			}
			return
		}
		enc, err := encodeArgs(args)
		if err != nil {
			t.Fatalf("encode %v: %v", args, err)
		}
		again, err := parseArgs(enc, 16)
		if err != nil {
			t.Fatalf("re-decode %s: %v", enc, err)
		}
		if !reflect.DeepEqual(args, again) {
			t.Fatalf("round trip: %v → %s → %v", args, enc, again)
		}
		var raw []json.RawMessage
		if json.Unmarshal(data, &raw) != nil || len(raw) != len(args) {
			t.Fatalf("%q decoded to %d arguments", data, len(args))
		}
	})
}
