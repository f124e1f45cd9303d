//go:build amd64 && !purego

package field

import "golang.org/x/sys/cpu"

//go:generate go run gen_amd64.go

// hasMULX reports BMI2 and ADX, which the assembly needs (Intel since
// Broadwell, AMD since Zen).
var hasMULX = cpu.X86.HasBMI2 && cpu.X86.HasADX

// mulPM4 sets z = x·y mod (2^256 − c) for x, y < 2^256, fully reduced
// (pseudo-Mersenne: elements are not in Montgomery form). Constant time.
//
//go:noescape
func mulPM4(z, x, y *Elem, c uint64)

// sqrPM4 sets z = x² mod (2^256 − c) for x < 2^256. Constant time.
//
//go:noescape
func sqrPM4(z, x *Elem, c uint64)

// mulPM8 sets z = x·y mod (2^512 − c) for x, y < 2^512. Constant time.
//
//go:noescape
func mulPM8(z, x, y *Elem, c uint64)

// sqrPM8 sets z = x² mod (2^512 − c) for x < 2^512. Constant time.
//
//go:noescape
func sqrPM8(z, x *Elem, c uint64)

// mulPlus8MULX sets z = x·y·2^-512 mod (2^511 + c) for x < 2^512, y below
// the modulus; inv is −(2^511 + c)⁻¹ mod 2^64. Constant time.
//
//go:noescape
func mulPlus8MULX(z, x, y *Elem, c, inv uint64)

// asmAddSub: addPM4, subPM4, addPM8 and subPM8 serve Add and Sub modulo
// 2^(64n) − c on every amd64 CPU (plain ADC, SBB and CMOV).
const asmAddSub = true

// addPM4 sets z = x + y mod (2^256 − c) for x, y below the modulus.
// Constant time.
//
//go:noescape
func addPM4(z, x, y *Elem, c uint64)

// subPM4 sets z = x − y mod (2^256 − c) for x, y below the modulus.
// Constant time.
//
//go:noescape
func subPM4(z, x, y *Elem, c uint64)

// addPM8 sets z = x + y mod (2^512 − c) for x, y below the modulus.
// Constant time.
//
//go:noescape
func addPM8(z, x, y *Elem, c uint64)

// subPM8 sets z = x − y mod (2^512 − c) for x, y below the modulus.
// Constant time.
//
//go:noescape
func subPM8(z, x, y *Elem, c uint64)
