package peercred

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

var procNetFiles = []string{"/proc/net/tcp", "/proc/net/tcp6"}

// PeerUID returns the uid of the socket at the other end of a TCP connection
// this process accepted on a loopback address: local is the connection's
// LocalAddr, remote its RemoteAddr. It finds, in /proc/net/tcp and
// /proc/net/tcp6, the ESTABLISHED socket whose local address is remote and
// whose remote address is local (IPv4 and IPv4-mapped IPv6 addresses are the
// same address). When there is no such socket (the peer has already closed
// it), or two readings disagree, the error is ErrUnknown. A local address
// that is not loopback is refused: the peer may be on another machine.
func PeerUID(local, remote net.Addr) (int, error) {
	l, err := tcpAddrPort(local)
	if err != nil {
		return -1, err
	}
	r, err := tcpAddrPort(remote)
	if err != nil {
		return -1, err
	}
	if !l.Addr().IsLoopback() {
		return -1, fmt.Errorf("peercred: %s is not a loopback address", l)
	}
	rows, err := readProcNet()
	if err != nil {
		return -1, err
	}
	uid := -1
	for _, row := range rows {
		if row.State != stateEstablished || unmap(row.Local) != r || unmap(row.Remote) != l {
			continue
		}
		if uid >= 0 && uid != row.UID {
			return -1, fmt.Errorf("%w: two sockets %s→%s with uids %d and %d", ErrUnknown, r, l, uid, row.UID)
		}
		uid = row.UID
	}
	if uid < 0 {
		return -1, fmt.Errorf("%w: no established socket %s→%s in /proc/net/tcp", ErrUnknown, r, l)
	}
	return uid, nil
}

// Listener returns the owner of the socket listening on the loopback port:
// bound to 127.0.0.1, [::1], ::ffff:127.0.0.1 or a wildcard address (0.0.0.0
// or [::], which receive loopback traffic too). When several sockets listen
// (IPv4 and IPv6, SO_REUSEPORT), one of a user other than the caller is
// returned first, so that a squatter is not hidden behind the caller's own
// listener. PID and Command come from scanning /proc/*/fd for the socket,
// which needs root for other users' processes; PID is 0 when no visible
// process holds it. Nobody listening is ErrNotListening.
func Listener(port int) (Owner, error) {
	if port <= 0 || port > 65535 {
		return Owner{}, fmt.Errorf("peercred: port %d out of range", port)
	}
	rows, err := readProcNet()
	if err != nil {
		return Owner{}, err
	}
	var found *procRow
	for i, row := range rows {
		if row.State != stateListen || int(row.Local.Port()) != port || !reachesLoopback(row.Local.Addr()) {
			continue
		}
		if found == nil || found.UID == CurrentUID() && row.UID != CurrentUID() {
			found = &rows[i]
		}
	}
	if found == nil {
		return Owner{}, fmt.Errorf("%w: loopback port %d", ErrNotListening, port)
	}
	o := Owner{UID: found.UID}
	if found.Inode != 0 {
		o.PID, o.Command = socketProcess(found.Inode)
	}
	return o, nil
}

// reachesLoopback reports whether a socket bound to a receives connections
// to 127.0.0.1 or ::1.
func reachesLoopback(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsUnspecified() || a == netip.AddrFrom4([4]byte{127, 0, 0, 1}) || a == netip.IPv6Loopback()
}

func tcpAddrPort(a net.Addr) (netip.AddrPort, error) {
	ta, ok := a.(*net.TCPAddr)
	if !ok || ta == nil {
		return netip.AddrPort{}, fmt.Errorf("peercred: %v is not a TCP address", a)
	}
	return unmap(ta.AddrPort()), nil
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// readProcNet reads both socket tables; /proc/net/tcp6 may be missing (IPv6
// disabled).
func readProcNet() ([]procRow, error) {
	var all []procRow
	for _, name := range procNetFiles {
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) && name != procNetFiles[0] {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnknown, err)
		}
		rows, err := parseProcNet(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrUnknown, name, err)
		}
		all = append(all, rows...)
	}
	return all, nil
}

// socketProcess finds a process with a file descriptor on the socket inode
// and returns its PID and command name; 0 and "" when none is visible.
func socketProcess(inode uint64) (int, string) {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, ""
	}
	want := "socket:[" + strconv.FormatUint(inode, 10) + "]"
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid <= 0 {
			continue
		}
		dir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue // gone, or another user's process
		}
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && target == want {
				comm, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				return pid, strings.TrimSuffix(string(comm), "\n")
			}
		}
	}
	return 0, ""
}
