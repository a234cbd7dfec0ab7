package boltstore

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// BenchmarkCommitAtScale measures a webhook's commit against a store that
// already holds n conversations (n = 10k, 100k and, with
// PARLEY_BOLT_SCALE_1M set, 1M), to tell whether the cost of a write
// follows the live work or the history. Each store is filled once through
// the commit path (encodeChange, check, apply; large transactions, no
// fsync per change) and cached under PARLEY_BOLT_SCALE_CACHE (default
// $TMPDIR/parley-boltscale), keyed by scaleFillVersion and the schema; a
// run works on a copy. PARLEY_BOLT_SCALE_FROM=4 takes the store an older
// build filled, with schema 4, instead: Open upgrades the copy, and the
// run measures a file written before the upgrade.
//
// The fill is a year of customers as the scale harness makes them, keys
// scattered over the key space: each wrote twice, the bot answered each
// message, and the dispatcher sent every answer (the outbox drained, the
// message marked sent).
//
// kind=new is a customer writing for the first time (a new contact, at a
// scattered key); kind=existing a stored customer, picked at random,
// writing again; kind=sent the dispatcher recording a send of it. conc=1
// commits one change per transaction; conc=64 lets the committer batch.
//
// pages/op is the load-independent figure: the pages the commits wrote
// (bbolt's page allocations, the freelist included, plus the meta page),
// per change. dirty-<bucket>/op splits the pages the changes touched by
// bucket (the nodes bbolt materialised before spilling: splits and the
// freelist come on top). ns/op depends on the machine's load: compare
// ratios within one run.
func BenchmarkCommitAtScale(b *testing.B) {
	sizes := []int{1_000, 10_000, 100_000}
	if os.Getenv("PARLEY_BOLT_SCALE_1M") != "" {
		sizes = append(sizes, 1_000_000)
	}
	if v := os.Getenv("PARLEY_BOLT_SCALE_N"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(f)
			if err != nil {
				b.Fatalf("PARLEY_BOLT_SCALE_N=%q: %v", v, err)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			s := scaleStoreCopy(b, n)
			var news, olds, sent atomic.Int64 // customers taken by earlier rounds
			for _, kind := range []string{"new", "existing", "sent"} {
				for _, conc := range []int{1, 64} {
					b.Run(fmt.Sprintf("kind=%s/conc=%d", kind, conc), func(b *testing.B) {
						var next *atomic.Int64
						switch kind {
						case "new":
							next = &news
						case "existing":
							next = &olds
						default:
							next = &sent
						}
						benchScaleCommits(b, s, n, kind, conc, next)
					})
				}
			}
		})
	}
}

// scaleFillVersion names the fill: change it when the fill's records
// change, so that a cached store is not taken for another.
const scaleFillVersion = 3

// scaleStart is when the fill's year starts.
var scaleStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// scaleNow is when the measured changes happen: after the fill's year.
var scaleNow = scaleStart.Add(366 * 24 * time.Hour)

const scalePhone = "106540352242922"

// scaleContact is customer i's key: scattered over the key space, as the
// scale harness's (cmd/parley/scale_build_test.go) and real ones are.
func scaleContact(i int) model.ContactKey {
	return model.NewContactKey(scalePhone, fmt.Sprintf("49%010d", uint64(i)*2654435761%10_000_000_000))
}

