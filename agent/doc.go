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
//   - The site is the browser's Origin header, never a page's argument.
//     Missing and "null" origins, and http pages other than loopback ones,
//     are refused at the handshake; a Host header other than the agent's own
//     names is refused (DNS rebinding).
//   - A site the user has not approved (Sites, Config.AllowOrigins) may call
//     only agent.info, agent.requestAccess and agent.diagnose (which then
//     tells it nothing about the user's tokens).
//   - Every signature and login signature is approved in the agent's own UI
//     (PageUI: a page on the agent's origin that the requesting site cannot
//     frame, read or answer; TerminalUI), which shows the site, the
//     certificate and what is signed, and takes the PIN. The site's page
//     never sees the PIN unless the operator allowed its origin to pass it
//     (Config.PagePINOrigins: kiosks and automated clients), and a PIN from a
//     page is never retried.
//   - Bound logins sign the connection's origin: a challenge issued to
//     another site is refused before the user is asked.
//   - Limits bound messages, connections, requests in flight and slow
//     readers; one approval window per site at a time; token access is
//     serialised by pkcs11/keystore. Every operation is written to the audit
//     log (AuditLog), never a PIN.
//
// # Warnings
//
//   - The agent signs what the page sends: the user sees its size, hash and
//     the page's description of it, not the document rendered. Show users
//     the document in your page before asking the agent to sign it.
//   - Config.PINCache (kep agent --pin-cache, off by default) keeps typed
//     PINs in the agent's memory for its duration; every signature is still
//     approved in the agent's window. A PIN changed meanwhile costs one try
//     before the user is asked again.
//   - Approving a site lets it ask for signatures until the approval is
//     revoked (kep agent sites revoke); each signature still needs the user.
//   - With --tls the agent serves wss:// with a certificate from a CA made
//     for this install; adding that CA to a trust store is the user's
//     decision. The CA is name-constrained to loopback and its key is not
//     kept.
package agent
