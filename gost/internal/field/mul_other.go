//go:build !amd64 || purego

package field

// hasMULX is false: the generated pure-Go code serves every modulus.
const hasMULX = false

// mulPM4 is never called without hasMULX.
func mulPM4(z, x, y *Elem, c uint64) { panic("field: no MULX code on this platform") }

// sqrPM4 is never called without hasMULX.
func sqrPM4(z, x *Elem, c uint64) { panic("field: no MULX code on this platform") }

// mulPM8 is never called without hasMULX.
func mulPM8(z, x, y *Elem, c uint64) { panic("field: no MULX code on this platform") }

// sqrPM8 is never called without hasMULX.
func sqrPM8(z, x *Elem, c uint64) { panic("field: no MULX code on this platform") }

// mulPlus8MULX is never called without hasMULX.
func mulPlus8MULX(z, x, y *Elem, c, inv uint64) { panic("field: no MULX code on this platform") }

// asmAddSub is false: the generated Go code adds and subtracts.
const asmAddSub = false

func addPM4(z, x, y *Elem, c uint64) { panic("field: no assembly on this platform") }
func subPM4(z, x, y *Elem, c uint64) { panic("field: no assembly on this platform") }
func addPM8(z, x, y *Elem, c uint64) { panic("field: no assembly on this platform") }
func subPM8(z, x, y *Elem, c uint64) { panic("field: no assembly on this platform") }
