package certs

import (
	"errors"
	"fmt"
	"strings"
)

// ErrChecksum is wrapped by the Validate* errors about a control digit that
// does not match; other errors describe the format (length, characters).
var ErrChecksum = errors.New("control digits do not match")

// digitsOf returns the digits of s, which must consist of decimal digits only.
func digitsOf(kind, s string, lengths ...int) ([]int, error) {
	if s == "" {
		return nil, fmt.Errorf("%s is empty", kind)
	}
	d := make([]int, 0, len(s))
	for i, r := range s {
		if r < '0' || r > '9' {
			return nil, fmt.Errorf("%s %q has a non-digit %q at position %d", kind, s, r, i+1)
		}
		d = append(d, int(r-'0'))
	}
	for _, n := range lengths {
		if len(d) == n {
			return d, nil
		}
	}
	want := fmt.Sprint(lengths[0])
	if len(lengths) == 2 {
		want = fmt.Sprintf("%d or %d", lengths[0], lengths[1])
	}
	return nil, fmt.Errorf("%s %q has %d digits, want %s", kind, s, len(d), want)
}

// ValidateSNILS checks a СНИЛС (insurance number): 11 digits, written plain
// ("11223344595") or formatted ("112-233-445 95"). The last two digits are the
// control number: the sum of the first nine digits weighted 9…1, taken as is
// below 100, 00 for 100 and 101, else modulo 101 (with 100 again giving 00).
// Numbers up to 001-001-998 were issued before the checksum and are accepted
// with any control number.
func ValidateSNILS(s string) error {
	plain := strings.NewReplacer("-", "", " ", "").Replace(s)
	d, err := digitsOf("СНИЛС", plain, 11)
	if err != nil {
		return err
	}
	number, sum := 0, 0
	for i := 0; i < 9; i++ {
		number = number*10 + d[i]
		sum += d[i] * (9 - i)
	}
	if number <= 1001998 {
		return nil
	}
	control := sum
	if control > 101 {
		control %= 101
	}
	if control == 100 || control == 101 {
		control = 0
	}
	if got := d[9]*10 + d[10]; got != control {
		return fmt.Errorf("СНИЛС %s: %w: control number %02d, the first nine digits give %02d", s, ErrChecksum, got, control)
	}
	return nil
}

var (
	innWeights10 = []int{2, 4, 10, 3, 5, 9, 4, 6, 8}
	innWeights11 = []int{7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
	innWeights12 = []int{3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8}
)

func weighted(d, w []int) int {
	sum := 0
	for i, x := range w {
		sum += d[i] * x
	}
	return sum % 11 % 10
}

// ValidateINN checks an ИНН (taxpayer number): 10 digits for a legal entity
// (one control digit), 12 for a person or an individual entrepreneur (two
// control digits). A legal entity's ИНН padded to 12 digits with "00", as
// certificates issued before 2021 carry it in the INN attribute, is checked as
// the 10-digit number.
func ValidateINN(s string) error {
	d, err := digitsOf("ИНН", s, 10, 12)
	if err != nil {
		return err
	}
	if len(d) == 12 && d[0] == 0 && d[1] == 0 {
		d = d[2:]
	}
	if len(d) == 10 {
		if c := weighted(d, innWeights10); c != d[9] {
			return fmt.Errorf("ИНН %s: %w: control digit %d, want %d", s, ErrChecksum, d[9], c)
		}
		return nil
	}
	if c := weighted(d, innWeights11); c != d[10] {
		return fmt.Errorf("ИНН %s: %w: 11th digit %d, want %d", s, ErrChecksum, d[10], c)
	}
	if c := weighted(d, innWeights12); c != d[11] {
		return fmt.Errorf("ИНН %s: %w: 12th digit %d, want %d", s, ErrChecksum, d[11], c)
	}
	return nil
}

// ValidateOGRN checks an ОГРН (primary state registration number of a legal
// entity): 13 digits starting with 1 or 5, the last equal to the first twelve,
// read as a number, modulo 11, modulo 10.
func ValidateOGRN(s string) error {
	return validateRegNumber("ОГРН", s, 13, 11, "15")
}

// ValidateOGRNIP checks an ОГРНИП (registration number of an individual
// entrepreneur): 15 digits starting with 3, the last equal to the first
// fourteen, read as a number, modulo 13, modulo 10.
func ValidateOGRNIP(s string) error {
	return validateRegNumber("ОГРНИП", s, 15, 13, "3")
}

func validateRegNumber(kind, s string, length, mod int, firstDigits string) error {
	d, err := digitsOf(kind, s, length)
	if err != nil {
		return err
	}
	if !strings.ContainsRune(firstDigits, rune('0'+d[0])) {
		return fmt.Errorf("%s %s starts with %d, but %s numbers start with %s", kind, s, d[0], kind, strings.Join(strings.Split(firstDigits, ""), " or "))
	}
	rem := 0
	for _, x := range d[:length-1] {
		rem = (rem*10 + x) % mod
	}
	if c := rem % 10; c != d[length-1] {
		return fmt.Errorf("%s %s: %w: control digit %d, want %d", kind, s, ErrChecksum, d[length-1], c)
	}
	return nil
}
