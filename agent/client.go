package agent

import (
	"embed"
	"net/http"
	"strings"
)

//go:embed client/kep.js client/kep.d.ts client/cadesplugin.js
var clientFiles embed.FS

// ClientJS is the JS client (an ES module), for servers that host their own copy.
func ClientJS() []byte {
	data, _ := clientFiles.ReadFile("client/kep.js")
	return data
}

// serveClient serves the JS client and its TypeScript declarations to any
// page (they hold no secrets).
func serveClient(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	data, err := clientFiles.ReadFile("client/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := "text/javascript; charset=utf-8"
	if strings.HasSuffix(name, ".d.ts") {
		ct = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(data)
}

// CadesPluginJS is the CryptoPro plug-in API shim (a classic script, loaded
// before CryptoPro's cadesplugin_api.js), for servers that host their own
// copy; it imports kep.js from beside itself.
func CadesPluginJS() []byte {
	data, _ := clientFiles.ReadFile("client/cadesplugin.js")
	return data
}
