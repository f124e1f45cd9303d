package cryptopro_test

import (
	"archive/zip"
	"bytes"
	"testing"

	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/internal/cpfixture"
	"github.com/kepkit/kep/keyfile/cryptopro"
)

// fixtureFiles are seeds: containers of a 256- and a 512-bit key.
func fixtureFiles(f *testing.F) []map[string][]byte {
	var out []map[string][]byte
	for i, name := range []string{"cryptopro-a", "tc26-512-a"} {
		ps, _ := gost3410.ParamSetByName(name)
		key, err := gost3410.NewPrivateKey(ps, bytes.Repeat([]byte{byte(i + 1)}, ps.Size()))
		if err != nil {
			f.Fatal(err)
		}
		files, err := cpfixture.Files(key, nil, cpfixture.Options{Reserve: i == 0, Name: name})
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, files)
	}
	return out
}

// FuzzParseHeader: no input panics, and a header ParseHeader accepts
// re-encodes to exactly its bytes.
func FuzzParseHeader(f *testing.F) {
	for _, files := range fixtureFiles(f) {
		f.Add(files["header.key"])
	}
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := cryptopro.ParseHeader(b)
		if err != nil {
			return
		}
		again, err := h.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("round trip:\n in  %x\n out %x", b, again)
		}
		h.VerifyMAC()
	})
}

// FuzzParseMasks and FuzzParsePrimary: no panic, exact round trip.
func FuzzParseMasks(f *testing.F) {
	for _, files := range fixtureFiles(f) {
		f.Add(files["masks.key"])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := cryptopro.ParseMasks(b)
		if err != nil {
			return
		}
		again, err := m.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("round trip: %x → %x (%v)", b, again, err)
		}
		m.VerifyMAC()
	})
}

func FuzzParsePrimary(f *testing.F) {
	for _, files := range fixtureFiles(f) {
		f.Add(files["primary.key"])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := cryptopro.ParsePrimary(b)
		if err != nil {
			return
		}
		again, err := cryptopro.MarshalPrimary(k)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("round trip: %x → %x (%v)", b, again, err)
		}
	})
}

// FuzzParseName: no panic; a name read back from MarshalName is the same.
func FuzzParseName(f *testing.F) {
	f.Add([]byte{0x30, 0x05, 0x16, 0x03, 's', 'r', 'v'})
	f.Fuzz(func(t *testing.T, b []byte) {
		name, err := cryptopro.ParseName(b)
		if err != nil {
			return
		}
		der, err := cryptopro.MarshalName(name)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := cryptopro.ParseName(der); err != nil || again != name {
			t.Fatalf("name %q → %q (%v)", name, again, err)
		}
	})
}

// FuzzReadZip: a container zip of any content never panics, and decryption
// of whatever parses (empty password: 2 KDF rounds) never panics either.
func FuzzReadZip(f *testing.F) {
	for _, files := range fixtureFiles(f) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for n, b := range files {
			w, _ := zw.Create("k.000/" + n)
			w.Write(b)
		}
		zw.Close()
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := cryptopro.ReadZip(b)
		if err != nil {
			return
		}
		for _, k := range []cryptopro.KeyIndex{cryptopro.Primary, cryptopro.Secondary} {
			c.PrivateKey(k, nil)
		}
	})
}
