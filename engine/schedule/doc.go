// Package schedule sends notifications on a schedule: a cron expression in
// a time zone starts a flow, or sends one template, to an audience of
// contacts, exactly once per fire time, within consent and the messaging
// limit.
//
// # Resources
//
// A Schedule (model.go) is: a name; a cron expression, five fields or a
// descriptor (@daily, @hourly, @every 90m…), parsed by robfig/cron v3; an
// IANA time zone (default UTC; the zone database is embedded, so the
// binary does not depend on the host's); an action (start a flow at its
// start node, or send a template whose parameters are {{ }} expressions
// over the contact); an audience (a boolean expr-lang expression over the
// contact, see Env: `"vip" in tags && fields.city == "Berlin"`; empty is
// every contact); a busy rule; and Paused. Expressions are compiled when a
// schedule is saved: a schedule that does not compile is refused with an
// *InvalidError naming the field.
//
// # Firing exactly once
//
// Nothing runs in cron's goroutines. Tick reads the engine's clock and,
// for each schedule, the fire times after its cursor (Schedule.Cursor:
// every fire time up to it has been dealt with) up to now. In ONE
// transaction of its Records (UpdateSchedules) it writes the Firing (schedule id
// + fire time) and moves the cursor past it: the claim. A firing exists
// once, whatever crashes; once claimed it is never lost, because it stays
// in the active index until its fan-out is done.
//
// Missed fire times (Parley was down, or stalled): the latest one runs
// when it is still within the grace period (Options.Grace, default
// DefaultGrace; `parley serve -schedule-grace`), and every other is
// recorded as a Firing with status missed — at most MaxMissedRecorded of
// them one by one, the rest counted in the earliest recorded one. A paused
// schedule claims nothing; on resume its cursor moves to the resume time,
// so the paused period neither fires nor counts as missed. Editing the
// cron expression or time zone moves the cursor to the edit time too.
//
// # Fan-out
//
// A running firing walks the contacts in key order
// (model.Store.ListContacts), a batch at a time, with a durable cursor
// (Firing.Cursor): each batch's outcomes, per-contact records (Send) and
// the cursor commit together. For each contact of the audience, in order:
//
//   - consent: skipped unless opted in (no_consent) and not opted out
//     (opted_out); a MARKETING template also skips a marketing opt-out
//     (marketing_opt_out) and a 131049 hold (held). A schedule's message
//     is business-initiated, so the opt-in is required even while the
//     contact's window happens to be open.
//   - reachability: a contact Meta could not deliver to (131026) is
//     skipped (unreachable) until they write again.
//   - busy: a contact in a running conversation is skipped and recorded
//     (busy). That is the only rule for now (BusySkip): starting a flow
//     would have to end the running one, and a template in the middle of
//     a flow would feed its wait a reply meant for the reminder.
//   - the messaging limit (engine/limit.go): when the send could take a
//     new place among the unique customers reached in the moving 24 h,
//     the scheduler counts the places taken (the reach log) plus its own
//     sends still queued in the outbox (not yet counted there). With no
//     place left the firing stops BEFORE that contact, with status waiting
//     and the time the oldest place frees; it resumes on a later tick. So
//     nothing is queued that the limit would hold back or Meta refuse;
//     waiting is not a skip. Throughput and the pair rate are the outbox's
//     pacing, as for every message.
//
// Each start or send carries a dedupe key, "sched:<firing id>:<contact>",
// committed by the engine in the same commit as the start
// (engine.Initiation, Change.InboundID). A crash after that commit and
// before the batch's record re-runs the batch on restart: the engine finds
// the key and reports the earlier start (by the conversation's Origin),
// which is recorded instead of sent again. Sends of one batch run in
// parallel so that their commits share fsyncs.
//
// # Reports
//
// A firing counts its audience, sent, skipped by reason and failed (could
// not be started) by reason. Delivery is read when the report is asked
// for (Scheduler.Report): each send recorded its (conversation, seq), and
// the message's state now says queued, accepted, delivered, read, failed
// (by Meta's code) or unknown.
//
// # Daylight saving
//
// Fire times are robfig/cron's SpecSchedule.Next in the schedule's zone,
// with one rule on top: a local wall-clock time fires at most once. So,
// in Europe/Berlin (and likewise America/New_York):
//
//   - spring forward (2026-03-29, 02:00 → 03:00): local times that do not
//     exist that day do not fire; "30 2 * * *" skips that day, "0 * * * *"
//     runs 23 times.
//   - fall back (2026-10-25, 03:00 → 02:00): robfig/cron gives the
//     repeated hour twice (02:30 CEST and 02:30 CET); the second is
//     dropped, so "30 2 * * *" sends once and "0 * * * *" runs 24 times.
//
// Descriptors of a fixed interval (@every) run on elapsed time and know no
// zone.
//
// # Storage
//
// Through Records (store.go): UpdateSchedules is one transaction,
// atomic with every other one in every process sharing the store, and its
// fn may run twice (every fn here computes its writes from the transaction
// and from values it does not change). The bbolt store keeps:
//
//	schedules_defs     schedule id → Schedule (JSON)
//	schedules_firings  firing id → Firing (JSON); a firing id is the
//	                   schedule id "." fire time (UnixNano, 20 digits) and
//	                   ".now" for Run now, so one schedule's history is a
//	                   range scan in time order
//	schedules_active   fire time (20 digits) "." firing id → firing id:
//	                   the firings not finished
//	schedules_sends    firing id 0x00 contact key → Send (JSON)
//
// The PostgreSQL store keeps the same records in tables of its own.
//
// A finished firing keeps its Send records for Options.Retention (default
// DefaultRetention, 30 days); then Prune, run by Tick once an hour,
// freezes the firing's delivery into it and deletes them, so that the
// report reads the same and the file does not grow with every firing.
package schedule
