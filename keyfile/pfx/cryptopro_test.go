package pfx

import (
	"bytes"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/kepkit/kep/gost/gost28147"
	"github.com/kepkit/kep/gost/gost3410"
	"github.com/kepkit/kep/gost/gostkey"
	"github.com/kepkit/kep/gost/kdf"
	"github.com/kepkit/kep/gost/keywrap"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func pkixAlg(oid asn1.ObjectIdentifier, params []byte) pkix.AlgorithmIdentifier {
	a := pkix.AlgorithmIdentifier{Algorithm: oid}
	if params != nil {
		a.Parameters = asn1.RawValue{FullBytes: params}
	}
	return a
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// TestCryptoProVectors: the steps of CryptoPro's key-bag protection against
// the vectors libpogost publishes (github.com/legale/libpogost,
// tests/test_cryptopro_keybag.c at commit 22a0c556e681 and tests/test_pfx.c
// at commit 882813388949):
// password "123456", salt 00…0F, 2000 iterations, ukm 01…08, key 00…1F.
// They come from that library, not from CryptoPro CSP: they show that kep
// computes what an independent implementation of the same published steps
// computes. The PKCS#12 MAC vector of test_pfx.c (HMAC-Streebog-512 keyed by
// the last 32 of 96 PBKDF2 bytes, the form CryptoPro's PFX MAC takes in
// libpogost's test on a CryptoPro-made file) checks macKey as well.
func TestCryptoProVectors(t *testing.T) {
	salt, ukm, raw := seq(16), mustHex("0102030405060708"), seq(32)
	k := cryptoProKDF([]byte("123456"), salt, 2000)
	if want := mustHex("99a5cbd19579959bc361ad2b1bfd818f7b9e2671fbccab0315e20ac4a01e0201"); !bytes.Equal(k, want) {
		t.Fatalf("KDF %x, libpogost %x", k, want)
	}
	kek := kdf.KDF256(k, cryptoProLabel, ukm)
	c, _ := gost28147.NewCipher(kek, gost28147.CryptoProA)
	enc := make([]byte, 32)
	gost28147.EncryptECB(c, enc, raw)
	if want := mustHex("3eae7a87e68ab6f2b63571a15c31484690ef986879403c58a80bfb6d0ab917f5"); !bytes.Equal(enc, want) {
		t.Fatalf("wrapped key %x, libpogost %x", enc, want)
	}
	m, _ := gost28147.NewMAC(c, ukm, false)
	m.Write(raw)
	mac := m.Sum(nil)
	if want := mustHex("cf2a3be2"); !bytes.Equal(mac, want) {
		t.Fatalf("key MAC %x, libpogost %x", mac, want)
	}
	// RFC 4357's key wrap is the same thing for a 32-byte key.
	if w, err := keywrap.Wrap28147(gost28147.CryptoProA, kek, ukm, raw); err != nil || !bytes.Equal(w, append(append(bytes.Clone(ukm), enc...), mac...)) {
		t.Fatalf("Wrap28147: %x %v", w, err)
	}
	got, err := cryptoProUnwrap(kek, ukm, enc, mac)
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("unwrap: %x %v", got, err)
	}
	if _, err := cryptoProUnwrap(kek, ukm, enc, []byte{0xcf, 0x2a, 0x3b, 0xe3}); !errors.Is(err, ErrFormat) {
		t.Errorf("a wrong MAC: %v", err)
	}
	// The blob's CFB layer (gost_pfx_cp80_encrypt of the same 32 bytes).
	cc, _ := gost28147.NewCipher(k, gost28147.CryptoProA)
	stream, _ := gost28147.NewCFBEncrypter(cc, salt[:8], false)
	blob := make([]byte, 32)
	stream.XORKeyStream(blob, raw)
	if want := mustHex("13864cc2c7bc694c9e5c2cfa1560a54db0987d9b65b4711856963f80c4ae2502"); !bytes.Equal(blob, want) {
		t.Fatalf("CFB layer %x, libpogost %x", blob, want)
	}
	mk, err := macKey(kdf.NewHMAC512, []byte("password"), []byte("salt"), 2)
	if err != nil {
		t.Fatal(err)
	}
	h := kdf.NewHMAC512(mk)
	h.Write([]byte("authenticated safe"))
	if want := mustHex("ea120ddfa8157cdbd9d20ce278511bcbec556ce7d92f38ad2fdd1adca1b6ca63b2c63fa7b2a945bdd90ff7bf72a9d304b189a1b020ebdd8038af415a49a69294"); !bytes.Equal(h.Sum(nil), want) {
		t.Fatalf("PFX MAC %x, libpogost %x", h.Sum(nil), want)
	}
	// An empty password hashes nothing for K_0, and a non-ASCII one is UTF-16LE.
	if bytes.Equal(cryptoProKDF(nil, salt, 1), cryptoProKDF([]byte{0}, salt, 1)) {
		t.Error("the empty password is not empty")
	}
}

// cpShape is the shape of the decrypted key bag the test-only writer makes.
type cpShape int

const (
	// cpReal is what CryptoPro CSP wrote in pycades-test.pfx: NULL outer
	// parameters, the key-agreement OID inside the export blob, the header
	// 07 20 00 00 46 AA 00 00 "MAG1" 20 00 00 00, the BIT STRING A0 with 5
	// unused bits, a [0] attribute 1.2.643.2.2.37.3.10 after the blob.
	cpReal cpShape = iota
	// cpDescribed is what the decoders describe: the same algorithm and
	// parameters outside and inside, the header 07 02 00 00 46 AA 00 00
	// "MAG1" 00 01 00 00 (42 AA for 512-bit keys), no attributes.
	cpDescribed
)

// cryptoProKeyBag writes a key bag as CryptoPro CSP does, in the given
// shape (test-only: kep does not write this form).
func cryptoProKeyBag(t testing.TB, key *gost3410.PrivateKey, password []byte, iterations int, shape cpShape) []byte {
	t.Helper()
	salt, ukm := make([]byte, 16), make([]byte, 8)
	rand.Read(salt)
	rand.Read(ukm)
	k := cryptoProKDF(password, salt, iterations)
	plain := cryptoProPlain(key, k, ukm, shape)
	cc, _ := gost28147.NewCipher(k, gost28147.CryptoProA)
	stream, _ := gost28147.NewCFBEncrypter(cc, salt[:8], false)
	encrypted := make([]byte, len(plain))
	stream.XORKeyStream(encrypted, plain)
	params, _ := asn1.Marshal(cryptoProParams{Salt: salt, Iterations: iterations})
	epki, err := asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm:     pkixAlg(oidCryptoProPBE, params),
		EncryptedData: encrypted,
	})
	if err != nil {
		t.Fatal(err)
	}
	return epki
}

