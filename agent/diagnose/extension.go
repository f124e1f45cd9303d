package diagnose

import "net"

// The findings about kep's browser extension road (native messaging): per
// browser, whether `kep install` registered the host; and whether an agent
// serves the extension on its relay socket.
const (
	NativeHostRegistered    = "NATIVE_HOST_REGISTERED"
	NativeHostNotRegistered = "NATIVE_HOST_NOT_REGISTERED"
	NativeHostStale         = "NATIVE_HOST_STALE"
	RelayNotServed          = "RELAY_NOT_SERVED"
)

func init() {
	catalogue[NativeHostRegistered] = entry{severity: Info,
		en: "%s: kep's browser extension can reach kep (native-messaging host registered)",
		ru: "%s: расширение kep может связаться с программой kep (хост native messaging зарегистрирован)"}
	catalogue[NativeHostNotRegistered] = entry{severity: Warning,
		en:    "%s is installed, but kep's native-messaging host is not registered for it: kep's extension there cannot reach kep, and pages fall back to the WebSocket (with Chrome's local network access prompt)",
		ru:    "%s установлен, но хост native messaging программы kep для него не зарегистрирован: расширение kep в нём не свяжется с kep, и сайты будут обращаться к kep через локальный порт (с запросом доступа к локальной сети)",
		fixEN: "Run «kep install».", fixRU: "Выполните «kep install»."}
	catalogue[NativeHostStale] = entry{severity: Warning,
		en:    "%s: kep's native-messaging host registration is out of date: %s",
		ru:    "%s: регистрация хоста native messaging программы kep устарела: %s",
		fixEN: "Run «kep install» again.", fixRU: "Выполните «kep install» ещё раз."}
	catalogue[RelayNotServed] = entry{severity: Warning,
		en:    "no kep agent serves the browser extension (nothing answers on %s); kep native-host starts one when a page asks",
		ru:    "программа kep не обслуживает расширение браузера (на %s никто не отвечает); kep native-host запустит её, когда сайт обратится",
		fixEN: "Start «kep agent» (without --no-relay).", fixRU: "Запустите «kep agent» (без --no-relay)."}
}

// HostRegistration is one browser's native-messaging registration, as
// install.Statuses reports it.
type HostRegistration struct {
	Browser    string `json:"browser"` // "chromium", "firefox", …
	Title      string `json:"title"`   // "Chromium"
	Found      bool   `json:"found"`   // the browser's profile exists
	Registered bool   `json:"registered"`
	Path       string `json:"path,omitempty"`
	Detail     string `json:"detail,omitempty"` // why it does not count
}

// Extension reports each browser found (or registered) and, when relay is
// not empty, whether an agent answers on that relay socket.
func Extension(hosts []HostRegistration, relay string) []Finding {
	var out []Finding
	for _, h := range hosts {
		ev := map[string]any{"browser": h.Browser, "manifest": h.Path}
		switch {
		case h.Registered:
			out = append(out, New(NativeHostRegistered, ev, h.Title))
		case !h.Found:
			// Not on this machine: nothing to say.
		case h.Detail != "" && h.Detail != "host not registered":
			out = append(out, New(NativeHostStale, ev, h.Title, h.Detail))
		default:
			out = append(out, New(NativeHostNotRegistered, ev, h.Title))
		}
	}
	if relay != "" {
		if c, err := net.Dial("unix", relay); err == nil {
			c.Close()
		} else {
			out = append(out, New(RelayNotServed, map[string]any{"socket": relay, "error": err.Error()}, relay))
		}
	}
	return out
}
