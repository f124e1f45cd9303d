package peercred

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// Limits of parseProcNet: /proc/net/tcp has about 150 bytes a socket, so
// 64 MiB is some 400 000 sockets.
const (
	maxProcFile = 64 << 20
	maxProcLine = 4 << 10
)

// TCP states as /proc/net/tcp prints them (include/net/tcp_states.h).
const (
	stateEstablished = 0x01
	stateListen      = 0x0A
)

// procRow is one socket of /proc/net/tcp or /proc/net/tcp6.
type procRow struct {
	Line   int            // 1-based line number in the file
	Local  netip.AddrPort // as printed: IPv4-mapped addresses stay mapped
	Remote netip.AddrPort
	State  uint8
	UID    int
	Inode  uint64
}

// parseProcNet parses the contents of /proc/net/tcp or /proc/net/tcp6: a
// header line, then one line a socket,
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ...
//	0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 ...
//
// where an address is 8 (IPv4) or 32 (IPv6) hexadecimal digits, each group
// of 8 a 32-bit word of the address in host byte order, and the port is 4
// hexadecimal digits. It reads at most maxProcFile bytes and lines of at most
// maxProcLine bytes; a longer input or any line it cannot parse is an error.
func parseProcNet(r io.Reader) ([]procRow, error) {
	lr := &io.LimitedReader{R: r, N: maxProcFile + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 512), maxProcLine)
	tooLarge := func() error {
		return fmt.Errorf("peercred: /proc/net/tcp is larger than %d bytes", maxProcFile)
	}
	var rows []procRow
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		f := strings.Fields(line)
		if n == 1 {
			if len(f) == 0 || f[0] != "sl" {
				return nil, errors.New("peercred: /proc/net/tcp: no header line")
			}
			continue
		}
		row, err := parseProcLine(f)
		if err != nil && lr.N <= 0 {
			return nil, tooLarge() // the line was cut at the limit
		}
		if err != nil {
			return nil, fmt.Errorf("peercred: /proc/net/tcp line %d: %w", n, err)
		}
		row.Line = n
		rows = append(rows, row)
	}
	if lr.N <= 0 {
		return nil, tooLarge()
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("peercred: /proc/net/tcp line %d is longer than %d bytes", n+1, maxProcLine)
		}
		return nil, fmt.Errorf("peercred: reading /proc/net/tcp: %w", err)
	}
	if n == 0 {
		return nil, errors.New("peercred: /proc/net/tcp is empty")
	}
	return rows, nil
}

// parseProcLine parses the fields of one socket line.
func parseProcLine(f []string) (procRow, error) {
	var row procRow
	if len(f) < 10 {
		return row, fmt.Errorf("%d fields, want at least 10", len(f))
	}
	if !strings.HasSuffix(f[0], ":") {
		return row, fmt.Errorf("slot %q", f[0])
	}
	var err error
	if row.Local, err = parseProcAddr(f[1]); err != nil {
		return row, fmt.Errorf("local address: %w", err)
	}
	if row.Remote, err = parseProcAddr(f[2]); err != nil {
		return row, fmt.Errorf("remote address: %w", err)
	}
	if row.Local.Addr().Is4() != row.Remote.Addr().Is4() {
		return row, errors.New("local and remote addresses of different families")
	}
	st, err := hex.DecodeString(f[3])
	if err != nil || len(st) != 1 {
		return row, fmt.Errorf("state %q", f[3])
	}
	row.State = st[0]
	uid, err := parseDecimal(f[7], 32)
	if err != nil || uid > math.MaxInt {
		return row, fmt.Errorf("uid %q", f[7])
	}
	row.UID = int(uid)
	if row.Inode, err = parseDecimal(f[9], 64); err != nil {
		return row, fmt.Errorf("inode %q", f[9])
	}
	return row, nil
}

// parseDecimal parses an unsigned decimal number written as the kernel
// writes it: digits only, no sign, no leading zeros.
func parseDecimal(s string, bits int) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, err
	}
	if strconv.FormatUint(v, 10) != s {
		return 0, errors.New("not in canonical form")
	}
	return v, nil
}

// parseProcAddr parses "0100007F:1F90" (127.0.0.1:8080 on a little-endian
// machine) or its 32-digit IPv6 form.
func parseProcAddr(s string) (netip.AddrPort, error) {
	host, port, ok := strings.Cut(s, ":")
	if !ok || len(port) != 4 || (len(host) != 8 && len(host) != 32) {
		return netip.AddrPort{}, fmt.Errorf("%q is not HEX:PORT", s)
	}
	raw, err := hex.DecodeString(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: %w", s, err)
	}
	p, err := hex.DecodeString(port)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q: %w", s, err)
	}
	// Each 32-bit word was printed as a number: back to host byte order.
	var b [16]byte
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	var a netip.Addr
	if len(raw) == 4 {
		a = netip.AddrFrom4([4]byte(b[:4]))
	} else {
		a = netip.AddrFrom16(b)
	}
	return netip.AddrPortFrom(a, binary.BigEndian.Uint16(p)), nil
}

// formatProcAddr writes an address as /proc/net/tcp does: the inverse of
// parseProcAddr, which the tests check.
func formatProcAddr(ap netip.AddrPort) string {
	var raw []byte
	if ap.Addr().Is4() {
		a := ap.Addr().As4()
		raw = a[:]
	} else {
		a := ap.Addr().As16()
		raw = a[:]
	}
	var b bytes.Buffer
	for i := 0; i < len(raw); i += 4 {
		fmt.Fprintf(&b, "%08X", binary.NativeEndian.Uint32(raw[i:]))
	}
	fmt.Fprintf(&b, ":%04X", ap.Port())
	return b.String()
}