// cryptoProPlain is the decrypted key bag: the PKCS#8-shaped wrapper of the
// key-blob header and the export blob of key under the password key k.
func cryptoProPlain(key *gost3410.PrivateKey, k, ukm []byte, shape cpShape) []byte {
	pkcs8, err := gostkey.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	in := cryptobyte.String(pkcs8)
	var pki, alg, body, keyParams cryptobyte.String
	var v int64
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&pki, cbasn1.SEQUENCE) || !pki.ReadASN1Integer(&v) || !pki.ReadASN1Element(&alg, cbasn1.SEQUENCE) {
		panic("gostkey's PKCS#8")
	}
	a := alg
	a.ReadASN1(&body, cbasn1.SEQUENCE)
	body.ReadASN1ObjectIdentifier(&oid)
	body.ReadASN1Element(&keyParams, cbasn1.SEQUENCE)

	kek := kdf.KDF256(k, cryptoProLabel, ukm)
	c, _ := gost28147.NewCipher(kek, gost28147.CryptoProA)
	raw := key.Bytes()
	enc := make([]byte, len(raw))
	gost28147.EncryptECB(c, enc, raw)
	m, _ := gost28147.NewMAC(c, ukm, false)
	m.Write(raw)
	mac := m.Sum(nil)

	header := []byte{0x07, 0x02, 0, 0, 0x46, 0xaa, 0, 0, 'M', 'A', 'G', '1', 0, 1, 0, 0}
	innerOID, bits := oid, []byte{0, 0x80}
	if shape == cpReal {
		header = []byte{0x07, 0x20, 0, 0, 0x46, 0xaa, 0, 0, 'M', 'A', 'G', '1', 0x20, 0, 0, 0}
		innerOID, bits = cryptoProAgreement[oid.String()], []byte{5, 0xa0}
		var o cryptobyte.Builder // the outer algorithm: the OID, NULL
		o.AddASN1(cbasn1.SEQUENCE, func(o *cryptobyte.Builder) {
			o.AddASN1ObjectIdentifier(oid)
			o.AddASN1NULL()
		})
		alg = o.BytesOrPanic()
	}
	if len(raw) == 64 {
		header[4] = 0x42 // as the decoders describe 512-bit keys
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(ukm)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(enc)
				b.AddASN1OctetString(mac)
			})
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) { b.AddBytes(bits) })
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(innerOID)
					b.AddBytes(keyParams)
				})
			})
		})
		b.AddASN1OctetString(make([]byte, 4)) // the blob's own MAC, not checked by kep
	})
	exportBlob := b.BytesOrPanic()
	var w cryptobyte.Builder
	w.AddASN1(cbasn1.SEQUENCE, func(w *cryptobyte.Builder) {
		w.AddASN1Int64(0)
		w.AddBytes(alg)
		w.AddASN1OctetString(append(header, exportBlob...))
		if shape == cpReal {
			w.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(w *cryptobyte.Builder) {
				w.AddASN1(cbasn1.SEQUENCE, func(w *cryptobyte.Builder) {
					w.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 643, 2, 2, 37, 3, 10})
					w.AddASN1(cbasn1.SET, func(w *cryptobyte.Builder) {
						w.AddASN1(cbasn1.SEQUENCE, func(w *cryptobyte.Builder) {
							w.AddASN1(cbasn1.Tag(1).ContextSpecific(), func(w *cryptobyte.Builder) {
								w.AddBytes([]byte("20500101000000Z"))
							})
						})
					})
				})
			})
		}
	})
	return w.BytesOrPanic()
}

