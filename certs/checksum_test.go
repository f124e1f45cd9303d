package certs

import (
	"errors"
	"strings"
	"testing"
)

// The valid numbers are published ones (Сбербанк, Яндекс, the СНИЛС of the
// Пенсионный фонд example) or computed by hand for the edge cases of the
// СНИЛС control number (weighted sums 100, 101, 102, 150, 203).
func TestValidateChecksums(t *testing.T) {
	type tc struct {
		in       string
		checksum bool   // want an error wrapping ErrChecksum
		errHas   string // want an error containing this; "" with !checksum: valid
	}
	tables := []struct {
		name  string
		check func(string) error
		cases []tc
	}{
		{"SNILS", ValidateSNILS, []tc{
			{in: "11223344595"},
			{in: "112-233-445 95"},
			{in: "00150881500"}, // sum 100 → 00
			{in: "00143754400"}, // sum 101 → 00
			{in: "00131875901"}, // sum 102 → 102 mod 101 = 01
			{in: "00256996149"}, // sum 150 → 49
			{in: "01683999901"}, // sum 203 → 01
			{in: "00100199812"}, // ≤ 001-001-998: no checksum
			{in: "11223344596", checksum: true, errHas: "control number 96, the first nine digits give 95"},
			{in: "00150881501", checksum: true},
			{in: "00150881599", checksum: true},
			{in: "00100199912", checksum: true}, // 001-001-999 has one
			{in: "1122334459", errHas: "10 digits, want 11"},
			{in: "112233445951", errHas: "12 digits"},
			{in: "1122334459A", errHas: "non-digit"},
			{in: "", errHas: "empty"},
		}},
		{"INN", ValidateINN, []tc{
			{in: "7707083893"},   // Сбербанк
			{in: "7736207543"},   // Яндекс
			{in: "500100732259"}, // person
			{in: "773173084809"},
			{in: "007707083893"}, // legal entity padded to 12, as older certificates write it
			{in: "7707083894", checksum: true, errHas: "control digit 4, want 3"},
			{in: "500100732250", checksum: true, errHas: "12th digit"},
			{in: "500100732209", checksum: true, errHas: "11th digit"},
			{in: "007707083890", checksum: true},
			{in: "77070838931", errHas: "11 digits, want 10 or 12"},
			{in: "77070838 3", errHas: "non-digit"},
		}},
		{"OGRN", ValidateOGRN, []tc{
			{in: "1027700132195"}, // Сбербанк
			{in: "1027700229193"}, // Яндекс
			{in: "1027700132194", checksum: true, errHas: "control digit 4, want 5"},
			{in: "3027700132195", errHas: "start with 1 or 5"},
			{in: "102770013219", errHas: "12 digits, want 13"},
			{in: "304500116000157", errHas: "15 digits, want 13"},
		}},
		{"OGRNIP", ValidateOGRNIP, []tc{
			{in: "304500116000157"},
			{in: "304500116000158", checksum: true, errHas: "control digit 8, want 7"},
			{in: "104500116000157", errHas: "start with 3"},
			{in: "1027700132195", errHas: "13 digits, want 15"},
			{in: "30450011600015x", errHas: "non-digit"},
		}},
	}
	for _, tb := range tables {
		for _, c := range tb.cases {
			err := tb.check(c.in)
			valid := !c.checksum && c.errHas == ""
			switch {
			case valid && err != nil:
				t.Errorf("%s %q: unexpected error %v", tb.name, c.in, err)
			case !valid && err == nil:
				t.Errorf("%s %q: accepted", tb.name, c.in)
			case !valid && c.checksum != errors.Is(err, ErrChecksum):
				t.Errorf("%s %q: errors.Is(ErrChecksum) = %v, want %v (%v)", tb.name, c.in, !c.checksum, c.checksum, err)
			case !valid && !strings.Contains(err.Error(), c.errHas):
				t.Errorf("%s %q: error %q does not say %q", tb.name, c.in, err, c.errHas)
			}
		}
	}
}
