//go:build windows

package agent

// relayPeerCheck: Windows does not name an AF_UNIX socket's peer by uid;
// the socket lies in the user's %LOCALAPPDATA%, whose ACL admits only the
// user, SYSTEM and administrators.
const relayPeerCheck = false
