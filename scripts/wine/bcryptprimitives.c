/* A stand-in for Windows' bcryptprimitives.dll, for running kep.exe under
 * Wine 8 (Debian 12), which lacks that DLL: the Go runtime (1.24 and later)
 * takes its random numbers from ProcessPrng there and refuses to start
 * without it. Test harness only, never shipped: Windows 10 and later have
 * the real one. Built by scripts/wine-test.sh with MinGW-w64. */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
