package agent

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// The agent is a long-running process on the user's desktop that is idle
// most of the time, and a signature can leave tens of megabytes behind: the
// software token's login takes 32 MiB for its scrypt, an upload its chunks'
// buffers. Go gives such memory back to the system only slowly, so the
// agent would sit at its peak for minutes after each signature. It asks for
// it back instead, a moment after the last such request (so that a batch
// pays once, and never in a request's own time).

// tokenMethods are the methods that may use a token (and log in).
var tokenMethods = map[string]bool{"sign": true, "login.sign": true, "cades.call": true}

// releaseDelay is how long after the last token request the memory goes
// back.
const releaseDelay = 2 * time.Second

// memoryRelease returns the heap's free memory to the system once no token
// request came for releaseDelay. The zero value is ready.
type memoryRelease struct {
	mu       sync.Mutex
	t        *time.Timer
	delay    time.Duration // releaseDelay when zero (tests shorten it)
	released atomic.Int64  // times done (for tests)
}

// after schedules the release (again) for the delay from now.
func (m *memoryRelease) after() {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.delay
	if d <= 0 {
		d = releaseDelay
	}
	if m.t == nil {
		m.t = time.AfterFunc(d, func() {
			debug.FreeOSMemory()
			m.released.Add(1)
		})
		return
	}
	m.t.Reset(d)
}

func (m *memoryRelease) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.t != nil {
		m.t.Stop()
	}
}
