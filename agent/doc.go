// Package agent is kep's local agent: the program web pages talk to, in
// place of CryptoPro's browser plug-in, Госплагин or NCALayer, to list the
// user's certificates, sign documents (CAdES-BES, CAdES-T with a TSA) and
// sign a relying party's login challenge with a key on a PKCS#11 token or the
// software token — with no browser extension.
//
// The agent listens on 127.0.0.1 and [::1] only. Pages connect to its
// WebSocket (/ws) and speak JSON-RPC 2.0; agent/client/kep.js is the client
// they import. GET / is a small discovery document for pages and for
// Chrome's Local Network Access prompt.
//
// # Security model
//
// The threat model is a malicious web page and another local user of the
// same computer.
//
//   - The site is the browser's Origin header, never a page's argument.
//     Missing and "null" origins, and http pages other than loopback ones,
//     are refused at the handshake; a Host header other than the agent's own
//     names is refused (DNS rebinding).
//   - Connections from other local users are refused where the system says
//     who is at the other end (Linux: internal/peercred). A prompt's address
//     never appears on a command line: PageUI writes a launcher file into a
//     directory only the user can read and opens that file; its one-time
//     address is spent by the first visit for a cookie that every later
//     request of the prompt must carry.
//   - A site the user has not approved (Sites, Config.AllowOrigins) may call
//     only agent.info, agent.requestAccess and agent.diagnose (which then
//     tells it nothing about the user's tokens), with small messages and a
//     small share of the connections (Limits). The user approves a site with
//     every certificate or a chosen few; it sees and uses only those.
//   - Every signature and login signature is approved in the agent's own UI
//     (PageUI: a page on the agent's origin that the requesting site cannot
//     frame, read or answer; TerminalUI), which shows the site, the
//     certificate and what is signed, and takes the PIN — except for origins
//     the operator lists in Config.PagePINOrigins, whose requests carrying a
//     PIN are signed with no window (they are still audited). The site's
//     page never sees the PIN otherwise, and a PIN from a page is never
//     retried.
//   - One window at a time for the whole agent, a few waiting per
//     registrable domain; a window closes when its page goes away; a refusal
//     holds for the whole registrable domain for DenialCooldown.
//   - Bound logins sign the connection's origin: a challenge issued to
//     another site is refused before the user is asked; esia-compatible
//     challenges must look like nonces, never free text.
//   - Limits bound messages, connections, requests in flight, the memory of
//     messages in flight and slow readers; token access is serialised by
//     pkcs11/keystore. Every operation is written to the audit log
//     (AuditLog) with the digest of what was signed, never a PIN.
//   - Identity lets kep.js tell this agent from a program squatting its
//     port (agent.prove with a key per origin).
//
// # Warnings
//
//   - The agent signs what the page sends: the user sees its size, hash and
//     the page's description of it, not the document rendered. Show users
//     the document in your page before asking the agent to sign it.
//   - Config.PINCache (kep agent --pin-cache, off by default) keeps typed
//     PINs in the agent's memory for its duration, per site and token; every
//     signature is still approved in the agent's window. A PIN changed
//     meanwhile costs one try before the user is asked again. For a
//     CryptoPro container it also keeps the decrypted key that long
//     (keystore.ContainerKeyCache); without it a container's key lives for
//     one operation.
//   - Approving a site lets it ask for signatures until the approval is
//     revoked (kep agent sites revoke); each signature still needs the user.
//   - Identity trusts the first agent a site meets (trust on first use).
//   - With --tls the agent serves wss:// with a certificate from a CA made
//     for this install; adding that CA to a trust store is the user's
//     decision. The CA is name-constrained to loopback and its key is not
//     kept.
package agent