// scaleInbound is customer i's k-th message (k from 0) at when, with the
// bot's answer queued: a webhook's change. The first one makes the
// contact and its conversation, which waits for a reply (a timeout
// timer); the second ends it (the fill's history: ended conversations, no
// timers); a later one (the measured kind=existing) waits again.
func scaleInbound(i, k int, at time.Time) *model.Change {
	key := scaleContact(i)
	convID := string(key) + "#1"
	seq := uint64(2*k + 1)
	timeout := model.Timer{Due: at.Add(10 * time.Minute), Kind: model.TimerTimeout, Contact: key, Conversation: convID, Node: "ask"}
	status, timers := model.Waiting, []model.Timer{timeout}
	if k == 1 {
		status, timers = model.Ended, nil
	}
	c := &model.Change{
		InboundID: fmt.Sprintf("wamid.HBgNNDkxNTE%010dFQIAEhgUM0EwQjE2RjY%d", i, k),
		At:        at,
		Contact: &model.Contact{
			Key: key, PhoneNumberID: scalePhone, WaID: string(key[len(scalePhone)+1:]), Name: "Customer " + strconv.Itoa(i), Language: "de",
			OptedIn: true, OptedInAt: scaleStart, LastInboundAt: at, Conversation: convID, Conversations: 1,
		},
		Conversations: []*model.Conversation{{
			ID: convID, Contact: key, Flow: "scale", Version: 1, Node: "ask", Status: status,
			Vars:      map[string]any{"said": "hello, I have a question about my order " + strconv.Itoa(i)},
			StartedAt: scaleStart, UpdatedAt: at, LastActivityAt: at,
			LastReply: &flows.Reply{Type: "text", Text: "my parcel has not arrived yet"},
			Timers:    timers,
			Seq:       seq + 1,
		}},
		Messages: []*model.Message{
			{Conversation: convID, Seq: seq, Direction: model.In, At: at, Node: "ask", Sender: "customer", Contact: key,
				Inbound: &flows.Reply{Type: "text", Text: "hello, I have a question about my order " + strconv.Itoa(i)}, State: model.Received,
				WAMID: fmt.Sprintf("wamid.HBgNNDkxNTE%010dFQIAEhgUM0EwQjE2RjY%d", i, k)},
			{Conversation: convID, Seq: seq + 1, Direction: model.Out, At: at, Node: "ask", Sender: "bot", Contact: key,
				Message: &flows.Message{Type: flows.MsgText, Text: "Hello Customer! Thanks for writing to us. What can we do for you today? A few words are enough."},
				State:   model.Queued},
		},
		SetTimers: timers,
		Counts: []model.Count{
			{Flow: "scale", Version: 1, Node: "ask", Kind: model.CountEntered, N: 1},
		},
	}
	if k == 1 { // the first message's timeout: the fill wrote it a minute before
		c.DeleteTimers = []model.Timer{{Due: at.Add(-time.Minute + 10*time.Minute), Kind: model.TimerTimeout, Contact: key, Conversation: convID, Node: "ask"}}
	}
	return c
}

// scaleSent is the dispatcher's record of a send: the message marked sent
// and its outbox item gone.
func scaleSent(i, k int, outboxSeq uint64, at time.Time) *model.Change {
	key := scaleContact(i)
	convID := string(key) + "#1"
	seq := uint64(2*k + 2)
	return &model.Change{
		At: at,
		Updates: []*model.Message{{Conversation: convID, Seq: seq, Direction: model.Out, At: at, Node: "ask", Sender: "bot", Contact: key,
			Message: &flows.Message{Type: flows.MsgText, Text: "Hello Customer! Thanks for writing to us. What can we do for you today? A few words are enough."},
			State:   model.Sent, WAMID: fmt.Sprintf("wamid.out.%d.%d", i, k)}},
		Dequeue: []uint64{outboxSeq},
	}
}

// scaleCacheDir is where filled stores are kept between runs.
func scaleCacheDir() string {
	if d := os.Getenv("PARLEY_BOLT_SCALE_CACHE"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "parley-boltscale")
}

