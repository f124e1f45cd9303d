//go:build unix

package agent

// relayPeerCheck: the kernel names the relay socket's peer, and a peer it
// cannot name is refused.
const relayPeerCheck = true
