package nativehost

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"

	"github.com/kepkit/kep/internal/nativemsg"
)

// FuzzOpening: whatever the browser's first bytes are, the host (with no
// agent to reach) answers with exactly one well-formed frame, a
// {"kep":"closed"} with a reason, within the browser's 1 MiB, or with
// nothing when the stream ended before a message.
func FuzzOpening(f *testing.F) {
	frame := func(s string) []byte {
		return append(binary.NativeEndian.AppendUint32(nil, uint32(len(s))), s...)
	}
	f.Add(frame(`{"kep":"open","v":1,"origin":"https://a.example"}`))
	f.Add(frame(`{"kep":"open","v":2}`))
	f.Add(frame(`[1,2]`))
	f.Add(frame("\xff"))
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{})
	sock := filepath.Join(f.TempDir(), "none.sock")
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		err := Run(context.Background(), Options{In: bytes.NewReader(in), Out: &out, Args: []string{ext}, Allowed: []string{ext}, Socket: sock, MaxIn: 1 << 16})
		r := nativemsg.NewReader(&out, nativemsg.MaxOut)
		msg, rerr := r.Read()
		if rerr == io.EOF {
			if err != nil {
				t.Fatalf("Run failed (%v) without telling the browser", err)
			}
			return
		}
		if rerr != nil {
			t.Fatalf("reply frame: %v", rerr)
		}
		var m struct {
			Kep    string `json:"kep"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(msg, &m) != nil || m.Kep != "closed" || m.Reason == "" || err == nil {
			t.Fatalf("reply %s, Run: %v", msg, err)
		}
		if _, rerr := r.Read(); rerr != io.EOF {
			t.Fatalf("more than one reply: %v", rerr)
		}
	})
}
