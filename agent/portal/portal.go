// Package portal is kep's demo relying party: a web portal whose page signs
// and logs in through the kep agent (with kep.js) and whose backend checks
// the results with kep's own verification — what a government or business
// portal would run. `kep demo` serves it.
//
// It is a demo of the flow, not a template for production: sessions are
// not kept (the page just shows who logged in), and the trust anchors are
// whatever the operator configured (the demo CA by default).
package portal

import (
	"bytes"
	"embed"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kepkit/kep/agent"
	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/verify"
	"github.com/kepkit/kep/verify/login"
	"github.com/kepkit/kep/verify/protocol"
)

//go:embed static
var static embed.FS

// Config configures the portal.
type Config struct {
	// Origins are the origins the portal's page is served under (e.g.
	// http://localhost:8090 and http://127.0.0.1:8090); login challenges are
	// bound to the one the browser reports, if listed.
	Origins []string
	// Roots, Intermediates and CRLs are what logins and signatures are
	// checked against.
	Roots, Intermediates []*certs.Certificate
	CRLs                 []*certs.CRL
	// Files are served at /demo/NAME (the demo CRLs, the CA certificate).
	Files map[string][]byte
	// AgentPort is where the page looks for the agent (agent.DefaultPort
	// when zero).
	AgentPort int
	// Store keeps login nonces (in memory when nil).
	Store login.NonceStore
	// Now is the portal's clock (time.Now when nil).
	Now func() time.Time
	// MaxUpload bounds /api/verify uploads (64 MiB when zero).
	MaxUpload int64
}

// Portal is the demo portal's HTTP handler.
type Portal struct {
	cfg      Config
	origins  map[string]bool
	issuer   *login.Issuer
	verifier *login.Verifier
	mux      *http.ServeMux
}

// New returns the portal.
func New(cfg Config) (*Portal, error) {
	if len(cfg.Origins) == 0 {
		return nil, errors.New("portal: Config.Origins is empty")
	}
	if cfg.Store == nil {
		cfg.Store = login.NewMemoryStore()
	}
	if cfg.AgentPort == 0 {
		cfg.AgentPort = agent.DefaultPort
	}
	if cfg.MaxUpload == 0 {
		cfg.MaxUpload = 64 << 20
	}
	p := &Portal{cfg: cfg, origins: map[string]bool{},
		issuer: &login.Issuer{Store: cfg.Store, Now: cfg.Now},
		verifier: &login.Verifier{Store: cfg.Store, Roots: cfg.Roots, Intermediates: cfg.Intermediates, CRLs: cfg.CRLs,
			AllowESIACompatible: false, Now: cfg.Now},
		mux: http.NewServeMux()}
	for _, o := range cfg.Origins {
		n, err := login.NormalizeOrigin(o)
		if err != nil {
			return nil, err
		}
		p.origins[n] = true
	}
	p.mux.HandleFunc("GET /{$}", p.file("static/index.html"))
	p.mux.HandleFunc("GET /app.js", p.file("static/app.js"))
	p.mux.HandleFunc("GET /style.css", p.file("static/style.css"))
	p.mux.HandleFunc("GET /kep.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(agent.ClientJS())
	})
	// The same portal written for CryptoPro's plug-in API (cadesplugin.js).
	p.mux.HandleFunc("GET /cades", func(w http.ResponseWriter, r *http.Request) {
		page, _ := static.ReadFile("static/cades.html")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(bytes.ReplaceAll(page, []byte("{{AGENT_PORT}}"), []byte(strconv.Itoa(cfg.AgentPort))))
	})
	p.mux.HandleFunc("GET /cades.js", p.file("static/cades.js"))
	p.mux.HandleFunc("GET /cadesplugin.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(agent.CadesPluginJS())
	})
	p.mux.HandleFunc("GET /api/config", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"agentPort": cfg.AgentPort})
	})
	p.mux.HandleFunc("POST /api/login/challenge", p.challenge)
	p.mux.HandleFunc("POST /api/login/verify", p.loginVerify)
	p.mux.HandleFunc("POST /api/verify", p.verify)
	p.mux.HandleFunc("POST /api/verify/protocol", p.verify)
	p.mux.HandleFunc("GET /demo/{name}", func(w http.ResponseWriter, r *http.Request) {
		data, ok := cfg.Files[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		ct := mime.TypeByExtension(r.PathValue("name")[strings.LastIndexByte(r.PathValue("name"), '.')+1:])
		if strings.HasSuffix(r.PathValue("name"), ".crl") {
			ct = "application/pkix-crl"
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		w.Header().Set("Content-Type", ct)
		w.Write(data)
	})
	return p, nil
}

func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' http://127.0.0.1:* ws://127.0.0.1:* wss://127.0.0.1:*; img-src 'self' data:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	p.mux.ServeHTTP(w, r)
}

func (p *Portal) file(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := static.ReadFile(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		ct := "text/html; charset=utf-8"
		switch {
		case strings.HasSuffix(name, ".js"):
			ct = "text/javascript; charset=utf-8"
		case strings.HasSuffix(name, ".css"):
			ct = "text/css; charset=utf-8"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "no-store")
		w.Write(data)
	}
}

