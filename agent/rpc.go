package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/kepkit/kep/agent/cades"
)

// request is a JSON-RPC 2.0 request or notification.
type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`

	big *bigText // an upload.chunk's data, taken out before parsing (upload.go)
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

type notification struct {
	JSONRPC string `json:"jsonrpc"`
	Method  string `json:"method"`
	Params  any    `json:"params"`
}

// conn is one client: a WebSocket, or a page relayed by the browser
// extension through `kep native-host` (see relay.go).
type conn struct {
	a      *Agent
	t      transport
	origin string
	ctx    context.Context
	cancel context.CancelFunc

	writeMu  sync.Mutex
	inFlight chan struct{}
	requests int
	slot     *connSlot

	chunks        chan struct{} // upload.chunk messages held (Limits.MaxChunksInFlight)
	chunksHeldMax atomic.Int32  // the most held at once (for tests)

	mu           sync.Mutex
	uploads      map[string]*upload
	spare        []byte         // a message buffer kept for the next chunk (keepSpare)
	spareCharged int64          // its budget
	cades        *cades.Session // CryptoPro plug-in API objects (cadesapi.go), made on first use
}

// serveWS checks the Origin and upgrades to a WebSocket.
func (a *Agent) serveWS(w http.ResponseWriter, r *http.Request) {
	origin, err := CheckOrigin(r.Header.Get("Origin"))
	if err != nil {
		a.log.Warn("refused a connection", "origin", r.Header.Get("Origin"), "err", err)
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	slot := a.quota.take(origin, a.approved(origin))
	if slot == nil {
		a.log.Warn("refused a connection: limit reached", "origin", origin)
		http.Error(w, "kep agent: too many connections", http.StatusServiceUnavailable)
		return
	}
	defer slot.release()
	ws, err := a.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the client
	}
	a.servedWS.Add(1)
	a.serveConn(wsTransport{ws}, origin, slot)
}

// serveConn serves one client of origin, over either road, until it goes.
func (a *Agent) serveConn(t transport, origin string, slot *connSlot) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{a: a, t: t, origin: origin, ctx: ctx, cancel: cancel, slot: slot,
		inFlight: make(chan struct{}, a.limits.MaxInFlight), uploads: map[string]*upload{},
		chunks: make(chan struct{}, a.limits.MaxChunksInFlight)}
	a.mu.Lock()
	a.conns[c] = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.conns, c)
		a.mu.Unlock()
		cancel()
		c.mu.Lock()
		c.dropSpareLocked()
		c.mu.Unlock()
		t.Close()
	}()
	c.run()
}

// approvedNow reports whether the connection's site is approved, and
// gives back its unapproved share of the connection slots once it is.
func (c *conn) approvedNow() bool {
	if !c.a.approved(c.origin) {
		return false
	}
	c.slot.approve()
	return true
}

// idle is how long the connection may stay silent: a site not approved
// keeps a connection only while it has a request under way, or briefly.
func (c *conn) idle(approved bool) time.Duration {
	if approved {
		return c.a.limits.IdleTimeout
	}
	return c.a.limits.UnapprovedIdle
}

// readStep is how much of a message is reserved from the budget at a time.
const readStep = 64 << 10

// messageCopies is how many times a message's size is charged to the
// budget: the message itself and the copy of its params that decoding
// makes.
const messageCopies = 2

// readMessage reads the next message within the connection's size limit
// (small until the site is approved), reserving its memory from the
// agent's budget as it arrives; release gives the memory back and wipes it
// (a message may hold a page PIN).
func (c *conn) readMessage(approved bool) (typ int, data []byte, release func(), err error) {
	limit := c.a.limits.MaxUnapprovedMessage
	if approved {
		limit = c.a.limits.MaxMessage
	}
	typ, r, err := c.t.NextReader(limit)
	if err != nil {
		return 0, nil, nil, err
	}
	var charged int64
	release = func() {
		clear(data[:cap(data)])
		if c.keepSpare(data, charged) {
			data, charged = nil, 0
			return
		}
		c.a.budget.release(charged)
		charged = 0
	}
	if hint, ok := r.(interface{ Len() int64 }); ok && hint.Len() <= limit {
		// The relay's frames say their length: one buffer of that size.
		n := hint.Len() + 1 // room to read the end without growing
		ctx, cancel := context.WithTimeout(c.ctx, c.a.limits.WriteTimeout)
		err = c.a.budget.acquire(ctx, messageCopies*n)
		cancel()
		if err != nil {
			return 0, nil, nil, errBudget
		}
		charged = messageCopies * n
		data = make([]byte, 0, n)
	}
	for {
		if len(data) == cap(data) && len(data) >= spareMin {
			if spare, spareCharged := c.takeSpare(cap(data)); spare != nil {
				copy(spare[:len(data)], data)
				clear(data)
				data = spare[:len(data)]
				c.a.budget.release(charged) // the buffer left
				charged = spareCharged
			}
		}
		if len(data) == cap(data) {
			// Grow by doubling (reading in place, not copying at every
			// step), each growth reserved first. The reader stops at the
			// limit, so the buffer never needs more than limit+readStep.
			grow := max(int64(cap(data)), readStep)
			if room := limit + readStep - int64(cap(data)); grow > room {
				grow = room
			}
			ctx, cancel := context.WithTimeout(c.ctx, c.a.limits.WriteTimeout)
			err = c.a.budget.acquire(ctx, messageCopies*grow)
			cancel()
			if err != nil {
				release()
				return 0, nil, nil, errBudget
			}
			charged += messageCopies * grow
			grown := make([]byte, len(data), int64(cap(data))+grow)
			copy(grown, data)
			clear(data)
			data = grown
		}
		n, rerr := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if errors.Is(rerr, io.EOF) {
			return typ, data, release, nil
		}
		if rerr != nil {
			release()
			return 0, nil, nil, rerr
		}
	}
}

var errBudget = errors.New("agent: out of memory for messages")

func (c *conn) noteChunksHeld(n int) {
	for {
		m := c.chunksHeldMax.Load()
		if int32(n) <= m || c.chunksHeldMax.CompareAndSwap(m, int32(n)) {
			return
		}
	}
}

// spareMin is the smallest message buffer a connection keeps for its next
// message while it has an upload open: chunk after chunk then reuses one
// buffer instead of growing a new one (and leaving it to the collector)
// for each.
const spareMin = 1 << 20

// keepSpare keeps buf (wiped) as the connection's spare, with its budget
// charge, when it is large, an upload is open and there is none yet.
func (c *conn) keepSpare(buf []byte, charged int64) bool {
	if cap(buf) < spareMin {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.spare != nil || len(c.uploads) == 0 || c.ctx.Err() != nil {
		return false
	}
	c.spare, c.spareCharged = buf[:0], charged
	return true
}

// takeSpare gives the spare when it is larger than have bytes.
func (c *conn) takeSpare(have int) ([]byte, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cap(c.spare) <= have {
		return nil, 0
	}
	b, n := c.spare, c.spareCharged
	c.spare, c.spareCharged = nil, 0
	return b[:cap(b)], n
}

// dropSpare lets the spare go (the uploads are over) and returns its
// budget; the caller holds c.mu.
func (c *conn) dropSpareLocked() {
	if c.spare != nil {
		c.a.budget.release(c.spareCharged)
		c.spare, c.spareCharged = nil, 0
	}
}

// run reads messages until the connection ends; each request runs in its
// own goroutine, at most Limits.MaxInFlight at once.
func (c *conn) run() {
	lim := c.a.limits
	c.t.SetReadDeadline(time.Now().Add(c.idle(c.approvedNow())))
	c.t.SetPongHandler(func(string) error {
		// Pongs keep an approved site's connection, or one waiting for an
		// answer (an access window); an idle unapproved one times out.
		if c.approvedNow() || len(c.inFlight) > 0 {
			return c.t.SetReadDeadline(time.Now().Add(lim.IdleTimeout))
		}
		return nil
	})
	go c.ping()
	var wg sync.WaitGroup
	defer c.releaseCades()
	defer wg.Wait()
	defer c.cancel()
	chunkTurn := make(chan struct{}) // closed when the previous chunk is done
	close(chunkTurn)
	for {
		// Back-pressure: with MaxChunksInFlight chunks held, the socket is
		// not read (TCP slows the sender) until one is hashed.
		select {
		case c.chunks <- struct{}{}:
			<-c.chunks
		case <-c.ctx.Done():
			return
		}
		approved := c.approvedNow()
		typ, data, release, err := c.readMessage(approved)
		if err != nil {
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				c.close(websocket.CloseMessageTooBig, "message too big")
			case errors.Is(err, errBudget):
				c.close(websocket.CloseTryAgainLater, "agent busy")
			}
			return
		}
		c.t.SetReadDeadline(time.Now().Add(c.idle(approved)))
		if typ != websocket.TextMessage {
			release()
			c.close(websocket.CloseUnsupportedData, "text messages only")
			return
		}
		if !utf8.Valid(data) {
			release()
			c.close(websocket.CloseInvalidFramePayloadData, "text is not UTF-8")
			return
		}
		c.requests++
		if c.requests > lim.MaxRequests {
			release()
			c.close(websocket.ClosePolicyViolation, "too many requests")
			return
		}
		req, rerr := decodeMessage(data)
		if rerr != nil {
			release()
			c.reply(req.ID, nil, rerr)
			continue
		}
		select {
		case c.inFlight <- struct{}{}:
		default:
			release()
			c.reply(req.ID, nil, rpcError(ReasonBusy, "more than %d requests under way on this connection", lim.MaxInFlight))
			continue
		}
		// A connection's chunks are hashed one at a time, in the order they
		// came, each after the one before (a client may send the next
		// before the answer to the last).
		var turn, done chan struct{}
		if req.Method == "upload.chunk" {
			c.chunks <- struct{}{} // a slot is free: the loop waited for one
			c.noteChunksHeld(len(c.chunks))
			turn, done = chunkTurn, make(chan struct{})
			chunkTurn = done
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var result any
			var err error
			if turn != nil {
				select {
				case <-turn:
					result, err = c.a.dispatch(c, req)
				case <-c.ctx.Done():
					err = c.ctx.Err()
				}
				close(done)
			} else {
				result, err = c.a.dispatch(c, req)
			}
			clear(req.Params) // part of the message
			release()
			if tokenMethods[req.Method] {
				c.a.memory.after()
			}
			if turn != nil {
				<-c.chunks
			}
			// Free the slot before answering: a client that sends its next
			// request as soon as it has the answer must not find it taken.
			<-c.inFlight
			if req.ID == nil {
				return // a notification: no answer
			}
			var rerr *Error
			if err != nil {
				rerr = toRPCError(err)
			}
			c.reply(req.ID, result, rerr)
		}()
	}
}

// decodeRequest reads one JSON-RPC 2.0 request (batches are not served).
// On error the request's id is kept when it could be read, so that the
// error answers it.
//
// The request's Params are a view of data, not a copy (an upload.chunk's
// params are most of a message of megabytes): they are valid while data
// is, which the read loop keeps until the request is answered.
func decodeRequest(data []byte) (request, *Error) {
	var msg struct {
		request
		Params paramsView `json:"params,omitempty"`
	}
	// json.Unmarshal, not a Decoder: it keeps no copy of the message (which
	// may hold a page PIN) in a buffer of its own.
	err := json.Unmarshal(data, &msg)
	req := msg.request
	req.Params = json.RawMessage(msg.Params)
	if err != nil {
		reason := ReasonParse
		var typeErr *json.UnmarshalTypeError
		if t := bytes.TrimSpace(data); errors.As(err, &typeErr) || (len(t) > 0 && t[0] == '[') {
			reason = ReasonInvalidRequest // valid JSON, not a request object
		}
		return request{}, rpcError(reason, "not a JSON-RPC request: %v", err)
	}
	if req.JSONRPC != "2.0" || req.Method == "" {
		return request{ID: validID(req.ID)}, rpcError(ReasonInvalidRequest, "jsonrpc must be \"2.0\" and method set")
	}
	if id := validID(req.ID); id == nil && req.ID != nil {
		return request{}, rpcError(ReasonInvalidRequest, "id must be a string, a number or null")
	}
	return req, nil
}

// paramsView takes a JSON value as the slice of the input it stands in.
type paramsView []byte

func (p *paramsView) UnmarshalJSON(b []byte) error {
	*p = b
	return nil
}

// validID returns id when it is a JSON-RPC id (string, number, null).
func validID(id json.RawMessage) json.RawMessage {
	t := bytes.TrimSpace(id)
	if len(t) == 0 {
		return nil
	}
	switch t[0] {
	case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return id
	case 'n':
		return id // null: answered with a null id
	}
	return nil
}

func (c *conn) ping() {
	t := time.NewTicker(c.a.limits.IdleTimeout / 3)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			c.writeMu.Lock()
			err := c.t.WritePing(time.Now().Add(c.a.limits.WriteTimeout))
			c.writeMu.Unlock()
			if err != nil {
				c.t.Close()
				return
			}
		}
	}
}

func (c *conn) close(code int, text string) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.t.WriteClose(code, text, time.Now().Add(time.Second))
}

func (c *conn) reply(id json.RawMessage, result any, err *Error) {
	if id == nil {
		id = json.RawMessage("null")
	}
	if err == nil && result == nil {
		result = struct{}{}
	}
	c.write(response{JSONRPC: "2.0", ID: id, Result: result, Error: err})
}

func (c *conn) notify(method string, params any) {
	c.write(notification{JSONRPC: "2.0", Method: method, Params: params})
}

// write sends v; a client too slow to take it within WriteTimeout is
// disconnected.
func (c *conn) write(v any) {
	data, err := json.Marshal(v)
	if err != nil {
		c.a.log.Error("cannot encode a reply", "err", err)
		return
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.t.WriteMessage(data, time.Now().Add(c.a.limits.WriteTimeout)); err != nil {
		c.t.Close()
	}
}
