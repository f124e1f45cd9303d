//go:build amd64 && !purego

package field

import "golang.org/x/sys/cpu"

//go:generate go run gen_amd64.go

// hasMULX reports BMI2 and ADX, which mulMinus4MULX needs (Intel since
// Broadwell, AMD since Zen).
var hasMULX = cpu.X86.HasBMI2 && cpu.X86.HasADX

// mulMinus4MULX sets z = x·y·2^-256 mod (2^256 − c) for x < 2^256, y below
// the modulus; inv is −(2^256 − c)⁻¹ mod 2^64. Constant time.
//
//go:noescape
func mulMinus4MULX(z, x, y *Elem, c, inv uint64)

// mulMinus8MULX sets z = x·y·2^-512 mod (2^512 − c) for x < 2^512, y below
// the modulus; inv is −(2^512 − c)⁻¹ mod 2^64. Constant time.
//
//go:noescape
func mulMinus8MULX(z, x, y *Elem, c, inv uint64)

// mulPlus8MULX sets z = x·y·2^-512 mod (2^511 + c) for x < 2^512, y below
// the modulus; inv is −(2^511 + c)⁻¹ mod 2^64. Constant time.
//
//go:noescape
func mulPlus8MULX(z, x, y *Elem, c, inv uint64)
