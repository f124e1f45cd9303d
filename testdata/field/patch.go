//go:build ignore

// patch.go rewrites the TBS part of a certificate for the field fixtures
// (generate.sh runs it; the signature is then made by OpenSSL over the new
// TBS, so every fixture carries a valid signature over exactly its bytes).
//
//	go run patch.go berbool IN.pem OUT.tbs   every DER TRUE (01 01 FF) in the
//	                                        extensions becomes 01 01 01
//	go run patch.go dp94 IN.pem OUT.tbs      the key's digestParamSet becomes
//	                                        GOST R 34.11-94 (1.2.643.2.2.30.1)
//	go run patch.go assemble IN.pem TBS SIG OUT.pem
//	                                        certificate = TBS, IN's signature
//	                                        algorithm, SIG (raw s||r)
package main

import (
	"bytes"
	"encoding/pem"
	"os"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func must(ok bool, what string) {
	if !ok {
		panic(what)
	}
}

func readCert(path string) (tbs, sigAlg []byte) {
	b, err := os.ReadFile(path)
	must(err == nil, "read")
	blk, _ := pem.Decode(b)
	must(blk != nil, "pem")
	s := cryptobyte.String(blk.Bytes)
	var cert, t, a cryptobyte.String
	must(s.ReadASN1(&cert, cbasn1.SEQUENCE), "cert")
	must(cert.ReadASN1Element(&t, cbasn1.SEQUENCE) && cert.ReadASN1Element(&a, cbasn1.SEQUENCE), "tbs")
	return t, a
}

// elements splits a SEQUENCE into its raw elements.
func elements(seq []byte) [][]byte {
	s := cryptobyte.String(seq)
	var in cryptobyte.String
	must(s.ReadASN1(&in, cbasn1.SEQUENCE), "seq")
	var out [][]byte
	for !in.Empty() {
		var e cryptobyte.String
		var tag cbasn1.Tag
		must(in.ReadAnyASN1Element(&e, &tag), "element")
		out = append(out, e)
	}
	return out
}

func seq(elems ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, e := range elems {
			b.AddBytes(e)
		}
	})
	return b.BytesOrPanic()
}

func main() {
	switch os.Args[1] {
	case "berbool":
		tbs, _ := readCert(os.Args[2])
		el := elements(tbs)
		ext := el[len(el)-1]
		must(ext[0] == 0xa3, "extensions last")
		n := bytes.Count(ext, []byte{0x01, 0x01, 0xff})
		must(n > 0, "no TRUE")
		el[len(el)-1] = bytes.ReplaceAll(ext, []byte{0x01, 0x01, 0xff}, []byte{0x01, 0x01, 0x01})
		must(os.WriteFile(os.Args[3], seq(el...), 0o644) == nil, "write")
	case "dp94":
		tbs, _ := readCert(os.Args[2])
		el := elements(tbs)
		streebog := []byte{0x06, 0x08, 0x2a, 0x85, 0x03, 0x07, 0x01, 0x01, 0x02, 0x02}
		gost94 := []byte{0x06, 0x07, 0x2a, 0x85, 0x03, 0x02, 0x02, 0x1e, 0x01}
		for i, e := range el {
			if e[0] != 0x30 || !bytes.Contains(e, streebog) {
				continue
			}
			spki := elements(e)
			if len(spki) != 2 {
				continue
			}
			alg := elements(spki[0])
			params := elements(alg[1])
			must(len(params) == 2 && bytes.Equal(params[1], streebog), "params")
			el[i] = seq(seq(alg[0], seq(params[0], gost94)), spki[1])
			must(os.WriteFile(os.Args[3], seq(el...), 0o644) == nil, "write")
			return
		}
		panic("no SubjectPublicKeyInfo with a Streebog digestParamSet")
	case "assemble":
		_, sigAlg := readCert(os.Args[2])
		tbs, err := os.ReadFile(os.Args[3])
		must(err == nil, "tbs")
		sig, err := os.ReadFile(os.Args[4])
		must(err == nil, "sig")
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(tbs)
			b.AddBytes(sigAlg)
			b.AddASN1BitString(sig)
		})
		out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.BytesOrPanic()})
		must(os.WriteFile(os.Args[5], out, 0o644) == nil, "write")
	}
}
