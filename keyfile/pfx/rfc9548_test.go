package pfx

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/kepkit/kep/gost/gostkey"
	"github.com/kepkit/kep/gost/kdf"
)

// vectorFile reads testdata/rfc9548.txt: "name: value" lines, a value
// continued on indented lines, "example:" starting a block.
func vectorFile(t *testing.T, path string) (head map[string]string, examples []map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head = map[string]string{}
	cur, last := head, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, " "):
			if last == "" {
				t.Fatalf("continuation without a field: %q", line)
			}
			cur[last] += strings.TrimSpace(line)
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				t.Fatalf("bad line %q", line)
			}
			if name == "example" {
				cur = map[string]string{}
				examples = append(examples, cur)
			}
			cur[name], last = strings.TrimSpace(value), name
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return head, examples
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return b
}

func unb64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("%.20q…: %v", s, err)
	}
	return b
}

// TestRFC9548Examples: the two example PFX files of RFC 9548 Appendix A
// decode under the RFC's password to its test key and certificate; on the
// way, each one's MAC is recomputed and equals the value the RFC prints
// (A.2.2/A.3.2), the salts and ukm the RFC lists are those in the file, and
// each decrypted key bag is byte for byte the RFC's "decrypted key value"
// (A.2.3/A.3.3; its OMAC checked when the scheme has one). A wrong password
// is ErrWrongPassword, and a changed byte of an OMAC-protected key bag is
// caught by its own MAC (decrypt alone, the PFX's MAC aside).
func TestRFC9548Examples(t *testing.T) {
	head, examples := vectorFile(t, "testdata/rfc9548.txt")
	if len(examples) != 2 {
		t.Fatalf("%d examples, want 2", len(examples))
	}
	password := unhex(t, head["password"])
	if string(password) != "Пароль для PFX" {
		t.Fatalf("password %q", password)
	}
	cert := unb64(t, head["certificate"])
	keyBE := unhex(t, head["key"])
	keyLE := make([]byte, len(keyBE))
	for i, c := range keyBE {
		keyLE[len(keyBE)-1-i] = c
	}
	for _, ex := range examples {
		t.Run(ex["example"][:3], func(t *testing.T) {
			data := unb64(t, ex["pfx"])
			f, err := Decode(data, password)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f.Key.Bytes(), keyLE) || f.Key.Params().BitSize() != 512 {
				t.Fatalf("key %x on %v, want the RFC's test key", f.Key.Bytes(), f.Key.Params())
			}
			if len(f.Certificates) != 1 || !bytes.Equal(f.Certificates[0].Raw, cert) {
				t.Fatalf("%d certificates, want the RFC's test certificate", len(f.Certificates))
			}
			if !f.Key.PublicKey().Equal(f.Certificates[0].PublicKey) {
				t.Fatal("the key is not the certificate's")
			}
			if f.FriendlyName != ex["friendly-name"] {
				t.Errorf("friendly name %q", f.FriendlyName)
			}

			// Intermediate values: the MAC and the decrypted key bag.
			var p pfxPDU
			if _, err := asn1.Unmarshal(data, &p); err != nil {
				t.Fatal(err)
			}
			var authSafe []byte
			if _, err := asn1.Unmarshal(p.AuthSafe.Content.Bytes, &authSafe); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p.MacData.MacSalt, unhex(t, ex["mac-salt"])) || p.MacData.Iterations != 2048 ||
				!p.MacData.Mac.Algorithm.Algorithm.Equal(oidStreebog512) {
				t.Fatalf("MAC parameters %x/%d/%v", p.MacData.MacSalt, p.MacData.Iterations, p.MacData.Mac.Algorithm.Algorithm)
			}
			mk, err := macKey(kdf.NewHMAC512, password, p.MacData.MacSalt, p.MacData.Iterations)
			if err != nil {
				t.Fatal(err)
			}
			h := kdf.NewHMAC512(mk)
			h.Write(authSafe)
			if mac := h.Sum(nil); !bytes.Equal(mac, unhex(t, ex["mac"])) || !bytes.Equal(p.MacData.Mac.Digest, mac) {
				t.Fatalf("MAC %X, RFC prints %s", mac, ex["mac"])
			}
			var infos []contentInfo
			if _, err := asn1.Unmarshal(authSafe, &infos); err != nil {
				t.Fatal(err)
			}
			seen := 0
			for _, ci := range infos {
				var contents []byte
				if ci.ContentType.Equal(oidEncryptedData) {
					var ed encryptedData
					if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
						t.Fatal(err)
					}
					alg := ed.EncryptedContentInfo.ContentEncryptionAlgorithm
					checkPBES2(t, alg, ex["cert-encryption"], ex["cert-salt"], ex["cert-ukm"])
					seen++
					continue
				}
				if _, err := asn1.Unmarshal(ci.Content.Bytes, &contents); err != nil {
					t.Fatal(err)
				}
				var bags []safeBag
				if _, err := asn1.Unmarshal(contents, &bags); err != nil {
					t.Fatal(err)
				}
				for _, b := range bags {
					if !b.ID.Equal(oidShroudedKeyBag) {
						continue
					}
					var epki encryptedPrivateKeyInfo
					if _, err := asn1.Unmarshal(b.Value.Bytes, &epki); err != nil {
						t.Fatal(err)
					}
					checkPBES2(t, epki.Algorithm, ex["key-encryption"], ex["key-salt"], ex["key-ukm"])
					plain, err := decrypt(epki.Algorithm, epki.EncryptedData, password)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(plain, unb64(t, ex["decrypted-key"])) {
						t.Fatalf("decrypted key bag\n%x\nwant the RFC's\n%x", plain, unb64(t, ex["decrypted-key"]))
					}
					seen++
					if epki.Algorithm.Parameters.FullBytes != nil && strings.HasSuffix(ex["key-encryption"], ".2") {
						// CTR-ACPKM-OMAC: any changed byte, of the text or of the MAC, is refused.
						for _, i := range []int{0, len(epki.EncryptedData) / 2, len(epki.EncryptedData) - 1} {
							bad := bytes.Clone(epki.EncryptedData)
							bad[i] ^= 0x10
							if _, err := decrypt(epki.Algorithm, bad, password); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "MAC of the encrypted content") {
								t.Errorf("byte %d changed: %v", i, err)
							}
						}
					}
				}
			}
			if want := 1 + btoi(ex["cert-encryption"] != ""); seen != want {
				t.Fatalf("%d encrypted parts, want %d", seen, want)
			}

			if _, err := Decode(data, []byte("Пароль для PFX!")); !errors.Is(err, ErrWrongPassword) {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkPBES2 checks the PBES2 parameters against the RFC's listing: the
// scheme OID, the PBKDF2 salt (2048 iterations, HMAC-Streebog-512) and the ukm.
func checkPBES2(t *testing.T, alg pkix.AlgorithmIdentifier, oid, salt, ukm string) {
	t.Helper()
	var p pbes2Params
	var kp pbkdf2Params
	var ep struct{ UKM []byte }
	if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil {
		t.Fatal(err)
	}
	if _, err := asn1.Unmarshal(p.Encryption.Parameters.FullBytes, &ep); err != nil {
		t.Fatal(err)
	}
	if p.Encryption.Algorithm.String() != oid || hex.EncodeToString(kp.Salt) != strings.ToLower(salt) ||
		kp.Iterations != 2048 || !kp.PRF.Algorithm.Equal(oidHMACStreebog512) || hex.EncodeToString(ep.UKM) != strings.ToLower(ukm) {
		t.Fatalf("PBES2 %v salt %x (%d, %v) ukm %x; the RFC lists %s %s %s", p.Encryption.Algorithm, kp.Salt, kp.Iterations, kp.PRF.Algorithm, ep.UKM, oid, salt, ukm)
	}
}

// TestEncodeRFC9548: what Encode writes in the RFC 9548 form has the shape
// of the RFC's example A.2 with the sizes RFC 9337 recommends (32-byte
// salts, a 16-byte ukm, 2000 iterations by default, the MAC digest
// algorithm without parameters), decodes to the same key, certificates and
// friendly name, and a wrong password is ErrWrongPassword. Two files of the
// same key differ in every salt and ukm.
func TestEncodeRFC9548(t *testing.T) {
	head, examples := vectorFile(t, "testdata/rfc9548.txt")
	password := unhex(t, head["password"])
	ref, err := Decode(unb64(t, examples[0]["pfx"]), password)
	if err != nil {
		t.Fatal(err)
	}
	cert := ref.Certificates[0].Raw
	var files [][]byte
	for _, pw := range [][]byte{password, nil} {
		data, err := Encode(ref.Key, [][]byte{cert, cert}, pw, Options{Format: FormatRFC9548, FriendlyName: "ключ"})
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, data)
		f, err := Decode(data, pw)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Key.Equal(ref.Key) || len(f.Certificates) != 2 || !bytes.Equal(f.Certificates[0].Raw, cert) || f.FriendlyName != "ключ" {
			t.Fatalf("Decode(Encode): %d certificates, name %q", len(f.Certificates), f.FriendlyName)
		}
		if _, err := Decode(data, append(pw, 'x')); !errors.Is(err, ErrWrongPassword) {
			t.Errorf("wrong password: %v", err)
		}
		var p pfxPDU
		if _, err := asn1.Unmarshal(data, &p); err != nil {
			t.Fatal(err)
		}
		if len(p.MacData.MacSalt) != 32 || p.MacData.Iterations != 2000 || !p.MacData.Mac.Algorithm.Algorithm.Equal(oidStreebog512) ||
			len(p.MacData.Mac.Algorithm.Parameters.FullBytes) != 0 || len(p.MacData.Mac.Digest) != 64 {
			t.Fatalf("MAC: %d-byte salt, %d iterations, %v %x", len(p.MacData.MacSalt), p.MacData.Iterations, p.MacData.Mac.Algorithm.Algorithm, p.MacData.Mac.Algorithm.Parameters.FullBytes)
		}
		var authSafe []byte
		var infos []contentInfo
		if _, err := asn1.Unmarshal(p.AuthSafe.Content.Bytes, &authSafe); err != nil {
			t.Fatal(err)
		}
		if _, err := asn1.Unmarshal(authSafe, &infos); err != nil || len(infos) != 2 || !infos[0].ContentType.Equal(oidData) || !infos[1].ContentType.Equal(oidData) {
			t.Fatalf("authenticated safe: %v, %d parts", err, len(infos))
		}
		var contents []byte
		var bags []safeBag
		var epki encryptedPrivateKeyInfo
		if _, err := asn1.Unmarshal(infos[1].Content.Bytes, &contents); err != nil {
			t.Fatal(err)
		}
		if _, err := asn1.Unmarshal(contents, &bags); err != nil || len(bags) != 1 || !bags[0].ID.Equal(oidShroudedKeyBag) {
			t.Fatalf("key safe: %v", err)
		}
		if _, err := asn1.Unmarshal(bags[0].Value.Bytes, &epki); err != nil {
			t.Fatal(err)
		}
		var pp pbes2Params
		var kp pbkdf2Params
		var ep struct{ UKM []byte }
		asn1.Unmarshal(epki.Algorithm.Parameters.FullBytes, &pp)
		asn1.Unmarshal(pp.KDF.Parameters.FullBytes, &kp)
		asn1.Unmarshal(pp.Encryption.Parameters.FullBytes, &ep)
		if !pp.Encryption.Algorithm.Equal(oidKuzCTRACPKMOMAC) || len(kp.Salt) != 32 || kp.Iterations != 2000 ||
			!kp.PRF.Algorithm.Equal(oidHMACStreebog512) || len(ep.UKM) != 16 {
			t.Fatalf("key PBES2: %v, %d-byte salt, %d, %v, %d-byte ukm", pp.Encryption.Algorithm, len(kp.Salt), kp.Iterations, kp.PRF.Algorithm, len(ep.UKM))
		}
		if len(epki.EncryptedData) != 16+len(mustPKCS8(t, ref)) {
			t.Fatalf("%d encrypted bytes: the key and a 16-byte OMAC expected", len(epki.EncryptedData))
		}
	}
	if bytes.Equal(files[0][len(files[0])-40:], files[1][len(files[1])-40:]) {
		t.Error("two files end alike: the MAC salt is not random")
	}
}

