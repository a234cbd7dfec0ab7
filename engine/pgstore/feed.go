package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/model"
)

// The inbox's feed (inbox.Feed) over LISTEN/NOTIFY:
//
//   - A commit that writes a conversation in status agent, or one that
//     was (it leaves the inbox), or a message of one, sends a note on
//     channel FeedChannel in its own transaction: NOTIFY is delivered on
//     commit, in commit order, and never for a transaction rolled back,
//     so no process learns of a change that did not happen nor misses
//     one that did while it listens. The inbox's records (agents, queues,
//     canned responses, read marks) do the same. A note holds ids, and
//     the origin: a process skips its own (its observer saw them).
//   - Each process listens on a connection of its own, outside the pools,
//     which also holds the inbox's lead: a session advisory lock
//     (classInboxLead) that one process at a time holds; the others try
//     to take it every FeedCheck, and at once when its holder says it
//     stops. A holder that dies drops its connection, and PostgreSQL the
//     lock with it. The holder checks its connection every FeedCheck too,
//     and gives up the lead when it fails.
//   - A connection that drops is made again after FeedCheck; the inbox
//     then reads its view again (what was sent meanwhile is lost).

// FeedChannel begins the NOTIFY channel of the inbox's notes. Channels
// and advisory locks are the database's, not a schema's: the channel's
// name and the lead's lock end with a hash of the schema the store works
// in, so that Parleys in two schemas of one database stay apart.
const FeedChannel = "parley_inbox_"

func feedChannel(schema string) string {
	h := fnv.New32a()
	h.Write([]byte(schema))
	return fmt.Sprintf("%s%08x", FeedChannel, h.Sum32())
}

// newFeedID names a Store's notes, so that its process skips them.
func newFeedID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// FeedCheck is how often a process that listens checks its connection
// and, when it does not lead, tries to take the lead: the longest an
// inbox goes without assignment after its leader died.
const FeedCheck = 2 * time.Second

// feedPing bounds the leader's check of its connection: a database too
// busy to answer in that time is taken for gone, and the lead given up.
const feedPing = 5 * time.Second

// maxNotify bounds a note's payload: PostgreSQL refuses one of 8000
// bytes or more.
const maxNotify = 7900

// wireNote is a note as NOTIFY carries it: the origin (the Store that
// sent it) and the note, or Released (the origin gives up the lead).
type wireNote struct {
	Origin   string      `json:"o"`
	Note     *inbox.Note `json:"n,omitempty"`
	Released bool        `json:"r,omitempty"`
}

// inboxNotes collects, during a commit, the conversations that are or
// were handed off.
type inboxNotes map[string]bool

func (n *inboxNotes) status(conv, status string) {
	if status != string(model.Agent) {
		return
	}
	if *n == nil {
		*n = inboxNotes{}
	}
	(*n)[conv] = true
}

// notes are the change's notes: one per conversation in the inbox, with
// the seqs of the messages it appended and rewrote there.
func (n inboxNotes) notes(c *model.Change) []inbox.Note {
	if len(n) == 0 {
		return nil
	}
	byConv := map[string]*inbox.Note{}
	var out []*inbox.Note
	note := func(conv string) *inbox.Note {
		if !n[conv] {
			return nil
		}
		if byConv[conv] == nil {
			byConv[conv] = &inbox.Note{Kind: inbox.NoteConversation, ID: conv}
			out = append(out, byConv[conv])
		}
		return byConv[conv]
	}
	for _, conv := range c.Conversations {
		note(conv.ID)
	}
	for _, m := range c.Messages {
		if x := note(m.Conversation); x != nil {
			x.Messages = append(x.Messages, m.Seq)
		}
	}
	for _, m := range c.Updates {
		if x := note(m.Conversation); x != nil && !slices.Contains(x.Updates, m.Seq) {
			x.Updates = append(x.Updates, m.Seq)
		}
	}
	notes := make([]inbox.Note, len(out))
	for i, x := range out {
		notes[i] = *x
	}
	return notes
}

// payloads encodes a note for NOTIFY, split in several when its seqs make
// it too long. A note whose id alone is too long (none is: ids are
// Meta's) is dropped rather than failing the commit.
func (s *Store) payloads(n inbox.Note) []string {
	data, err := json.Marshal(wireNote{Origin: s.feedID, Note: &n})
	if err != nil {
		return nil
	}
	if len(data) <= maxNotify {
		return []string{string(data)}
	}
	if len(n.Messages)+len(n.Updates) <= 1 {
		return nil
	}
	a, b := n, n
	if len(n.Messages) > 1 || len(n.Updates) == 0 {
		h := len(n.Messages) / 2
		a.Messages, b.Messages, b.Updates = n.Messages[:h], n.Messages[h:], nil
	} else {
		h := len(n.Updates) / 2
		a.Updates, b.Updates, b.Messages = n.Updates[:h], n.Updates[h:], nil
	}
	return append(s.payloads(a), s.payloads(b)...)
}

