//go:build cgo && unix && !pkcs11purego

package pkcs11

/*
#cgo linux LDFLAGS: -ldl
#cgo freebsd LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

// kep_load_error loads path the way github.com/miekg/pkcs11 does and returns
// why that fails, or NULL. The message is copied before dlclose.
static char *kep_load_error(const char *path) {
	void *h = dlopen(path, RTLD_LAZY);
	if (h == NULL) {
		const char *e = dlerror();
		return strdup(e != NULL ? e : "dlopen failed");
	}
	char *err = NULL;
	if (dlsym(h, "C_GetFunctionList") == NULL) {
		err = strdup("no C_GetFunctionList symbol: not a PKCS#11 module");
	}
	dlclose(h);
	return err;
}
*/
import "C"

import "unsafe"

// loadError returns the dynamic loader's reason why path cannot be loaded.
func loadError(path string) string {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	e := C.kep_load_error(p)
	if e == nil {
		return "the module loads now but did not a moment ago"
	}
	defer C.free(unsafe.Pointer(e))
	return C.GoString(e)
}