// origin is the browser's origin of the request when it is one of the
// portal's.
func (p *Portal) origin(r *http.Request) (string, bool) {
	o, err := login.NormalizeOrigin(r.Header.Get("Origin"))
	return o, err == nil && p.origins[o]
}

func (p *Portal) challenge(w http.ResponseWriter, r *http.Request) {
	origin, ok := p.origin(r)
	if !ok {
		writeError(w, http.StatusForbidden, "ORIGIN", "requests come from the portal's own page")
		return
	}
	ch, err := p.issuer.Challenge(r.Context(), origin)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "INTERNAL", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, ch)
}

func (p *Portal) loginVerify(w http.ResponseWriter, r *http.Request) {
	origin, ok := p.origin(r)
	if !ok {
		writeError(w, http.StatusForbidden, "ORIGIN", "requests come from the portal's own page")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, login.MaxResponseSize+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "FORMAT", err.Error())
		return
	}
	id, err := p.verifier.Verify(r.Context(), origin, body)
	if err != nil {
		var re *login.RefusalError
		if errors.As(err, &re) {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": re.Reason, "message": err.Error()})
			return
		}
		writeError(w, http.StatusInternalServerError, "INTERNAL", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"identity": id})
}

func (p *Portal) verify(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.origin(r); !ok {
		writeError(w, http.StatusForbidden, "ORIGIN", "requests come from the portal's own page")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, p.cfg.MaxUpload)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		writeError(w, http.StatusBadRequest, "FORMAT", "a multipart form with the signature (and the document) is expected: "+err.Error())
		return
	}
	defer r.MultipartForm.RemoveAll()
	read := func(name string) ([]byte, bool, error) {
		f, _, err := r.FormFile(name)
		if errors.Is(err, http.ErrMissingFile) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		return data, true, err
	}
	sig, ok, err := read("signature")
	if err != nil || !ok {
		writeError(w, http.StatusBadRequest, "FORMAT", "the signature file is missing")
		return
	}
	doc, hasDoc, err := read("document")
	if err != nil {
		writeError(w, http.StatusBadRequest, "FORMAT", err.Error())
		return
	}
	docName := ""
	if hasDoc {
		if _, fh, err := r.FormFile("document"); err == nil {
			docName = fh.Filename
		}
	}
	sig = maybePEM(sig)
	opts := verify.Options{Roots: p.cfg.Roots, Intermediates: p.cfg.Intermediates, CRLs: p.cfg.CRLs}
	if p.cfg.Now != nil {
		opts.At = p.cfg.Now()
	}
	if hasDoc {
		opts.Content = bytes.NewReader(doc)
	}
	rep, err := verify.Verify(r.Context(), sig, opts)
	if err != nil {
		writeError(w, http.StatusBadRequest, "FORMAT", err.Error())
		return
	}
	if r.URL.Path == "/api/verify/protocol" {
		p.protocol(w, r, rep, docName, doc, hasDoc)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"report": rep, "summary": map[string]string{"ru": rep.Summary("ru"), "en": rep.Summary("en")}})
}

// protocol answers the verification protocol of rep: PDF, or HTML with
// format=html, in Russian or English (lang=en).
func (p *Portal) protocol(w http.ResponseWriter, r *http.Request, rep *verify.Report, name string, doc []byte, hasDoc bool) {
	var d protocol.Document
	switch {
	case hasDoc:
		var err error
		if d, err = protocol.ReadDocument(r.Context(), name, bytes.NewReader(doc), rep); err != nil {
			writeError(w, http.StatusBadRequest, "FORMAT", err.Error())
			return
		}
	case rep.Content != nil:
		d, _ = protocol.ReadDocument(r.Context(), "(в подписи)", bytes.NewReader(rep.Content), rep)
	default:
		d = protocol.Document{Size: -1}
	}
	opts := protocol.Options{Lang: r.FormValue("lang"), Trust: "корневые сертификаты демо-портала", Revocation: "CRL демо-УЦ"}
	if p.cfg.Now != nil {
		opts.Now = p.cfg.Now()
	}
	var buf bytes.Buffer
	ct, ext := "application/pdf", "pdf"
	var err error
	if r.FormValue("format") == "html" {
		ct, ext = "text/html; charset=utf-8", "html"
		err = protocol.HTML(&buf, rep, d, opts)
	} else {
		err = protocol.PDF(&buf, rep, d, opts)
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "PROTOCOL", err.Error())
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="protocol.`+ext+`"`)
	w.Write(buf.Bytes())
}

// maybePEM returns the DER inside a PEM "CMS"/"PKCS7" block, or data as is.
func maybePEM(data []byte) []byte {
	if block, _ := pem.Decode(data); block != nil {
		return block.Bytes
	}
	return data
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, reason, msg string) {
	writeJSON(w, status, map[string]string{"error": reason, "message": msg})
}
