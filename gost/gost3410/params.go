package gost3410

import (
	"encoding/asn1"
	"fmt"
	"math/big"
	"strings"
	"sync"
)

// ParamSet is a named GOST R 34.10 parameter set: an elliptic curve, a base
// point of prime order q, and the object identifier that names it in
// certificates and keys. Several OIDs name the same curve (tc26-256-B is
// CryptoPro-A, XchA is CryptoPro-A, and so on); they share one Curve.
type ParamSet struct {
	// Name is kep's name for the set, e.g. "cryptopro-a", "tc26-256-a", "tc26-512-c".
	Name string
	// OID identifies the set in SubjectPublicKeyInfo and PKCS#8.
	OID asn1.ObjectIdentifier
	// Legacy is true for the GOST R 34.10-2001 test set, whose keys are only
	// found in old archives.
	Legacy bool

	curve *Curve
}

// Size returns the length in bytes of a coordinate, of a private key and of a
// digest for this set: 32 for 256-bit sets, 64 for 512-bit sets.
func (ps *ParamSet) Size() int { return ps.curve.size }

// BitSize returns 256 or 512.
func (ps *ParamSet) BitSize() int { return ps.curve.size * 8 }

// Curve returns the curve of the set.
func (ps *ParamSet) Curve() *Curve { return ps.curve }

// String returns the set's name.
func (ps *ParamSet) String() string { return ps.Name }

// curveSpec holds a curve's published constants as big-endian hex. A curve in
// twisted Edwards form (tc26-256-a, tc26-512-c) is given by its birationally
// equivalent short Weierstrass form (a, b), as RFC 7836 also gives it; that is
// the form of the points in keys and signatures.
type curveSpec struct {
	name               string
	p, q, a, b, gx, gy string
	cofactor           int64
}