// notifyInbox sends notes in transaction tx: they are delivered when it
// commits.
func (s *Store) notifyInbox(ctx context.Context, tx pgx.Tx, notes []inbox.Note) error {
	if len(notes) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	s.queueNotes(b, notes)
	return tx.SendBatch(ctx, b).Close()
}

// queueNotes adds the NOTIFYs of notes to batch b.
func (s *Store) queueNotes(b *pgx.Batch, notes []inbox.Note) {
	for _, n := range notes {
		for _, p := range s.payloads(n) {
			b.Queue(`SELECT pg_notify($1, $2)`, s.channel, p)
		}
	}
}

// Feed is the inbox's feed of a Store (inbox.Feed).
type Feed struct {
	s     *Store
	log   *slog.Logger
	check time.Duration
}

var _ inbox.Feed = (*Feed)(nil)

// Feed returns the store's inbox feed. check is how often it checks its
// connection and tries to take the lead (0: FeedCheck).
func (s *Store) Feed(log *slog.Logger, check time.Duration) *Feed {
	if log == nil {
		log = slog.Default()
	}
	if check <= 0 {
		check = FeedCheck
	}
	return &Feed{s: s, log: log, check: check}
}

// Send sends a note that no store write carries (inbox.NoteSending).
func (f *Feed) Send(ctx context.Context, n inbox.Note) error {
	if err := f.s.live(ctx); err != nil {
		return err
	}
	b := &pgx.Batch{}
	for _, p := range f.s.payloads(n) {
		b.Queue(`SELECT pg_notify($1, $2)`, f.s.channel, p)
	}
	return f.s.wrap(f.s.pool.SendBatch(ctx, b).Close())
}

// Run listens until ctx is done (inbox.Feed), or the store is closed:
// then it gives up the lead within FeedCheck and returns model.ErrClosed.
func (f *Feed) Run(ctx context.Context, l inbox.Listener) error {
	for {
		err := f.session(ctx, l)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if f.s.closed.Load() {
			return fmt.Errorf("pgstore: inbox feed: %w", model.ErrClosed)
		}
		f.log.Warn("inbox feed: the connection to PostgreSQL dropped; connecting again", "err", err, "in", f.check)
		t := time.NewTimer(f.check)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// session is one connection's life: listen, read the view, then deliver
// notes and hold or try the lead until the connection fails or ctx ends.
func (f *Feed) session(ctx context.Context, l inbox.Listener) (err error) {
	if err := f.s.live(ctx); err != nil {
		return err
	}
	cfg := f.s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "parley inbox feed " + f.s.feedID
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("pgstore: inbox feed: connecting: %w", err)
	}
	leading := false
	defer func() {
		l.Disconnected(err)
		if leading {
			l.Leading(false)
			// Others take the lead at once rather than at their next
			// check. The lock goes with the connection.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			if data, err := json.Marshal(wireNote{Origin: f.s.feedID, Released: true}); err == nil {
				_, _ = conn.Exec(sctx, `SELECT pg_advisory_unlock($1, hashtext($2)), pg_notify($3, $4)`, classInboxLead, f.s.schema, f.s.channel, string(data))
			}
			cancel()
		}
		_ = conn.Close(context.WithoutCancel(ctx))
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+f.s.channel); err != nil {
		return fmt.Errorf("pgstore: inbox feed: listening: %w", err)
	}
	if err := l.Connected(ctx); err != nil {
		return fmt.Errorf("pgstore: inbox feed: reading the view: %w", err)
	}
	// Every check, whether notes come or not: the leader checks its
	// connection (and with it its lock), the others try the lead.
	check := time.Now()
	for {
		if now := time.Now(); !now.Before(check) {
			check = now.Add(f.check)
			if leading {
				pctx, cancel := context.WithTimeout(ctx, feedPing)
				err := conn.Ping(pctx)
				cancel()
				if err != nil {
					return fmt.Errorf("pgstore: inbox feed: checking the connection: %w", err)
				}
			} else {
				if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, classInboxLead, f.s.schema).Scan(&leading); err != nil {
					return fmt.Errorf("pgstore: inbox feed: trying the lead: %w", err)
				}
				if leading {
					l.Leading(true)
				}
			}
		}
		wctx, cancel := context.WithDeadline(ctx, check)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if n != nil {
			// A note may come with the wait's timeout: it is delivered all
			// the same.
			var w wireNote
			if err := json.Unmarshal([]byte(n.Payload), &w); err != nil {
				f.log.Error("inbox feed: a note that does not decode", "err", err)
			}
			switch {
			case w.Origin == f.s.feedID:
			case w.Released:
				check = time.Now() // try the lead at once
			case w.Note != nil:
				if err := l.Note(ctx, *w.Note); err != nil {
					return err
				}
			}
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case f.s.closed.Load():
			// The store is closed: this process commits nothing more, so
			// it must not keep the lead.
			return model.ErrClosed
		case err != nil && !(errors.Is(err, context.DeadlineExceeded) && !conn.IsClosed()):
			return fmt.Errorf("pgstore: inbox feed: waiting: %w", err)
		}
	}
}
