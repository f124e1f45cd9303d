package protocol

import (
	"testing"

	"github.com/kepkit/kep/verify"
)

// TestTextsComplete: every text exists in both languages.
func TestTextsComplete(t *testing.T) {
	for _, pair := range [][2]string{{"ru", "en"}, {"en", "ru"}} {
		a, b := langs[pair[0]], langs[pair[1]]
		for name, m := range map[string][2]map[string]string{
			"words": {a.words, b.words}, "checks": {a.checks, b.checks}, "statuses": {a.statuses, b.statuses},
			"verdicts": {a.verdicts, b.verdicts}, "subs": {a.subs, b.subs}, "digests": {a.digests, b.digests},
		} {
			for k := range m[0] {
				if _, ok := m[1][k]; !ok {
					t.Errorf("%s %s %q has no %s text", pair[0], name, k, pair[1])
				}
			}
		}
	}
}

func TestParseDN(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`CN=kep test TSA tsa1,O=kep tests,C=RU`, "kep test TSA tsa1, kep tests"},
		{`1.2.643.100.3=#120b3131323233333434353935,CN=Иванов Иван Иванович`, "Иванов Иван Иванович"},
		{`1.2.643.100.3=#120b3131323233333434353935,2.5.4.42=#0c08d098d0b2d0b0d0bd`, "Иван"},
		{`1.2.643.100.3=#120b3131323233333434353935,L=Москва`, "СНИЛС=11223344595, L=Москва"},
		{`CN=a\,b\+c+O=d`, "a,b+c, d"},
		{`1.2.3=#0201ff,CN=x`, "x"},      // not a string: dropped
		{`1.2.3=#zz`, ""},                // not hex: dropped
		{`2.5.4.42=#1e0404100411`, "АБ"}, // BMPString
	} {
		if got := readableName(tc.in); got != tc.want {
			t.Errorf("readableName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestEveryCheckNamed: every check code the verifier can report has a name
// in both languages (verify's own tests fail on a code it does not list).
func TestEveryCheckNamed(t *testing.T) {
	for lang, tx := range langs {
		for _, code := range verify.CheckCodes() {
			if tx.checks[code] == "" {
				t.Errorf("%s: check %s has no name", lang, code)
			}
		}
	}
}
