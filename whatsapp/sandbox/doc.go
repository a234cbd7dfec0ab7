// Package sandbox is a stand-in for Meta's Graph API that speaks the
// WhatsApp Cloud API contract over real HTTP, so that `parley serve` without
// Meta credentials, the UI's test chat and every integration test run the
// production client unchanged — only the base URL differs.
//
// It serves, under /{version}/ (any "vNN.N"):
//
//	POST   /{phone_number_id}/messages          sends and mark-as-read (+ typing)
//	POST   /{phone_number_id}/media             media upload (multipart)
//	GET    /{media_id}                          media URL and metadata
//	DELETE /{media_id}                          media deletion
//	GET    /{waba_id}/message_templates         template list, cursor paging
//	POST   /{waba_id}/message_templates         template creation
//
// It checks the Bearer token (190), answers like Meta (a wamid, or Meta's
// error envelope with Meta's code and HTTP status) and enforces what Meta
// enforces: the 24-hour customer service window (a free-form send outside
// it is accepted with 200 and then fails with a 131047 status webhook),
// templates unknown or not APPROVED (132001, 132015, 132016), parameter
// count mismatch (132000), throughput per phone number (130429, token
// bucket, 80/s by default), pair rate per customer (131056, one message per
// 6 s with a burst of 45 by default), and malformed payloads (100, 131008,
// 131009). Templates created through the API start PENDING and are reviewed
// after a delay (or on an explicit call): APPROVED, or REJECTED for a name
// that is not lowercase alphanumerics and underscores, adjacent parameters
// ({{1}}{{2}}) or a body over 1024 characters.
//
// It posts webhooks signed with X-Hub-Signature-256 to Config.WebhookURL:
// messages from simulated customers (CustomerSays, or POST
// /_sandbox/customers/{id}/messages), sent → delivered → read statuses for
// accepted sends, failed statuses with Meta's error objects, and
// message_template_status_update events; a non-200 answer is retried with
// bounded exponential backoff.
//
// Everything it sees is kept in a log, the tests' witness: requests,
// accepted and rejected sends, webhooks; and a transcript per customer.
// Both are available in Go (Log, Transcript) and over HTTP (GET
// /_sandbox/log, GET /_sandbox/customers/{id}/transcript). The /_sandbox
// routes are unauthenticated: bind the sandbox to loopback only.
//
// Time comes from Config.Clock, so tests move the 24-hour window and the
// rate limits with a ManualClock instead of sleeping.
//
// Persist keeps what a restart must not forget in a file: customers with
// their windows and transcripts, templates, the id sequence, and webhooks
// not yet acknowledged, posted again at the next start (state.go). Serve
// serves on a listener of the caller's, a fixed port say; Start on a
// fresh one.
package sandbox
