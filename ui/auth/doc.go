// Package auth is Parley's sign-in: users with roles, password sign-in
// with server-side sessions in an HTTP-only cookie, CSRF protection for
// cookie-authenticated writes, API tokens for external systems, and the
// fiber middleware that puts the acting user on every /api/v1 request.
//
// Who may do what is decided next to each route registration with
// Require; Middleware only establishes who is asking:
//
//	api.Use(svc.Middleware())
//	api.Get("/flows", auth.Require(auth.Admin, auth.Analyst), s.listFlows)
//
// Records are kept through the Records interface: in the engine's bbolt
// file (buckets "auth_users", "auth_sessions" and "auth_tokens", written
// through its committer) or in PostgreSQL, whichever store Parley runs on.
//
// What is stored is chosen so that a copy of the data file does not let
// anyone in: passwords as bcrypt hashes, session ids and API token secrets
// as SHA-256 hashes of 32 random bytes (a hash of a random 256-bit value
// needs no salt or stretching: it cannot be guessed, only stolen, and the
// hash is useless to a thief).
//
// Sharp edges:
//   - Sign-in throttling (per account and per client address, with
//     delays that double; see throttle) is kept in memory, bounded: a
//     restart forgets failures and the addresses known to each account,
//     and several Parley processes would each count their own. Behind a
//     reverse proxy, set Options.TrustedProxies, or every client is the
//     proxy.
//   - The bbolt data file is locked: the `parley user` commands cannot
//     run while `parley serve` holds it; use the users API then (with
//     PostgreSQL they can).
package auth