// scaleStoreCopy opens a copy of the cached store of n conversations,
// filling the cache first if it has none.
func scaleStoreCopy(b *testing.B, n int) *Store {
	b.Helper()
	schema := fmt.Sprint(schemaVersion)
	if v := os.Getenv("PARLEY_BOLT_SCALE_FROM"); v != "" {
		schema = v
	}
	cached := filepath.Join(scaleCacheDir(), fmt.Sprintf("fill%d-schema%s-%d.db", scaleFillVersion, schema, n))
	if _, err := os.Stat(cached); err != nil && schema != fmt.Sprint(schemaVersion) {
		b.Fatalf("no store of schema %s cached (%s): an older build fills it", schema, cached)
	} else if err != nil {
		if err := os.MkdirAll(scaleCacheDir(), 0o750); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		tmp := cached + ".part"
		if err := scaleFill(tmp, n); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, cached); err != nil {
			b.Fatal(err)
		}
		b.Logf("filled %d conversations in %s", n, time.Since(start).Round(time.Second))
	}
	path := filepath.Join(b.TempDir(), "parley.db")
	if err := copyFile(path, cached); err != nil {
		b.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	fi, _ := os.Stat(path)
	st := s.db.Stats()
	b.Logf("n=%d: file %d MB, %d free pages; depth %s", n, fi.Size()>>20, st.FreePageN, bucketDepths(s))
	return s
}

// bucketDepths lists the depth of the B+tree of each bucket with more
// than one level.
func bucketDepths(s *Store) string {
	var parts []string
	_ = s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if st := b.Stats(); st.Depth > 1 {
				parts = append(parts, fmt.Sprintf("%s %d (%d leaf pages)", name, st.Depth, st.LeafPageN))
			}
			return nil
		})
	})
	return strings.Join(parts, ", ")
}

// scaleFillChunk is how many conversations one round of the fill's
// transactions carries: about the committer's batches under load, so that
// the file's free pages are what serving leaves (a fill in large
// transactions frees as many pages as its last one wrote, which every
// later commit writes back as the freelist).
const scaleFillChunk = 256

// scaleFill makes a store of n conversations at path: for each chunk of
// customers, their first messages, the sends, their second messages and
// those sends, a transaction each.
func scaleFill(path string, n int) error {
	s, err := Open(path)
	if err != nil {
		return err
	}
	defer s.Close()
	// No fsync per transaction: the fill is thrown away if it fails
	// midway (it is renamed into the cache once done), and synced once at
	// the end.
	s.db.NoSync = true
	defer s.db.Sync()
	step := 365 * 24 * time.Hour / time.Duration(n)
	for lo := 0; lo < n; lo += scaleFillChunk {
		hi := min(lo+scaleFillChunk, n)
		for k := range 2 {
			var ws []write
			for i := lo; i < hi; i++ {
				w, err := encodeChange(scaleInbound(i, k, scaleStart.Add(time.Duration(i)*step+time.Duration(k)*time.Minute)))
				if err != nil {
					return err
				}
				ws = append(ws, w)
			}
			if err := s.applyAll(ws); err != nil {
				return fmt.Errorf("fill %d: %w", lo, err)
			}
			// The dispatcher: every queued answer sent. The outbox holds
			// this round's answers only, in the order of i.
			var seqs []uint64
			if err := s.db.View(func(tx *bolt.Tx) error {
				return tx.Bucket(bucketOutbox).ForEach(func(k, _ []byte) error {
					seqs = append(seqs, u64of(k))
					return nil
				})
			}); err != nil {
				return err
			}
			if len(seqs) != hi-lo {
				return fmt.Errorf("fill %d: outbox holds %d items, want %d", lo, len(seqs), hi-lo)
			}
			ws = ws[:0]
			for j, seq := range seqs {
				i := lo + j
				w, err := encodeChange(scaleSent(i, k, seq, scaleStart.Add(time.Duration(i)*step+time.Duration(k)*time.Minute+time.Second)))
				if err != nil {
					return err
				}
				ws = append(ws, w)
			}
			if err := s.applyAll(ws); err != nil {
				return fmt.Errorf("fill %d sends: %w", lo, err)
			}
		}
	}
	return nil
}

func u64of(k []byte) uint64 {
	var n uint64
	for _, c := range k {
		n = n<<8 | uint64(c)
	}
	return n
}

