// Package limits keeps the state of the messaging limit (docs/whatsapp.md
// §4.6): each business portfolio's limit (Scope: the configured one, or
// the tier Meta last announced), the moving window of its reach log
// (Reaches: the unique customers reached outside their window in the last
// model.LimitWindow, without a scan of the store), and the restrictions of
// business-initiated messaging Meta put on accounts.
//
// It decides nothing and stores nothing: the engine asks it whether a
// business-initiated send may go (limit.go), records the reaches in its
// commits and tells the cache what they committed (Reaches.Add), and
// feeds it Meta's tiers and restrictions (limit_numbers.go).
package limits
