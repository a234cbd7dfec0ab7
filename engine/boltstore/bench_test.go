package boltstore

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// benchContacts is the number of customers the benchmark's events go to,
// all of them already in the store: the commits land in a tree of
// realistic size rather than an empty one.
const benchContacts = 10_000

// benchEvent is a typical inbound message's change, the n-th event of the
// benchmark: contact n % benchContacts answers the bot, which queues its
// next question, re-arms the wait's timeout (deleting the previous one)
// and counts the step for analytics.
func benchEvent(n int) *model.Change { return benchEventOf(n, false) }

// benchScatter is a multiplier prime to benchContacts: event n of a round
// goes to contact n*benchScatter % benchContacts, so that consecutive
// events go to customers far apart in key order, as real traffic does.
const benchScatter = 7919

// benchEventOf is benchEvent, to the round's contacts in key order or,
// when scattered, in an order that spreads consecutive events over the
// whole key space. Either way each contact has one event per round.
func benchEventOf(n int, scattered bool) *model.Change {
	i, round := n%benchContacts, n/benchContacts
	if scattered {
		i = i * benchScatter % benchContacts
	}
	wa := fmt.Sprintf("49151%07d", i)
	key := model.NewContactKey("106540352242922", wa)
	now := t0.Add(time.Duration(n) * time.Millisecond)
	convID := string(key) + "#1"
	timeout := model.Timer{Due: now.Add(10 * time.Minute), Kind: model.TimerTimeout, Contact: key, Conversation: convID, Node: "ask_order"}
	previous := timeout
	previous.Due = previous.Due.Add(-benchContacts * time.Millisecond)
	seq := uint64(2*round + 1)
	return &model.Change{
		InboundID: fmt.Sprintf("wamid.HBgNNDkxNTE%07dFQIAEhgUM0EwQjE2RjY%d", i, round),
		At:        now,
		Contact: &model.Contact{
			Key: key, PhoneNumberID: "106540352242922", WaID: wa, Name: "Maria Schmidt", Language: "de",
			Tags: []string{"customer"}, Fields: map[string]any{"city": "Berlin", "orders": 3},
			OptedIn: true, OptedInAt: t0, LastInboundAt: now, Conversation: convID, Conversations: 1,
		},
		Conversations: []*model.Conversation{{
			ID: convID, Contact: key, Flow: "order-status", Version: 3, Node: "ask_order", Status: model.Waiting,
			Vars:      map[string]any{"order": "A-1042", "attempts": 2, "express": false, "name": "Maria"},
			StartedAt: t0, UpdatedAt: now, LastActivityAt: now,
			LastReply: &flows.Reply{Type: "text", Text: "A-1042"},
			Timers:    []model.Timer{timeout},
			Seq:       seq + 1,
		}},
		Messages: []*model.Message{
			{Conversation: convID, Seq: seq, Direction: model.In, At: now, Node: "ask_order", Sender: "customer", Contact: key,
				Inbound: &flows.Reply{Type: "text", Text: "A-1042"}, State: model.Received, WAMID: "wamid.HBgNNDkxNTE"},
			{Conversation: convID, Seq: seq + 1, Direction: model.Out, At: now, Node: "status", Sender: "bot", Contact: key,
				Message: &flows.Message{Type: flows.MsgText, Text: "Your order A-1042 left our warehouse today and arrives tomorrow."}, State: model.Queued},
		},
		SetTimers:    []model.Timer{timeout},
		DeleteTimers: []model.Timer{previous},
		// The analytics of the step: the answer leaves the wait, the bot
		// passes through the send node and waits again.
		Counts: []model.Count{
			{Flow: "order-status", Version: 3, Node: "ask_order", Kind: model.CountExit, Exit: "next", N: 1},
			{Flow: "order-status", Version: 3, Node: "status", Kind: model.CountEntered, N: 1},
			{Flow: "order-status", Version: 3, Node: "status", Kind: model.CountExit, Exit: "next", N: 1},
			{Flow: "order-status", Version: 3, Node: "ask_order", Kind: model.CountEntered, N: 1},
		},
	}
}

// seed makes a store where every benchmark contact has had one event, and
// returns its path.
func seed(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "seed.db")
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 256 {
		wg.Go(func() {
			for n := int(next.Add(1)) - 1; n < benchContacts; n = int(next.Add(1)) - 1 {
				if err := s.Commit(b.Context(), benchEvent(n)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// seededStore opens a copy of the seed store.
func seededStore(b *testing.B, seed string) *Store {
	b.Helper()
	path := filepath.Join(b.TempDir(), "parley.db")
	if err := copyFile(path, seed); err != nil {
		b.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	// Flushed here, not by the benchmark's first commit.
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// BenchmarkCommit commits typical events from conc goroutines at once: the
// engine's conversations running in parallel. events/s is the figure that
// matters; ns/op is its inverse.
//
// order=keys sends consecutive events to consecutive customers in key
// order, so a batch's writes share pages; order=scattered spreads them
// over the key space, as customers writing at random do.
func BenchmarkCommit(b *testing.B) {
	seed := seed(b)
	for _, order := range []string{"keys", "scattered"} {
		for _, conc := range []int{1, 64, 256} {
			b.Run(fmt.Sprintf("order=%s/conc=%d", order, conc), func(b *testing.B) {
				benchCommit(b, seed, conc, order == "scattered")
			})
		}
	}
}

func benchCommit(b *testing.B, seed string, conc int, scattered bool) {
	s := seededStore(b, seed)
	ctx := b.Context()
	var next atomic.Int64
	next.Store(benchContacts) // the seed took the first round
	end := int64(benchContacts + b.N)
	before := s.db.Stats().TxStats
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for n := next.Add(1) - 1; n < end; n = next.Add(1) - 1 {
				if err := s.Commit(ctx, benchEventOf(int(n), scattered)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	reportPages(b, s, before)
}

// reportPages reports the pages the benchmark's transactions allocated
// and wrote (bbolt's TxStats since before), per operation: the disk's work
// per event, whatever the batches.
func reportPages(b *testing.B, s *Store, before bolt.TxStats) {
	after := s.db.Stats().TxStats
	b.ReportMetric(float64(after.GetPageCount()-before.GetPageCount())/float64(b.N), "pages/op")
	b.ReportMetric(float64(after.GetWrite()-before.GetWrite())/float64(b.N), "writes/op")
}

// BenchmarkEncodeChange is the CPU a Commit spends before it queues: the
// JSON of a typical event.
func BenchmarkEncodeChange(b *testing.B) {
	c := benchEvent(benchContacts + 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeChange(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFsync is the ceiling Commit is measured against: how many
// durable writes per second the disk allows one at a time, as a bare
// fdatasync of a file and as a bbolt transaction of one small key.
func BenchmarkFsync(b *testing.B) {
	b.Run("file", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "sync"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		buf := make([]byte, 4096)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := f.WriteAt(buf, int64(i%256)*4096); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "syncs/s")
	})
	b.Run("bolt-tx", func(b *testing.B) {
		db, err := bolt.Open(filepath.Join(b.TempDir(), "sync.db"), 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		key := []byte("k")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := db.Update(func(tx *bolt.Tx) error {
				bk, err := tx.CreateBucketIfNotExists(key)
				if err != nil {
					return err
				}
				return bk.Put(key, u64(uint64(i)))
			}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "txs/s")
	})
}
