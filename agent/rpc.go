package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// request is a JSON-RPC 2.0 request or notification.
type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
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

// conn is one WebSocket client.
type conn struct {
	a      *Agent
	ws     *websocket.Conn
	origin string
	ctx    context.Context
	cancel context.CancelFunc

	writeMu  sync.Mutex
	inFlight chan struct{}
	requests int

	mu      sync.Mutex
	uploads map[string]*upload
}

// serveWS checks the Origin and upgrades to a WebSocket.
func (a *Agent) serveWS(w http.ResponseWriter, r *http.Request) {
	origin, err := CheckOrigin(r.Header.Get("Origin"))
	if err != nil {
		a.log.Warn("refused a connection", "origin", r.Header.Get("Origin"), "err", err)
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	select {
	case a.connSem <- struct{}{}:
	default:
		http.Error(w, "kep agent: too many connections", http.StatusServiceUnavailable)
		return
	}
	defer func() { <-a.connSem }()
	ws, err := a.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the client
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{a: a, ws: ws, origin: origin, ctx: ctx, cancel: cancel,
		inFlight: make(chan struct{}, a.limits.MaxInFlight), uploads: map[string]*upload{}}
	a.mu.Lock()
	a.conns[c] = true
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.conns, c)
		a.mu.Unlock()
		cancel()
		ws.Close()
	}()
	c.run()
}

// run reads messages until the connection ends; each request runs in its
// own goroutine, at most Limits.MaxInFlight at once.
func (c *conn) run() {
	lim := c.a.limits
	c.ws.SetReadLimit(lim.MaxMessage)
	c.ws.SetReadDeadline(time.Now().Add(lim.IdleTimeout))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(lim.IdleTimeout))
	})
	go c.ping()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer c.cancel()
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.close(websocket.CloseMessageTooBig, "message too big")
			}
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(lim.IdleTimeout))
		if typ != websocket.TextMessage {
			c.close(websocket.CloseUnsupportedData, "text messages only")
			return
		}
		c.requests++
		if c.requests > lim.MaxRequests {
			c.close(websocket.ClosePolicyViolation, "too many requests")
			return
		}
		var req request
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&req); err != nil {
			reason := ReasonParse
			if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
				reason = ReasonInvalidRequest
			}
			c.reply(nil, nil, rpcError(reason, "not a JSON-RPC request: %v", err))
			continue
		}
		if req.JSONRPC != "2.0" || req.Method == "" {
			c.reply(req.ID, nil, rpcError(ReasonInvalidRequest, "jsonrpc must be \"2.0\" and method set"))
			continue
		}
		select {
		case c.inFlight <- struct{}{}:
		default:
			c.reply(req.ID, nil, rpcError(ReasonBusy, "more than %d requests under way on this connection", lim.MaxInFlight))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			result, err := c.a.dispatch(c, req)
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

func (c *conn) ping() {
	t := time.NewTicker(c.a.limits.IdleTimeout / 3)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			c.writeMu.Lock()
			err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.a.limits.WriteTimeout))
			c.writeMu.Unlock()
			if err != nil {
				c.ws.Close()
				return
			}
		}
	}
}

func (c *conn) close(code int, text string) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
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
	c.ws.SetWriteDeadline(time.Now().Add(c.a.limits.WriteTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
		c.ws.Close()
	}
}
