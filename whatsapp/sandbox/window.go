package sandbox

import "time"

// The customer service window (docs/whatsapp.md §4.1): it opens when the customer
// writes and each further message of theirs resets it to Config.Window.
// The business's own messages, templates included, never open or extend
// it. Outside it only templates are delivered; anything else is accepted
// with 200 and then fails with a 131047 status webhook, as Meta does.

// windowOpen reports whether c's window is open at now.
func (c *customer) windowOpen(now time.Time, window time.Duration) bool {
	return !c.lastInbound.IsZero() && now.Before(c.lastInbound.Add(window))
}

// WindowOpen reports whether the customer id (wa_id or BSUID) may receive
// free-form messages now.
func (s *Sandbox) WindowOpen(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.customers[id]
	return c != nil && c.windowOpen(s.clock.Now(), s.cfg.Window)
}

// SetLastInbound pretends the customer id last wrote at t, without a
// webhook: tests use it to open or close the window directly.
func (s *Sandbox) SetLastInbound(id string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.customerLocked(id).lastInbound = t
	s.changedLocked()
}
