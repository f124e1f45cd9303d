package agent

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"runtime/debug"

	"github.com/kepkit/kep/certs"
	"github.com/kepkit/kep/pkcs11/keystore"
)

// The chunked upload: a document too large for one message comes as
// upload.begin, upload.chunk messages in order, and a sign with the
// upload's id. The agent keeps only the running digest: each chunk's
// base64 text is decoded from the message itself, a block at a time, into
// the hash — no decoded copy of the chunk, no copy of the message's params
// — so that what a chunk costs is the message as it was read. The read
// loop (rpc.go) holds at most Limits.MaxChunksInFlight chunk messages of a
// connection and hashes them in the order they came.

// upload is a document sent in chunks, hashed as it arrives.
type upload struct {
	entry  *keystore.Entry
	digest *certs.Digest
	h      hash.Hash
	size   int64
	desc   string
	inUse  bool
}

func (a *Agent) uploadBegin(c *conn, params json.RawMessage) (any, error) {
	var p struct {
		CertID      string `json:"certId"`
		Description string `json:"description"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	e, err := a.find(c, p.CertID)
	if err != nil {
		return nil, err
	}
	d := certs.DefaultDigestFor(e.Certificate.PublicKey)
	if d == nil {
		return nil, rpcError(ReasonUnsupportedKey, "no digest for the key of %s", e.ID)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.uploads) >= a.limits.MaxUploads {
		return nil, rpcError(ReasonLimit, "more than %d uploads open on this connection", a.limits.MaxUploads)
	}
	id := randomHex(12)
	c.uploads[id] = &upload{entry: e, digest: d, h: d.New(), desc: limitText(p.Description)}
	// window: chunks sent ahead of their answers are hashed in order, and
	// the agent reads no further while it holds that many (rpc.go).
	return map[string]any{"uploadId": id, "hashAlg": d.Name, "maxChunk": a.maxChunk(), "window": a.limits.MaxChunksInFlight}, nil
}

// maxChunk is the largest chunk (decoded bytes) upload.begin offers: one
// that fits a message in base64 with room for the JSON around it.
func (a *Agent) maxChunk() int64 { return a.limits.MaxMessage * 3 / 4 * 9 / 10 }

func (a *Agent) uploadChunk(c *conn, params json.RawMessage) (any, error) {
	return a.uploadChunkText(c, params, nil)
}

// uploadChunkText is upload.chunk with the message's base64 data taken out
// (big), or nil when the data is in params.
func (a *Agent) uploadChunkText(c *conn, params json.RawMessage, big *bigText) (any, error) {
	var p struct {
		UploadID string    `json:"uploadId"`
		Data     chunkData `json:"data"`
	}
	p.Data.big = big
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if big != nil && !p.Data.isBig {
		// The long string was not params.data: read the message whole.
		whole, rerr := decodeRequest(big.message)
		if rerr != nil {
			return nil, rerr
		}
		return a.uploadChunk(c, whole.Params)
	}
	// A chunk that is not base64 is refused before any of it is hashed, so
	// that the upload stays as it was (text taken out is base64 already).
	n, err := p.Data.decodedLen()
	if err != nil {
		return nil, rpcError(ReasonInvalidParams, "params: data: %v", err)
	}
	c.mu.Lock()
	u := c.uploads[p.UploadID]
	if u == nil || u.inUse {
		c.mu.Unlock()
		return nil, rpcError(ReasonUploadUnknown, "no open upload %q on this connection", p.UploadID)
	}
	// Hashed outside c.mu (the connection's other requests need not wait
	// for it); inUse keeps sign and cancel away meanwhile. The read loop
	// gives one upload's chunks here one at a time, in order.
	u.inUse = true
	c.mu.Unlock()
	p.Data.decode(u.h)
	c.mu.Lock()
	defer c.mu.Unlock()
	u.inUse = false
	u.size += n
	return map[string]int64{"received": u.size}, nil
}

func (a *Agent) uploadCancel(c *conn, params json.RawMessage) (any, error) {
	var p struct {
		UploadID string `json:"uploadId"`
	}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if u := c.uploads[p.UploadID]; u == nil || u.inUse {
		return nil, rpcError(ReasonUploadUnknown, "no open upload %q on this connection", p.UploadID)
	}
	delete(c.uploads, p.UploadID)
	if len(c.uploads) == 0 {
		c.dropSpareLocked()
	}
	return map[string]bool{"cancelled": true}, nil
}

// takeUpload removes the upload from the connection for signing.
func (c *conn) takeUpload(id string) (*upload, error) {
	c.mu.Lock()
	u := c.uploads[id]
	if u == nil || u.inUse {
		c.mu.Unlock()
		return nil, rpcError(ReasonUploadUnknown, "no open upload %q on this connection", id)
	}
	delete(c.uploads, id)
	last := len(c.uploads) == 0
	if last {
		c.dropSpareLocked()
	}
	c.mu.Unlock()
	if last {
		// The chunks' buffers are garbage now, and the signature's login
		// may be about to take 32 MiB (the software token's scrypt): the
		// memory goes back to the system first, so that the two do not add
		// up (a collection of a small heap: about a millisecond, once per
		// uploaded document).
		debug.FreeOSMemory()
	}
	return u, nil
}

// chunkData is upload.chunk's data: standard base64 (with padding; line
// breaks ignored), as encoding/json reads a []byte, or null for none. It
// keeps the text where it stands in the message instead of decoding it:
// decode streams it into a hash.
type chunkData struct {
	b64   []byte
	big   *bigText // the text taken out of the message, if any
	isBig bool     // b64 is big's
}

var errChunkData = errors.New("must be a base64 string")

func (d *chunkData) UnmarshalJSON(b []byte) error {
	// b is the member's JSON text inside the message (encoding/json hands
	// an Unmarshaler a view of its input); the message outlives the call.
	if d.big != nil && len(b) == 2 && &b[0] == d.big.at {
		d.b64, d.isBig = d.big.text, true
		return nil
	}
	d.isBig = false
	if string(b) == "null" {
		d.b64 = nil
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errChunkData
	}
	s := b[1 : len(b)-1]
	if bytes.IndexByte(s, '\\') >= 0 {
		// JSON escapes (none in base64 as browsers write it, but a client
		// may write \/ or \u0041): unquoted into a copy.
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = []byte(str)
	}
	d.b64 = s
	return nil
}

// chunkBlock is how much decoded data decode hands the hash at a time.
const chunkBlock = 32 << 10

// decodedLen checks the data and returns its decoded length.
func (d chunkData) decodedLen() (int64, error) {
	if d.isBig {
		return int64(base64.StdEncoding.DecodedLen(len(d.b64)) - bytes.Count(d.b64[max(0, len(d.b64)-2):], []byte("="))), nil
	}
	return d.decode(nil)
}

// decode decodes the data a block at a time into w (only checks it when w
// is nil) and returns its decoded length.
func (d chunkData) decode(w io.Writer) (int64, error) {
	if w == nil {
		w = io.Discard
	}
	buf := make([]byte, chunkBlock)
	if d.isBig {
		// Checked canonical base64 (isBase64): decoded in place of the
		// newline-filtering reader, in blocks of whole quanta.
		var n int64
		for in := d.b64; len(in) > 0; {
			k := min(len(in), chunkBlock/3*4)
			m, err := base64.StdEncoding.Decode(buf, in[:k])
			if err != nil {
				return n, err
			}
			w.Write(buf[:m])
			n += int64(m)
			in = in[k:]
		}
		return n, nil
	}
	return io.CopyBuffer(onlyWriter{w}, base64.NewDecoder(base64.StdEncoding, bytes.NewReader(d.b64)), buf)
}

// onlyWriter hides a writer's ReadFrom, so that io.CopyBuffer uses the
// buffer given (io.Discard would take its own).
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }

// The long string: encoding/json reads a string at about 75 MB/s and the
// agent parses an upload.chunk's params twice besides the message (4
// passes over 5.6 MB for kep.js's 4 MiB chunk: most of a chunk's time).
// decodeMessage takes the message's one long base64 string out first,
// parses the rest, and gives the text to upload.chunk as it stands.

// bigText is a long base64 string taken out of a message.
type bigText struct {
	at      *byte  // where its placeholder ("") stands in the parsed rest
	text    []byte // its content, in the message
	message []byte // the whole message, for a string elsewhere than params.data
}

// minBigText is the shortest string decodeMessage takes out.
const minBigText = 64 << 10

// decodeMessage is decodeRequest, faster for an upload.chunk with a long
// data string; any other message is decoded whole.
func decodeMessage(data []byte) (request, *Error) {
	return decodeMessageMin(data, minBigText)
}

// decodeMessageMin is decodeMessage taking out a string of minLen bytes or more.
func decodeMessageMin(data []byte, minLen int) (request, *Error) {
	if len(data) < minLen {
		return decodeRequest(data)
	}
	s, e, ok := longBase64(data, minLen)
	if !ok {
		return decodeRequest(data)
	}
	// data[s-1] and data[e] are the string's quotes: the rest keeps them
	// and loses what is between.
	rest := make([]byte, 0, len(data)-(e-s))
	rest = append(rest, data[:s]...)
	rest = append(rest, data[e:]...)
	req, rerr := decodeRequest(rest)
	// The placeholder must be in the params (a view of rest): a long id
	// or top-level member is read from the whole message.
	off := cap(rest) - cap(req.Params)
	if rerr != nil || req.Method != "upload.chunk" || len(req.Params) == 0 || s-1 < off || s-1 >= off+len(req.Params) {
		clear(rest)
		return decodeRequest(data)
	}
	req.big = &bigText{at: &rest[s-1], text: data[s:e], message: data}
	return req, nil
}

// longBase64 finds data's one JSON string of at least minLen bytes and
// returns where its content starts and ends (data[s-1] and data[e] are its
// quotes); ok only when there is exactly one and it is canonical padded
// standard base64 (so it has no escapes, and decoding it cannot fail).
// Strings are found by their quotes (an escaped quote is one with an odd
// number of backslashes before it), which is exact for valid JSON; the
// rest of the message is parsed afterwards, and a rest that is valid JSON
// with "" in the string's place means the whole message was.
func longBase64(data []byte, minLen int) (s, e int, ok bool) {
	found := false
	for i := 0; i < len(data); {
		q := bytes.IndexByte(data[i:], '"')
		if q < 0 {
			break
		}
		start := i + q + 1
		end := start
		for {
			k := bytes.IndexByte(data[end:], '"')
			if k < 0 {
				return 0, 0, false // unterminated: let the parser say so
			}
			end += k
			bs := 0
			for j := end - 1; j >= start && data[j] == '\\'; j-- {
				bs++
			}
			if bs%2 == 0 {
				break
			}
			end++
		}
		if end-start >= minLen {
			if found {
				return 0, 0, false
			}
			s, e, found = start, end, true
		}
		i = end + 1
	}
	if !found || !isBase64(data[s:e]) {
		return 0, 0, false
	}
	return s, e, true
}

// isBase64 says whether b is padded standard base64 with nothing else.
func isBase64(b []byte) bool {
	if len(b)%4 != 0 {
		return false
	}
	body := b
	if n := len(b); n > 0 && b[n-1] == '=' {
		body = b[:n-1]
		if b[n-2] == '=' {
			body = b[:n-2]
		}
	}
	for _, ch := range body {
		if !base64Alphabet[ch] {
			return false
		}
	}
	return true
}

var base64Alphabet = func() (t [256]bool) {
	for _, ch := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
		t[ch] = true
	}
	return t
}()
