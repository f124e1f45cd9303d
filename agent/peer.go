package agent

import (
	"errors"
	"log/slog"
	"net"

	"github.com/kepkit/kep/internal/peercred"
)

// userListener accepts only connections from processes of the user the
// agent runs as, where the operating system says who is at the other end
// (Linux: the socket table). Another local user — on a terminal server or a
// shared desktop — can then neither talk to the agent as a "page" (a local
// program can send any Origin header) nor answer its prompts. Where the OS
// cannot tell, connections are accepted and the other defences (the
// prompt's one-time code and cookie, per-user files) stand alone.
type userListener struct {
	net.Listener
	uid int
	log *slog.Logger
}

func (l *userListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peercred.PeerUID(c.LocalAddr(), c.RemoteAddr())
		switch {
		case err == nil && uid == l.uid:
			return c, nil
		case errors.Is(err, peercred.ErrUnknown):
			return c, nil
		case err == nil:
			l.log.Warn("refused a connection from another local user", "uid", uid, "remote", c.RemoteAddr().String())
		default:
			l.log.Warn("refused a connection whose user cannot be found", "remote", c.RemoteAddr().String(), "err", err)
		}
		c.Close()
	}
}
