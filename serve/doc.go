// Package serve is `kep serve`: kep's signature verification, certificate
// checks and certificate login (вход по КЭП) as an HTTP service for backends
// written in any language.
//
// The API is versioned (/v1/…) and described by the OpenAPI 3.1 document
// embedded as OpenAPI and served at /v1/openapi.json; that document is the
// contract and the tests validate every request and answer against it.
// Handlers only decode, call the library (verify.Verify, certs.VerifyContext,
// login.Issuer and login.Verifier, certs/trustlist, certs/revocation) and
// encode: a report or an identity is byte for byte what the kep CLI prints
// for the same input. Errors are one type, *Error, rendered in one place.
//
// An instance is stateless apart from caches: login nonces live in the
// configured login.NonceStore (Redis for several instances), revocation
// answers are cached per instance and optionally in a shared Redis, and the
// trust (files plus the Минцифры list) is reloaded on schedule and swapped
// atomically.
//
// Warning: a shared cache is trusted: whoever can write to that Redis can
// make a revoked certificate look good for up to RevocationCacheTTL, and
// whoever can write to the nonce store can forge challenges. Keep them on a
// private network with authentication, as the service itself.
package serve