func mustPKCS8(t *testing.T, f *File) []byte {
	t.Helper()
	b, err := gostkey.MarshalPKCS8PrivateKey(f.Key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOMACSectionSizes: RFC 9548 names no ACPKM section size; a long text
// encrypted in an OMAC scheme with any of the sizes the reader knows (the
// gost engine's PBES2 and CMS sizes) decrypts, the MAC telling which; a size
// it does not know fails the MAC, never gives other text.
func TestOMACSectionSizes(t *testing.T) {
	// 9 KiB: past every small size, so each size decrypts differently (256
	// KiB acts as "no re-keying" here).
	text := bytes.Repeat([]byte("a certificate safe past a section "), 271)
	for _, tc := range []struct {
		oid      asn1.ObjectIdentifier
		sections []int
		unknown  int
	}{
		{oidKuzCTRACPKMOMAC, []int{4 << 10, 256 << 10, 1 << 10}, 8 << 10},
		{oidMagmaCTRACPKMOMAC, []int{1 << 10, 8 << 10, 4 << 10}, 2 << 10},
	} {
		for _, n := range append(tc.sections, tc.unknown) {
			alg, ct, err := encryptOMAC(tc.oid, n, text, []byte("pw"), Options{Iterations: 1, Rand: rand.Reader})
			if err != nil {
				t.Fatal(err)
			}
			got, err := decrypt(alg, ct, []byte("pw"))
			if n == tc.unknown {
				if !errors.Is(err, ErrFormat) {
					t.Errorf("%v, %d-byte sections: %v", tc.oid, n, err)
				}
				continue
			}
			if err != nil || !bytes.Equal(got, text) {
				t.Errorf("%v, %d-byte sections: %v", tc.oid, n, err)
			}
		}
	}
}
