//go:build valgrind

#include "textflag.h"

// func vgClientRequest(args *[6]uint64) uint64
// Valgrind's client request: the magic preamble (four ROLs of DI) and
// XCHGQ BX, BX, with AX pointing at {request, arg1..arg5}; the answer is in
// DX (0 outside Valgrind). Only in builds with the valgrind tag.
TEXT ·vgClientRequest(SB), NOSPLIT, $0-16
	MOVQ args+0(FP), AX
	XORQ DX, DX
	ROLQ $3, DI
	ROLQ $13, DI
	ROLQ $61, DI
	ROLQ $51, DI
	XCHGQ BX, BX
	MOVQ DX, ret+8(FP)
	RET