// applyAll checks and applies ws in one transaction, as the committer
// does a batch, and fails on the first refusal.
func (s *Store) applyAll(ws []write) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		t := newTxn(tx)
		for _, w := range ws {
			if err := w.check(t); err != nil {
				return err
			}
			if err := w.apply(t); err != nil {
				return err
			}
		}
		return nil
	})
}

// benchScaleCommits commits b.N changes of kind from conc goroutines.
func benchScaleCommits(b *testing.B, s *Store, n int, kind string, conc int, taken *atomic.Int64) {
	ctx := b.Context()
	first := taken.Add(int64(b.N)) - int64(b.N)
	// For kind=sent: the outbox, oldest first (the answers the earlier
	// rounds queued).
	var outbox []model.OutboxItem
	if kind == "sent" {
		var err error
		if outbox, err = s.Outbox(ctx, 0, 0); err != nil {
			b.Fatal(err)
		}
		first = 0
	}
	changeOf := func(j int) *model.Change {
		at := scaleNow.Add(time.Duration(j) * time.Millisecond)
		switch kind {
		case "new":
			return scaleInbound(n+j, 0, at)
		case "existing":
			return scaleInbound(scaleExisting(j, n), 2+j/n, at)
		}
		if j >= len(outbox) {
			return nil
		}
		m := *outbox[j].Message
		m.State, m.WAMID = model.Sent, fmt.Sprintf("wamid.out.%d", outbox[j].Seq)
		return &model.Change{At: at, Updates: []*model.Message{&m}, Dequeue: []uint64{outbox[j].Seq}}
	}
	before := s.db.Stats().TxStats
	commits := s.commitCount.Load()
	dirty := map[string]int64{}
	trackDirty(s, dirty)
	defer untrackDirty(s)
	b.ResetTimer()
	var next atomic.Int64
	next.Store(first)
	end := first + int64(b.N)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for j := next.Add(1) - 1; j < end; j = next.Add(1) - 1 {
				c := changeOf(int(j))
				if c == nil {
					b.Errorf("kind=sent: no outbox item %d: the earlier rounds queued fewer answers", j)
					return
				}
				if err := s.Commit(ctx, c); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	after := s.db.Stats().TxStats
	txs := s.commitCount.Load() - commits
	pages := float64(after.GetPageAlloc()-before.GetPageAlloc())/float64(s.db.Info().PageSize) + float64(txs) // + the meta page
	b.ReportMetric(pages/float64(b.N), "pages/op")
	b.ReportMetric(float64(b.N)/float64(txs), "changes/tx")
	b.ReportMetric(float64(after.GetSplit()-before.GetSplit())/float64(b.N), "splits/op")
	names := make([]string, 0, len(dirty))
	for name := range dirty {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		b.ReportMetric(float64(dirty[name])/float64(b.N), "dirty-"+name+"/op")
	}
}

// scaleExisting is the stored customer that kind=existing's j-th change
// comes from: a permutation of the first n, so that consecutive changes
// come from customers far apart; change j is the customer's (2 + j/n)-th
// message.
func scaleExisting(j, n int) int { return int(uint64(j) * 7_368_787 % uint64(n)) }

// trackDirty makes the committer add, before each commit, the nodes each
// bucket has materialised for writing (bbolt's Bucket.nodes: every page
// on the path from the root to a changed leaf) to dirty. A test hook.
func trackDirty(s *Store, dirty map[string]int64) {
	s.beforeCommit = func(tx *bolt.Tx) {
		if root := reflect.ValueOf(tx).Elem().FieldByName("root").FieldByName("nodes"); root.IsValid() {
			dirty["(root)"] += int64(root.Len())
		}
		_ = tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if m := reflect.ValueOf(b).Elem().FieldByName("nodes"); m.IsValid() && m.Len() > 0 {
				dirty[string(name)] += int64(m.Len())
			}
			return nil
		})
	}
}

func untrackDirty(s *Store) { s.beforeCommit = nil }