// cryptoProPFX puts such a key bag in a PFX with the certificate in a plain
// Data safe, or in an EncryptedData safe under CryptoPro's PBE OID (which
// kep skips), and an HMAC-Streebog-512 MAC.
func cryptoProPFX(t testing.TB, key *gost3410.PrivateKey, cert []byte, password []byte, certEncrypted bool, shape cpShape) []byte {
	t.Helper()
	epki := cryptoProKeyBag(t, key, password, 2000, shape)
	keyBags, _ := asn1.Marshal([]safeBag{{ID: oidShroudedKeyBag, Value: asn1.RawValue{FullBytes: explicit0(epki)}}})
	keySafe, _ := asn1.Marshal(keyBags)
	var infos []contentInfo
	cb, _ := asn1.Marshal(certBag{ID: oidX509Cert, Data: cert})
	certBags, _ := asn1.Marshal([]safeBag{{ID: oidCertBag, Value: asn1.RawValue{FullBytes: explicit0(cb)}}})
	if certEncrypted {
		params, _ := asn1.Marshal(cryptoProParams{Salt: seq(16), Iterations: 2000})
		ed, _ := asn1.Marshal(encryptedData{EncryptedContentInfo: encryptedContentInfo{
			ContentType: oidData, ContentEncryptionAlgorithm: pkixAlg(oidCryptoProPBE, params), EncryptedContent: certBags}})
		infos = append(infos, contentInfo{ContentType: oidEncryptedData, Content: asn1.RawValue{FullBytes: explicit0(ed)}})
	} else {
		certSafe, _ := asn1.Marshal(certBags)
		infos = append(infos, contentInfo{ContentType: oidData, Content: asn1.RawValue{FullBytes: explicit0(certSafe)}})
	}
	infos = append(infos, contentInfo{ContentType: oidData, Content: asn1.RawValue{FullBytes: explicit0(keySafe)}})
	authSafe, _ := asn1.Marshal(infos)
	salt := seq(8)
	mk, _ := macKey(kdf.NewHMAC512, password, salt, 2048)
	h := kdf.NewHMAC512(mk)
	h.Write(authSafe)
	authOctets, _ := asn1.Marshal(authSafe)
	data, err := asn1.Marshal(pfxPDU{Version: 3,
		AuthSafe: contentInfo{ContentType: oidData, Content: asn1.RawValue{FullBytes: explicit0(authOctets)}},
		MacData:  macData{Mac: digestInfo{Algorithm: pkixAlg(oidStreebog512, nil), Digest: h.Sum(nil)}, MacSalt: salt, Iterations: 2048}})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCryptoProKeyBag: a PFX whose key bag is built as CryptoPro CSP's real
// file has it, or as the decoders describe it (by the test-only writer
// above, whose crypto steps TestCryptoProVectors ties to libpogost),
// decodes to the key, for 256- and 512-bit keys, an empty and a Cyrillic
// password; the certificate in a
// Data safe is returned, one under CryptoPro's PBE in an EncryptedData
// safe is skipped and named in Unread; a wrong password is
// ErrWrongPassword; a changed key blob is caught by its own MAC.
func TestCryptoProKeyBag(t *testing.T) {
	head, examples := vectorFile(t, "testdata/rfc9548.txt")
	ref, err := Decode(unb64(t, examples[0]["pfx"]), unhex(t, head["password"]))
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := gost3410.ParamSetByName("cryptopro-a")
	k256, err := gost3410.NewPrivateKey(ps, seq(33)[1:])
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		key      *gost3410.PrivateKey
		password string
		certEnc  bool
		shape    cpShape
	}{
		{"512, RFC 9548's key", ref.Key, "123456", false, cpReal},
		{"256, empty password", k256, "", false, cpReal},
		{"256, empty password, the decoders' shape", k256, "", false, cpDescribed},
		{"512, Cyrillic password, encrypted certificate", ref.Key, "пароль", true, cpReal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert := ref.Certificates[0].Raw
			data := cryptoProPFX(t, tc.key, cert, []byte(tc.password), tc.certEnc, tc.shape)
			f, err := Decode(data, []byte(tc.password))
			if err != nil {
				t.Fatal(err)
			}
			if !f.Key.Equal(tc.key) {
				t.Fatal("another key")
			}
			if tc.certEnc {
				if len(f.Certificates) != 0 || len(f.Unread) != 1 || f.Unread[0] != "CryptoPro PBE (1.2.840.113549.1.12.1.80)" {
					t.Fatalf("%d certificates, unread %v", len(f.Certificates), f.Unread)
				}
			} else if len(f.Certificates) != 1 || len(f.Unread) != 0 {
				t.Fatalf("%d certificates, unread %v", len(f.Certificates), f.Unread)
			}
			if _, err := Decode(data, []byte(tc.password+"1")); !errors.Is(err, ErrWrongPassword) {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
	// A changed byte of the key bag's ciphertext, the PFX MAC aside: the
	// export blob's MAC or structure refuses it, or it changed a byte no step
	// reads, or the curve OID (outside the blob's MAC) — never another key on
	// the same curve.
	epki := cryptoProKeyBag(t, ref.Key, []byte("x"), 10, cpReal)
	var e encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(epki, &e); err != nil {
		t.Fatal(err)
	}
	if _, err := decrypt(e.Algorithm, e.EncryptedData, []byte("x")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(e.EncryptedData); i += 7 {
		bad := bytes.Clone(e.EncryptedData)
		bad[i] ^= 1
		if out, err := decrypt(e.Algorithm, bad, []byte("x")); err == nil {
			key, kerr := parseKey(out)
			switch {
			case kerr != nil, key.Equal(ref.Key):
				// refused as a key, or a byte no step reads (the blob
				// header, the blob's own MAC)
			case key.Params() != ref.Key.Params():
				// the curve OID, which the blob's MAC does not cover (the
				// PFX's MAC and the certificate check do)
			default:
				t.Errorf("byte %d changed: decoded to another key on the same curve", i)
			}
		} else if !errors.Is(err, ErrFormat) {
			t.Errorf("byte %d changed: %v", i, err)
		}
	}
}

// pfxSamplesDir is where the real CryptoPro PFX files are: $KEP_PFX_SAMPLES,
// else ../shared/samples/pfx beside the repository; "" when neither exists.
func pfxSamplesDir() string {
	if d := os.Getenv("KEP_PFX_SAMPLES"); d != "" {
		return d
	}
	d, _ := filepath.Abs("../../../shared/samples/pfx")
	if _, err := os.Stat(d); err == nil {
		return d
	}
	return ""
}

// TestCryptoProPFXSamples: each CryptoPro-made PFX listed in
// testdata/cryptopro-samples.txt that is present decodes under its
// password; its key is its certificate's key when it carries one, and the
// key the source states when it states one (as little-endian bytes, the
// form PKCS#8 carries; a big-endian statement is accepted and said); its
// first certificate has the stated thumbprint when one is stated; a wrong
// password ("x" after the right one) is ErrWrongPassword. Files not present
// are named in the skip.
func TestCryptoProPFXSamples(t *testing.T) {
	list, err := os.ReadFile("testdata/cryptopro-samples.txt")
	if err != nil {
		t.Fatal(err)
	}
	dir := pfxSamplesDir()
	var missing []string
	ran := 0
	for _, line := range strings.Split(string(list), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("bad line %q", line)
		}
		name, password, wantKey, wantCert := f[0], f[1], f[2], f[3]
		if password == "-" {
			password = ""
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if dir == "" || errors.Is(err, os.ErrNotExist) {
			missing = append(missing, name)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		ran++
		t.Run(name, func(t *testing.T) {
			file, err := Decode(data, []byte(password))
			if err != nil {
				t.Fatal(err)
			}
			if len(file.Certificates) > 0 && !file.Key.PublicKey().Equal(file.Certificates[0].PublicKey) {
				t.Error("the key is not its certificate's")
			}
			t.Logf("%v key, %d certificate(s), unread safes %v", file.Key.Params(), len(file.Certificates), file.Unread)
			if wantCert != "-" {
				switch {
				case len(file.Certificates) == 0:
					t.Errorf("no certificate read, %s expected (unread safes %v)", wantCert, file.Unread)
				case file.Certificates[0].Thumbprint() != wantCert:
					t.Errorf("certificate %s, %s expected", file.Certificates[0].Thumbprint(), wantCert)
				case !file.Key.PublicKey().Equal(file.Certificates[0].PublicKey):
					t.Errorf("the key is not the certificate %s's", wantCert)
				}
			}
			if wantKey != "-" {
				want := mustHex(wantKey)
				got := file.Key.Bytes()
				rev := bytes.Clone(got)
				slices.Reverse(rev)
				switch {
				case bytes.Equal(got, want):
				case bytes.Equal(rev, want):
					t.Log("the source states the key big-endian")
				default:
					t.Errorf("key %x, the source states %s", got, wantKey)
				}
			}
			if _, err := Decode(data, []byte(password+"x")); !errors.Is(err, ErrWrongPassword) {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
	if len(missing) > 0 {
		where := dir
		if where == "" {
			where = "$KEP_PFX_SAMPLES or ../shared/samples/pfx"
		}
		t.Skipf("%d of the CryptoPro-made PFX samples are not present in %s: %v (sources in testdata/cryptopro-samples.txt); %d ran", len(missing), where, missing, ran)
	}
}

// FuzzCryptoProKey: no decrypted key bag panics the export-blob parser; a
// key it returns is a PKCS#8 key parseKey reads. Seeds: bags made by the
// test-only writer in both shapes, decrypted.
func FuzzCryptoProKey(f *testing.F) {
	k := cryptoProKDF([]byte("p"), seq(16), 1)
	for _, name := range []string{"cryptopro-a", "tc26-512-a"} {
		ps, _ := gost3410.ParamSetByName(name)
		key, _ := gost3410.NewPrivateKey(ps, seq(ps.Size() + 1)[1:])
		for _, shape := range []cpShape{cpReal, cpDescribed} {
			f.Add(cryptoProPlain(key, k, seq(8), shape))
		}
	}
	f.Fuzz(func(t *testing.T, plain []byte) {
		der, err := cryptoProKey(k, plain)
		if err != nil {
			return
		}
		if _, err := parseKey(der); err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrNoKey) {
			t.Fatalf("parseKey of cryptoProKey's output: %v", err)
		}
	})
}