var (
	specCryptoProA = curveSpec{name: "cryptopro-a",
		p:  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
		q:  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893",
		a:  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD94",
		b:  "A6",
		gx: "1",
		gy: "8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14", cofactor: 1}
	specCryptoProB = curveSpec{name: "cryptopro-b",
		p:  "8000000000000000000000000000000000000000000000000000000000000C99",
		q:  "800000000000000000000000000000015F700CFFF1A624E5E497161BCC8A198F",
		a:  "8000000000000000000000000000000000000000000000000000000000000C96",
		b:  "3E1AF419A269A5F866A7D3C25C3DF80AE979259373FF2B182F49D4CE7E1BBC8B",
		gx: "1",
		gy: "3FA8124359F96680B83D1C3EB2C070E5C545C9858D03ECFB744BF8D717717EFC", cofactor: 1}
	specCryptoProC = curveSpec{name: "cryptopro-c",
		p:  "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D759B",
		q:  "9B9F605F5A858107AB1EC85E6B41C8AA582CA3511EDDFB74F02F3A6598980BB9",
		a:  "9B9F605F5A858107AB1EC85E6B41C8AACF846E86789051D37998F7B9022D7598",
		b:  "805A",
		gx: "0",
		gy: "41ECE55743711A8C3CBF3783CD08C0EE4D4DC440D4641A8F366E550DFDB3BB67", cofactor: 1}
	spec2001Test = curveSpec{name: "gost2001-test",
		p:  "8000000000000000000000000000000000000000000000000000000000000431",
		q:  "8000000000000000000000000000000150FE8A1892976154C59CFC193ACCF5B3",
		a:  "7",
		b:  "5FBFF498AA938CE739B8E022FBAFEF40563F6E6A3472FC2A514C0CE9DAE23B7E",
		gx: "2",
		gy: "8E2A8A0E65147D4BD6316030E16D19C85C97F0A9CA267122B96ABBCEA7E8FC8", cofactor: 1}
	specTC26256A = curveSpec{name: "tc26-256-a",
		p:  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97",
		q:  "400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67",
		a:  "C2173F1513981673AF4892C23035A27CE25E2013BF95AA33B22C656F277E7335",
		b:  "295F9BAE7428ED9CCC20E7C359A9D41A22FCCD9108E17BF7BA9337A6F8AE9513",
		gx: "91E38443A5E82C0D880923425712B2BB658B9196932E02C78B2582FE742DAA28",
		gy: "32879423AB1A0375895786C4BB46E9565FDE0B5344766740AF268ADB32322E5C", cofactor: 4}
	specTC26512Test = curveSpec{name: "tc26-512-test",
		p:  "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15DF1D852741AF4704A0458047E80E4546D35B8336FAC224DD81664BBF528BE6373",
		q:  "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15DA82F2D7ECB1DBAC719905C5EECC423F1D86E25EDBE23C595D644AAF187E6E6DF",
		a:  "7",
		b:  "1CFF0806A31116DA29D8CFA54E57EB748BC5F377E49400FDD788B649ECA1AC4361834013B2AD7322480A89CA58E0CF74BC9E540C2ADD6897FAD0A3084F302ADC",
		gx: "24D19CC64572EE30F396BF6EBBFD7A6C5213B3B3D7057CC825F91093A68CD762FD60611262CD838DC6B60AA7EEE804E28BC849977FAC33B4B530F1B120248A9A",
		gy: "2BB312A43BD2CE6E0D020613C857ACDDCFBF061E91E5F2C3F32447C259F39B2C83AB156D77F1496BF7EB3351E1EE4E43DC1A18B91B24640B6DBB92CB1ADD371E", cofactor: 1}
	specTC26512A = curveSpec{name: "tc26-512-a",
		p:  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
		q:  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275",
		a:  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC4",
		b:  "E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760",
		gx: "3",
		gy: "7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4", cofactor: 1}
	specTC26512B = curveSpec{name: "tc26-512-b",
		p:  "8000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006F",
		q:  "800000000000000000000000000000000000000000000000000000000000000149A1EC142565A545ACFDB77BD9D40CFA8B996712101BEA0EC6346C54374F25BD",
		a:  "8000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000006C",
		b:  "687D1B459DC841457E3E06CF6F5E2517B97C7D614AF138BCBF85DC806C4B289F3E965D2DB1416D217F8B276FAD1AB69C50F78BEE1FA3106EFB8CCBC7C5140116",
		gx: "2",
		gy: "1A8F7EDA389B094C2C071E3647A8940F3C123B697578C213BE6DD9E6C8EC7335DCB228FD1EDF4A39152CBCAAF8C0398828041055F94CEEEC7E21340780FE41BD", cofactor: 1}
	specTC26512C = curveSpec{name: "tc26-512-c",
		p:  "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7",
		q:  "3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC98CDBA46506AB004C33A9FF5147502CC8EDA9E7A769A12694623CEF47F023ED",
		a:  "DC9203E514A721875485A529D2C722FB187BC8980EB866644DE41C68E143064546E861C0E2C9EDD92ADE71F46FCF50FF2AD97F951FDA9F2A2EB6546F39689BD3",
		b:  "B4C4EE28CEBC6C2C8AC12952CF37F16AC7EFB6A9F69F4B57FFDA2E4F0DE5ADE038CBC2FFF719D2C18DE0284B8BFEF3B52B8CC7A5F5BF0A3C8D2319A5312557E1",
		gx: "E2E31EDFC23DE7BDEBE241CE593EF5DE2295B7A9CBAEF021D385F7074CEA043AA27272A7AE602BF2A7B9033DB9ED3610C6FB85487EAE97AAC5BC7928C1950148",
		gy: "F5CE40D95B5EB899ABBCCFF5911CB8577939804D6527378B8C108C3D2090FF9BE18E2D33E3021ED2EF32D85822423B6304F726AA854BAE07D0396E9A9ADDC40F", cofactor: 4}
)

