// Package whatsapp is Parley's wire to Meta's WhatsApp Cloud API: webhooks
// in, Graph API calls out, and a sandbox that stands in for Meta. It knows
// the API's shapes and rules (docs/whatsapp.md) and nothing of flows,
// conversations or storage; the engine imports it, never the reverse.
//
// # Webhooks in
//
// Meta verifies a callback URL once with a GET handshake (VerifyChallenge),
// then POSTs events signed with the app secret. The HTTP layer reads at most
// MaxWebhookBytes of the raw body, checks its X-Hub-Signature-256 with
// VerifySignature over those exact bytes, and only then calls ParseWebhook,
// which turns the envelope into a Batch of typed events:
//
//   - InboundMessage: what a customer sent, every type Meta documents, with
//     unknown types kept as TypeUnsupported so that none is lost;
//   - Status: sent, delivered, read, played or failed for a message the
//     business sent (a failed status carries Meta's error, e.g. 131047);
//   - ErrorEvent, TemplateUpdate, UserPreference, AccountUpdate;
//   - Other: fields this package does not model, kept whole.
//
// Meta redelivers webhooks it did not see acknowledged for up to 7 days and
// does not keep them in order: the engine dedupes messages on their wamid
// and statuses on (wamid, status), and orders by timestamp. A customer's key
// is InboundMessage.Identity: the business-scoped user id (BSUID) where Meta
// sends one, else the phone number, since phone numbers may be absent from
// webhooks for customers who use a username.
//
// # Calls out
//
// Client sends messages (OutboundMessage), marks them read, handles media
// and templates. Meta answers many sends with 200 and reports their failure
// later in a Status, so a send's success means accepted, not delivered.
// Errors are classified by Meta's code (Classify, ScopeOf, RetryAfter) to
// decide between retrying, failing the message, or holding back a customer,
// number or account; a send whose outcome is unknown is never repeated.
//
// # The sandbox
//
// Package sandbox serves the same Graph API paths over real HTTP, enforces
// what Meta enforces (24-hour window, approved templates, throughput), and
// posts webhooks signed with Sign back to Parley. Only the base URL given to
// NewClient differs between the sandbox and Meta.
package whatsapp
