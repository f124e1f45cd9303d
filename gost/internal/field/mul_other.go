//go:build !amd64 || purego

package field

// hasMULX is false: the generated pure-Go code serves every modulus.
const hasMULX = false

// mulMinus4MULX is never called without hasMULX.
func mulMinus4MULX(z, x, y *Elem, c, inv uint64) { panic("field: no MULX code on this platform") }

// mulMinus8MULX is never called without hasMULX.
func mulMinus8MULX(z, x, y *Elem, c, inv uint64) { panic("field: no MULX code on this platform") }

// mulPlus8MULX is never called without hasMULX.
func mulPlus8MULX(z, x, y *Elem, c, inv uint64) { panic("field: no MULX code on this platform") }
