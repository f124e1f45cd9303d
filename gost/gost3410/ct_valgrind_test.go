//go:build valgrind && amd64

package gost3410

import (
	"crypto/rand"
	"testing"
	"unsafe"
)

// secretReader gives random bytes marked secret for Memcheck.
type secretReader struct{}

func (secretReader) Read(p []byte) (int, error) {
	n, err := rand.Read(p)
	vgMakeUndefined(unsafe.Pointer(unsafe.SliceData(p)), uintptr(len(p)))
	return n, err
}

// TestSignConstantTimeValgrind signs with a private key and nonces marked
// secret, so that Memcheck reports each conditional branch and each memory
// address that depends on them. It proves nothing by itself: run it as
//
//	go test -tags valgrind -c -o ct.test ./gost/gost3410
//	GODEBUG=cpu.rdtscp=off,asyncpreemptoff=1 valgrind --tool=memcheck ./ct.test -test.run SignConstantTimeValgrind
//
// and read the report (GODEBUG: Valgrind 3.19 knows neither RDTSCP nor Go's
// preemption signals). Under Valgrind the CPU shows no ADX, so the Go field
// code runs; the assembly is checked by reading (straight-line, CMOV only).
func TestSignConstantTimeValgrind(t *testing.T) {
	for _, ps := range []*ParamSet{CryptoProA, TC26256A, TC26512A, TC26512B, TC26512C} {
		k, err := GenerateKey(ps, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		digest := make([]byte, ps.curve.size)
		rand.Read(digest)
		vgMakeUndefined(unsafe.Pointer(&k.d), unsafe.Sizeof(k.d))
		vgMakeUndefined(unsafe.Pointer(unsafe.SliceData(k.dBytes)), uintptr(len(k.dBytes)))
		sig, err := k.Sign(secretReader{}, digest, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The signature is public.
		vgMakeDefined(unsafe.Pointer(unsafe.SliceData(sig)), uintptr(len(sig)))
		vgMakeDefined(unsafe.Pointer(&k.d), unsafe.Sizeof(k.d))
		vgMakeDefined(unsafe.Pointer(unsafe.SliceData(k.dBytes)), uintptr(len(k.dBytes)))
		if !Verify(k.Public().(*PublicKey), digest, sig) {
			t.Fatalf("%s: the signature does not verify", ps.Name)
		}
	}
}