// The parameter sets kep knows, in the order kep lists them.
var (
	CryptoProA    = newParamSet("cryptopro-a", asn1.ObjectIdentifier{1, 2, 643, 2, 2, 35, 1}, &specCryptoProA)
	CryptoProB    = newParamSet("cryptopro-b", asn1.ObjectIdentifier{1, 2, 643, 2, 2, 35, 2}, &specCryptoProB)
	CryptoProC    = newParamSet("cryptopro-c", asn1.ObjectIdentifier{1, 2, 643, 2, 2, 35, 3}, &specCryptoProC)
	CryptoProXchA = newParamSet("cryptopro-xcha", asn1.ObjectIdentifier{1, 2, 643, 2, 2, 36, 0}, &specCryptoProA)
	CryptoProXchB = newParamSet("cryptopro-xchb", asn1.ObjectIdentifier{1, 2, 643, 2, 2, 36, 1}, &specCryptoProC)
	TC26256A      = newParamSet("tc26-256-a", asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 1, 1}, &specTC26256A)
	TC26256B      = newParamSet("tc26-256-b", asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 1, 2}, &specCryptoProA)
	TC26256C      = newParamSet("tc26-256-c", asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 1, 3}, &specCryptoProB)
	TC26256D      = newParamSet("tc26-256-d", asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 1, 4}, &specCryptoProC)
	TC26512Test   = newParamSet("tc26-512-test", asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 2, 0}, &specTC26512Test)
	TC26512A      = newParamSet("tc26-512-a", asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 2, 1}, &specTC26512A)
	TC26512B      = newParamSet("tc26-512-b", asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 2, 2}, &specTC26512B)
	TC26512C      = newParamSet("tc26-512-c", asn1.ObjectIdentifier{1, 2, 643, 7, 1, 2, 1, 2, 3}, &specTC26512C)
	GOST2001Test  = newLegacyParamSet("gost2001-test", asn1.ObjectIdentifier{1, 2, 643, 2, 2, 35, 0}, &spec2001Test)
)

var allParamSets = []*ParamSet{
	CryptoProA, CryptoProB, CryptoProC, CryptoProXchA, CryptoProXchB,
	TC26256A, TC26256B, TC26256C, TC26256D,
	TC26512Test, TC26512A, TC26512B, TC26512C,
	GOST2001Test,
}

// ParamSets returns every parameter set kep supports.
func ParamSets() []*ParamSet { return append([]*ParamSet(nil), allParamSets...) }

// ParamSetByOID returns the parameter set with the given OID.
func ParamSetByOID(oid asn1.ObjectIdentifier) (*ParamSet, error) {
	for _, ps := range allParamSets {
		if ps.OID.Equal(oid) {
			return ps, nil
		}
	}
	return nil, fmt.Errorf("gost3410: unknown parameter set OID %v", oid)
}

// ParamSetByName returns the parameter set with the given kep name
// (case-insensitive), e.g. "cryptopro-a" or "tc26-512-a".
func ParamSetByName(name string) (*ParamSet, error) {
	for _, ps := range allParamSets {
		if strings.EqualFold(ps.Name, name) {
			return ps, nil
		}
	}
	names := make([]string, len(allParamSets))
	for i, ps := range allParamSets {
		names[i] = ps.Name
	}
	return nil, fmt.Errorf("gost3410: unknown parameter set %q (known: %s)", name, strings.Join(names, ", "))
}

var (
	curvesMu sync.Mutex
	curves   = map[*curveSpec]*Curve{}
)

func newParamSet(name string, oid asn1.ObjectIdentifier, spec *curveSpec) *ParamSet {
	curvesMu.Lock()
	defer curvesMu.Unlock()
	c, ok := curves[spec]
	if !ok {
		c = mustCurve(spec)
		curves[spec] = c
	}
	return &ParamSet{Name: name, OID: oid, curve: c}
}

func newLegacyParamSet(name string, oid asn1.ObjectIdentifier, spec *curveSpec) *ParamSet {
	ps := newParamSet(name, oid, spec)
	ps.Legacy = true
	return ps
}

func hexInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("gost3410: bad constant " + s)
	}
	return v
}
