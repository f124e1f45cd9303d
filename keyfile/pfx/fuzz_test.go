package pfx_test

import (
	"bytes"
	"testing"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/keyfile/pfx"
)

// FuzzDecode: no input panics; whatever decodes re-encodes and decodes again
// to the same key and certificates.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"cryptopro-a", "tc26-512-b"} {
		ps, _ := gost3410.ParamSetByName(name)
		key, err := gost3410.NewPrivateKey(ps, bytes.Repeat([]byte{3}, ps.Size()))
		if err != nil {
			f.Fatal(err)
		}
		data, err := pfx.Encode(key, nil, []byte("p"), pfx.Options{Iterations: 1})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, []byte("p"))
	}
	f.Fuzz(func(t *testing.T, data, password []byte) {
		file, err := pfx.Decode(data, password)
		if err != nil {
			return
		}
		var ders [][]byte
		for _, c := range file.Certificates {
			ders = append(ders, c.Raw)
		}
		again, err := pfx.Encode(file.Key, ders, password, pfx.Options{Iterations: 1, FriendlyName: file.FriendlyName})
		if err != nil {
			t.Fatal(err)
		}
		back, err := pfx.Decode(again, password)
		if err != nil || !back.Key.Equal(file.Key) || len(back.Certificates) != len(file.Certificates) || back.FriendlyName != file.FriendlyName {
			t.Fatalf("round trip: %v", err)
		}
	})
}
