package storetest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/inbox"
	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/quarantine"
	"github.com/parleyhq/parley/engine/schedule"
	"github.com/parleyhq/parley/engine/secrets"
	"github.com/parleyhq/parley/ui/auth"
)

// Records is what a backend keeps for Parley's subsystems beside the
// engine's Store: the inbox's, the sign-in's, the scheduler's, the
// quarantine's and the secrets' records, each through its own role
// interface.
type Records interface {
	inbox.Records
	auth.Records
	schedule.Records
	quarantine.Records
	secrets.Records
	Close() error
}

// OpenRecords opens the records kept at path, as Open does for a Store.
type OpenRecords func(t *testing.T, path string) Records

// Backend describes a backend to RunRecords.
type Backend struct {
	Open OpenRecords
	// Shared says a second handle may be opened on a path while one is
	// open, as several processes share a database (PostgreSQL). A bbolt
	// file cannot be: its file lock keeps a second handle out, even in
	// one process, so for it the races run on one handle only.
	Shared bool
}

// RunRecords runs the contract suites of the role interfaces. Every race
// runs its writers over two handles on one database when b.Shared.
func RunRecords(t *testing.T, b Backend) {
	tests := []struct {
		name string
		run  func(*testing.T, Backend)
	}{
		{"InboxRecords", testInboxRecords},
		{"InboxReadsRace", testInboxReadsRace},
		{"AuthRecords", testAuthRecords},
		{"AuthRollback", testAuthRollback},
		{"AuthRace", testAuthRace},
		{"ScheduleRecords", testScheduleRecords},
		{"ScheduleRollback", testScheduleRollback},
		{"ScheduleClaimOnce", testScheduleClaimOnce},
		{"Quarantine", testQuarantine},
		{"QuarantineRace", testQuarantineRace},
		{"Secrets", testSecrets},
		{"RecordsReopen", testRecordsReopen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, b)
		})
	}
}

// openRecords opens the records at path, closed at the end of the test.
func openRecords(t *testing.T, b Backend, path string) Records {
	t.Helper()
	r := b.Open(t, path)
	t.Cleanup(func() { r.Close() })
	return r
}

// handles opens two handles on one fresh database when the backend is
// shared, else returns the one handle twice.
func handles(t *testing.T, b Backend) (Records, Records) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "store")
	one := openRecords(t, b, path)
	if !b.Shared {
		t.Log("one handle: this backend cannot open a second one on the same database (bbolt's file lock)")
		return one, one
	}
	return one, openRecords(t, b, path)
}

// race runs n writers, alternately on a and b, and fails t on the first
// error.
func race(t *testing.T, n int, a, b Records, fn func(i int, r Records) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		r := a
		if i%2 == 1 {
			r = b
		}
		wg.Go(func() {
			if err := fn(i, r); err != nil {
				errs <- fmt.Errorf("writer %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func testInboxRecords(t *testing.T, b Backend) {
	ctx := t.Context()
	r, _ := handles(t, b)
	if as, err := r.Agents(ctx); err != nil || len(as) != 0 {
		t.Fatalf("Agents on an empty store = %v, %v", as, err)
	}
	for _, e := range []string{"b@x.io", "a@x.io", "c@x.io"} {
		if err := r.PutAgent(ctx, &inbox.Agent{Email: e, Queues: []string{"sales"}, Capacity: 2, Status: inbox.Offline}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.PutAgent(ctx, &inbox.Agent{Email: "b@x.io", Name: "Bea", Queues: []string{"support"}, Capacity: 5, Status: inbox.Online, StatusAt: t0}); err != nil {
		t.Fatal(err)
	}
	as, err := r.Agents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var emails []string
	for _, a := range as {
		emails = append(emails, a.Email)
	}
	if !slices.Equal(emails, []string{"a@x.io", "b@x.io", "c@x.io"}) {
		t.Fatalf("Agents = %v, want by email", emails)
	}
	if a := as[1]; a.Name != "Bea" || a.Capacity != 5 || a.Status != inbox.Online || !a.StatusAt.Equal(t0) || !slices.Equal(a.Queues, []string{"support"}) {
		t.Fatalf("replaced agent = %+v", a)
	}
	if ok, err := r.DeleteAgent(ctx, "a@x.io"); err != nil || !ok {
		t.Fatalf("DeleteAgent = %v, %v", ok, err)
	}
	if ok, err := r.DeleteAgent(ctx, "a@x.io"); err != nil || ok {
		t.Fatalf("DeleteAgent again = %v, %v, want false", ok, err)
	}
	if as, _ := r.Agents(ctx); len(as) != 2 {
		t.Fatalf("after delete: %d agents", len(as))
	}

	// A queue without numbers serves every number; one with them keeps
	// them.
	for _, q := range []inbox.Queue{{ID: "support", Name: "support!"}, {ID: "sales", Name: "sales!", Numbers: []string{"100000000000002"}}} {
		if err := r.PutQueue(ctx, &q); err != nil {
			t.Fatal(err)
		}
	}
	qs, err := r.Queues(ctx)
	if err != nil || len(qs) != 2 || qs[0].ID != "sales" || qs[1].Name != "support!" ||
		len(qs[0].Numbers) != 1 || qs[0].Numbers[0] != "100000000000002" || qs[1].Numbers != nil {
		t.Fatalf("Queues = %+v, %v", qs, err)
	}
	if ok, err := r.DeleteQueue(ctx, "nope"); err != nil || ok {
		t.Fatalf("DeleteQueue of none = %v, %v", ok, err)
	}
	if ok, err := r.DeleteQueue(ctx, "sales"); err != nil || !ok {
		t.Fatalf("DeleteQueue = %v, %v", ok, err)
	}

	if err := r.PutCanned(ctx, &inbox.Canned{ID: "c1", Title: "Hi", Text: "Hello there", Queue: "support"}); err != nil {
		t.Fatal(err)
	}
	cs, err := r.CannedResponses(ctx)
	if err != nil || len(cs) != 1 || *cs[0] != (inbox.Canned{ID: "c1", Title: "Hi", Text: "Hello there", Queue: "support"}) {
		t.Fatalf("CannedResponses = %+v, %v", cs, err)
	}
	if ok, err := r.DeleteCanned(ctx, "c1"); err != nil || !ok {
		t.Fatalf("DeleteCanned = %v, %v", ok, err)
	}
	if cs, _ := r.CannedResponses(ctx); len(cs) != 0 {
		t.Fatalf("after delete: %+v", cs)
	}

	// Reads: the larger seq wins; forgetting ids without one is no error.
	for _, x := range []struct {
		conv string
		seq  uint64
	}{{"k1", 5}, {"k1", 3}, {"k2", 1}, {"k1", 9}} {
		if err := r.SaveRead(ctx, x.conv, x.seq); err != nil {
			t.Fatal(err)
		}
	}
	reads, err := r.Reads(ctx)
	if err != nil || len(reads) != 2 || reads["k1"] != 9 || reads["k2"] != 1 {
		t.Fatalf("Reads = %v, %v", reads, err)
	}
	if err := r.ForgetReads(ctx, []string{"k1", "never"}); err != nil {
		t.Fatal(err)
	}
	if reads, _ := r.Reads(ctx); len(reads) != 1 || reads["k2"] != 1 {
		t.Fatalf("after ForgetReads: %v", reads)
	}
	if err := r.ForgetReads(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// testInboxReadsRace: concurrent read marks of one conversation keep the
// largest, whatever their order, across handles.
func testInboxReadsRace(t *testing.T, b Backend) {
	ctx := t.Context()
	r1, r2 := handles(t, b)
	race(t, 40, r1, r2, func(i int, r Records) error { return r.SaveRead(ctx, "conv", uint64(i+1)) })
	for _, r := range []Records{r1, r2} {
		if reads, err := r.Reads(ctx); err != nil || reads["conv"] != 40 {
			t.Fatalf("Reads = %v, %v, want conv at 40", reads, err)
		}
	}
}

func user(email string, roles ...auth.Role) *auth.UserRecord {
	return &auth.UserRecord{User: auth.User{Email: email, Name: email, Roles: roles, CreatedAt: t0}, Hash: []byte("hash of " + email), PasswordChangedAt: t0}
}

func testAuthRecords(t *testing.T, b Backend) {
	ctx := t.Context()
	r, _ := handles(t, b)
	err := r.ViewAuth(ctx, func(tx auth.Tx) error {
		if some, err := tx.AnyUser(); err != nil || some {
			return fmt.Errorf("AnyUser on an empty store = %v, %v", some, err)
		}
		if u, err := tx.User("a@x.io"); err != nil || u != nil {
			return fmt.Errorf("User of none = %v, %v", u, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sessKey := func(i int) []byte { return []byte{0xfe, byte(i), 0x00, 0x7f} } // hashes are bytes, not text
	err = r.UpdateAuth(ctx, func(tx auth.Tx) error {
		for _, u := range []*auth.UserRecord{user("b@x.io", auth.Admin), user("a@x.io", auth.Analyst), user("c@x.io", auth.Agent)} {
			if err := tx.PutUser(u); err != nil {
				return err
			}
		}
		for i := range 4 {
			email := "a@x.io"
			if i%2 == 1 {
				email = "b@x.io"
			}
			if err := tx.PutSession(sessKey(i), &auth.SessionRecord{Email: email, CSRF: "csrf" + strconv.Itoa(i), CreatedAt: t0, SeenAt: at(0)}); err != nil {
				return err
			}
		}
		for i, e := range []string{"a@x.io", "a@x.io", "b@x.io"} {
			if err := tx.PutToken([]byte{byte(i), 0xff}, &auth.Token{ID: "t" + strconv.Itoa(i), Name: "n", Email: e, CreatedAt: t0, Service: i == 1}); err != nil {
				return err
			}
		}
		// A transaction reads its own writes.
		if u, err := tx.User("c@x.io"); err != nil || u == nil {
			return fmt.Errorf("own write not read: %v, %v", u, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = r.ViewAuth(ctx, func(tx auth.Tx) error {
		us, err := tx.Users()
		if err != nil {
			return err
		}
		if len(us) != 3 || us[0].Email != "a@x.io" || us[2].Email != "c@x.io" {
			return fmt.Errorf("Users = %v, want 3 by email", us)
		}
		u, err := tx.User("b@x.io")
		if err != nil || u == nil || string(u.Hash) != "hash of b@x.io" || !u.PasswordChangedAt.Equal(t0) || !slices.Equal(u.Roles, []auth.Role{auth.Admin}) {
			return fmt.Errorf("User = %+v, %v", u, err)
		}
		s, err := tx.Session(sessKey(1))
		if err != nil || s == nil || s.Email != "b@x.io" || s.CSRF != "csrf1" {
			return fmt.Errorf("Session = %+v, %v", s, err)
		}
		toks, err := tx.Tokens()
		if err != nil || len(toks) != 3 || toks[0].ID != "t0" || !toks[1].Service {
			return fmt.Errorf("Tokens = %+v, %v", toks, err)
		}
		tok, err := tx.Token([]byte{2, 0xff})
		if err != nil || tok == nil || tok.Email != "b@x.io" {
			return fmt.Errorf("Token = %+v, %v", tok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = r.UpdateAuth(ctx, func(tx auth.Tx) error {
		n, err := tx.DeleteSessions(func(s *auth.SessionRecord) bool { return s.Email == "a@x.io" })
		if err != nil || n != 2 {
			return fmt.Errorf("DeleteSessions = %d, %v, want 2", n, err)
		}
		if err := tx.DeleteSession(sessKey(1)); err != nil {
			return err
		}
		if err := tx.DeleteSession(sessKey(9)); err != nil { // none: no error
			return err
		}
		n, err = tx.DeleteTokens(func(tk *auth.Token) bool { return tk.Email == "a@x.io" && !tk.Service })
		if err != nil || n != 1 {
			return fmt.Errorf("DeleteTokens = %d, %v, want 1", n, err)
		}
		if ok, err := tx.DeleteUser("c@x.io"); err != nil || !ok {
			return fmt.Errorf("DeleteUser = %v, %v", ok, err)
		}
		if ok, err := tx.DeleteUser("c@x.io"); err != nil || ok {
			return fmt.Errorf("DeleteUser again = %v, %v", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = r.ViewAuth(ctx, func(tx auth.Tx) error {
		if s, err := tx.Session(sessKey(3)); err != nil || s == nil {
			return fmt.Errorf("session 3 gone: %v, %v", s, err)
		}
		for _, i := range []int{0, 1, 2} {
			if s, err := tx.Session(sessKey(i)); err != nil || s != nil {
				return fmt.Errorf("session %d kept: %v, %v", i, s, err)
			}
		}
		toks, err := tx.Tokens()
		if err != nil || len(toks) != 2 {
			return fmt.Errorf("Tokens = %+v, %v", toks, err)
		}
		us, err := tx.Users()
		if err != nil || len(us) != 2 {
			return fmt.Errorf("Users = %v, %v", us, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var errRollback = errors.New("storetest: roll back")

// testAuthRollback: an UpdateAuth whose fn fails writes nothing.
func testAuthRollback(t *testing.T, b Backend) {
	ctx := t.Context()
	r, _ := handles(t, b)
	err := r.UpdateAuth(ctx, func(tx auth.Tx) error {
		if err := tx.PutUser(user("a@x.io", auth.Admin)); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("UpdateAuth = %v, want fn's error", err)
	}
	_ = r.ViewAuth(ctx, func(tx auth.Tx) error {
		if some, err := tx.AnyUser(); err != nil || some {
			t.Fatalf("a failed UpdateAuth left a user: %v, %v", some, err)
		}
		return nil
	})
}

// testAuthRace: UpdateAuth is atomic with every other one, across
// handles: read-modify-writes of one record lose no update, and a check
// over several records (the last admin) holds under concurrent changes.
func testAuthRace(t *testing.T, b Backend) {
	ctx := t.Context()
	r1, r2 := handles(t, b)
	if err := r1.UpdateAuth(ctx, func(tx auth.Tx) error { return tx.PutUser(user("count@x.io")) }); err != nil {
		t.Fatal(err)
	}
	const n = 30
	race(t, n, r1, r2, func(_ int, r Records) error {
		return r.UpdateAuth(ctx, func(tx auth.Tx) error {
			u, err := tx.User("count@x.io")
			if err != nil || u == nil {
				return fmt.Errorf("counter: %v, %v", u, err)
			}
			c, _ := strconv.Atoi(u.Name)
			u.Name = strconv.Itoa(c + 1)
			return tx.PutUser(u)
		})
	})
	_ = r2.ViewAuth(ctx, func(tx auth.Tx) error {
		if u, err := tx.User("count@x.io"); err != nil || u.Name != strconv.Itoa(n) {
			t.Fatalf("counter = %+v, %v, want %d: an update was lost", u, err, n)
		}
		return nil
	})

	// Two admins; each writer removes one if another stays: exactly one
	// is left, never none.
	if err := r1.UpdateAuth(ctx, func(tx auth.Tx) error {
		for i := range 8 {
			if err := tx.PutUser(user(fmt.Sprintf("admin%d@x.io", i), auth.Admin)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	race(t, 8, r1, r2, func(i int, r Records) error {
		return r.UpdateAuth(ctx, func(tx auth.Tx) error {
			us, err := tx.Users()
			if err != nil {
				return err
			}
			admins := 0
			for _, u := range us {
				if slices.Contains(u.Roles, auth.Admin) {
					admins++
				}
			}
			if admins < 2 {
				return nil
			}
			_, err = tx.DeleteUser(fmt.Sprintf("admin%d@x.io", i))
			return err
		})
	})
	_ = r1.ViewAuth(ctx, func(tx auth.Tx) error {
		us, _ := tx.Users()
		admins := 0
		for _, u := range us {
			if slices.Contains(u.Roles, auth.Admin) {
				admins++
			}
		}
		if admins != 1 {
			t.Fatalf("%d admins left, want 1", admins)
		}
		return nil
	})
}

// firing is a firing of schedule sc at minutes before t0.
func firing(sc string, minutes int, status schedule.FiringStatus) *schedule.Firing {
	tm := t0.Add(-time.Duration(minutes) * time.Minute)
	return &schedule.Firing{ID: fmt.Sprintf("%s.%020d", sc, tm.UnixNano()), Schedule: sc, Name: sc, At: tm, Status: status, ClaimedAt: t0}
}

func testScheduleRecords(t *testing.T, b Backend) {
	ctx := t.Context()
	r, _ := handles(t, b)
	err := r.UpdateSchedules(ctx, func(tx schedule.Tx) error {
		for _, id := range []string{"s2", "s1"} {
			if err := tx.PutSchedule(&schedule.Schedule{ID: id, Name: "n" + id, Cron: "@daily", TimeZone: "UTC", Cursor: t0, UpdatedAt: t0}); err != nil {
				return err
			}
		}
		// s1's firings: at -3h (finished), -2h (running), -1h (waiting);
		// s2's: at -150m (running). Active is by fire time, across
		// schedules.
		for _, f := range []*schedule.Firing{
			firing("s1", 180, schedule.Done), firing("s1", 120, schedule.Running), firing("s1", 60, schedule.Waiting), firing("s2", 150, schedule.Running),
		} {
			if err := tx.PutFiring(f); err != nil {
				return err
			}
		}
		for _, c := range []string{"c", "a", "b"} {
			if err := tx.PutSend(firing("s1", 120, "").ID, &schedule.Send{Contact: model.ContactKey("wa:" + c), Outcome: schedule.OutcomeSent, Seq: 1, At: t0}); err != nil {
				return err
			}
		}
		return tx.PutSend(firing("s2", 150, "").ID, &schedule.Send{Contact: "wa:z", Outcome: schedule.OutcomeSent, At: t0})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = r.ViewSchedules(ctx, func(tx schedule.Tx) error {
		scs, err := tx.Schedules()
		if err != nil || len(scs) != 2 || scs[0].ID != "s1" || scs[1].Name != "ns2" || !scs[0].Cursor.Equal(t0) {
			return fmt.Errorf("Schedules = %+v, %v", scs, err)
		}
		if sc, err := tx.Schedule("s3"); err != nil || sc != nil {
			return fmt.Errorf("Schedule of none = %v, %v", sc, err)
		}
		act, err := tx.Active()
		if err != nil {
			return err
		}
		if ids := firingIDs(act); !slices.Equal(ids, []string{firing("s2", 150, "").ID, firing("s1", 120, "").ID, firing("s1", 60, "").ID}) {
			return fmt.Errorf("Active = %v", ids)
		}
		of, err := tx.FiringsOf("s1", 0)
		if err != nil {
			return err
		}
		if ids := firingIDs(of); !slices.Equal(ids, []string{firing("s1", 60, "").ID, firing("s1", 120, "").ID, firing("s1", 180, "").ID}) {
			return fmt.Errorf("FiringsOf = %v, want newest first", ids)
		}
		if of, err := tx.FiringsOf("s1", 2); err != nil || len(of) != 2 || of[0].ID != firing("s1", 60, "").ID {
			return fmt.Errorf("FiringsOf limit 2 = %v, %v", firingIDs(of), err)
		}
		var all []string
		if err := tx.Firings(func(f *schedule.Firing) error { all = append(all, f.ID); return nil }); err != nil {
			return err
		}
		if len(all) != 4 || !slices.IsSorted(all) {
			return fmt.Errorf("Firings = %v, want 4 by id", all)
		}
		stop := errors.New("stop")
		calls := 0
		if err := tx.Firings(func(*schedule.Firing) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
			return fmt.Errorf("Firings did not stop at fn's error: %v after %d calls", err, calls)
		}
		var sends []string
		if err := tx.Sends(firing("s1", 120, "").ID, func(sd *schedule.Send) error { sends = append(sends, string(sd.Contact)); return nil }); err != nil {
			return err
		}
		if !slices.Equal(sends, []string{"wa:a", "wa:b", "wa:c"}) {
			return fmt.Errorf("Sends = %v, want the firing's, by contact", sends)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Finishing a firing takes it out of Active; deleting a schedule
	// keeps its firings; DeleteSends deletes one firing's only.
	err = r.UpdateSchedules(ctx, func(tx schedule.Tx) error {
		f := firing("s1", 120, schedule.Done)
		f.FinishedAt = t0
		if err := tx.PutFiring(f); err != nil {
			return err
		}
		if ok, err := tx.DeleteSchedule("s1"); err != nil || !ok {
			return fmt.Errorf("DeleteSchedule = %v, %v", ok, err)
		}
		if ok, err := tx.DeleteSchedule("s1"); err != nil || ok {
			return fmt.Errorf("DeleteSchedule again = %v, %v", ok, err)
		}
		return tx.DeleteSends(f.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = r.ViewSchedules(ctx, func(tx schedule.Tx) error {
		act, err := tx.Active()
		if err != nil {
			return err
		}
		if ids := firingIDs(act); !slices.Equal(ids, []string{firing("s2", 150, "").ID, firing("s1", 60, "").ID}) {
			return fmt.Errorf("Active = %v", ids)
		}
		f, err := tx.Firing(firing("s1", 120, "").ID)
		if err != nil || f == nil || f.Status != schedule.Done || !f.FinishedAt.Equal(t0) {
			return fmt.Errorf("Firing = %+v, %v", f, err)
		}
		n := 0
		_ = tx.Sends(f.ID, func(*schedule.Send) error { n++; return nil })
		_ = tx.Sends(firing("s2", 150, "").ID, func(*schedule.Send) error { n += 10; return nil })
		if n != 10 {
			return fmt.Errorf("sends left: %d, want s2's one (10)", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testScheduleRollback: an UpdateSchedules whose fn fails writes nothing.
func testScheduleRollback(t *testing.T, b Backend) {
	ctx := t.Context()
	r, _ := handles(t, b)
	err := r.UpdateSchedules(ctx, func(tx schedule.Tx) error {
		if err := tx.PutFiring(firing("s1", 1, schedule.Running)); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("UpdateSchedules = %v, want fn's error", err)
	}
	_ = r.ViewSchedules(ctx, func(tx schedule.Tx) error {
		if act, err := tx.Active(); err != nil || len(act) != 0 {
			t.Fatalf("a failed UpdateSchedules left %v, %v", firingIDs(act), err)
		}
		return nil
	})
}

// testScheduleClaimOnce: writers racing to claim one firing (read, then
// write if absent, as claimDue does) claim it once, across handles.
func testScheduleClaimOnce(t *testing.T, b Backend) {
	ctx := t.Context()
	r1, r2 := handles(t, b)
	var mu sync.Mutex
	claims := 0
	race(t, 20, r1, r2, func(i int, r Records) error {
		var mine bool
		err := r.UpdateSchedules(ctx, func(tx schedule.Tx) error {
			mine = false // fn may run twice
			f := firing("s1", 5, schedule.Running)
			old, err := tx.Firing(f.ID)
			if err != nil || old != nil {
				return err
			}
			f.Name = strconv.Itoa(i)
			mine = true
			return tx.PutFiring(f)
		})
		if mine && err == nil {
			mu.Lock()
			claims++
			mu.Unlock()
		}
		return err
	})
	if claims != 1 {
		t.Fatalf("%d claims of one firing, want 1", claims)
	}
}

func testQuarantine(t *testing.T, b Backend) {
	ctx := t.Context()
	r, _ := handles(t, b)
	if items, err := r.Quarantined(ctx, 10); err != nil || len(items) != 0 {
		t.Fatalf("Quarantined on an empty store = %v, %v", items, err)
	}
	var batch []quarantine.Item
	for i := range quarantine.MaxItems + 5 {
		batch = append(batch, quarantine.Item{At: t0, Field: "messages", Reason: "no_id", Detail: strconv.Itoa(i), Item: "{}"})
		if len(batch) == 100 || i == quarantine.MaxItems+4 {
			if err := r.KeepQuarantined(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	items, err := r.Quarantined(ctx, 3)
	if err != nil || len(items) != 3 {
		t.Fatalf("Quarantined(3) = %d items, %v", len(items), err)
	}
	if items[0].Detail != strconv.Itoa(quarantine.MaxItems+4) || items[0].Seq <= items[1].Seq || items[1].Seq <= items[2].Seq {
		t.Fatalf("newest first: %+v", items)
	}
	all, err := r.Quarantined(ctx, 2*quarantine.MaxItems)
	if err != nil || len(all) != quarantine.MaxItems {
		t.Fatalf("kept %d items, %v, want MaxItems (%d)", len(all), err, quarantine.MaxItems)
	}
	if last := all[len(all)-1]; last.Detail != "5" {
		t.Fatalf("oldest kept = %q, want 5 (the first five dropped)", last.Detail)
	}
}

// testQuarantineRace: concurrent keeps get distinct sequence numbers.
func testQuarantineRace(t *testing.T, b Backend) {
	ctx := t.Context()
	r1, r2 := handles(t, b)
	race(t, 20, r1, r2, func(i int, r Records) error {
		return r.KeepQuarantined(ctx, []quarantine.Item{{At: t0, Detail: strconv.Itoa(i)}, {At: t0, Detail: strconv.Itoa(i)}})
	})
	items, err := r1.Quarantined(ctx, 100)
	if err != nil || len(items) != 40 {
		t.Fatalf("Quarantined = %d, %v, want 40", len(items), err)
	}
	seen := map[uint64]bool{}
	for _, it := range items {
		if seen[it.Seq] {
			t.Fatalf("sequence %d given twice", it.Seq)
		}
		seen[it.Seq] = true
	}
}

func testSecrets(t *testing.T, b Backend) {
	ctx := t.Context()
	r, _ := handles(t, b)
	rec := secrets.Record{Name: "api_key", Sealed: []byte{0, 1, 2, 0xff}, Fingerprint: "fp1", CreatedAt: t0, CreatedBy: "a@x.io", UpdatedAt: t0, UpdatedBy: "a@x.io"}
	st, created, err := r.PutSecret(ctx, rec)
	if err != nil || !created || st.Name != "api_key" {
		t.Fatalf("PutSecret = %+v, %v, %v", st, created, err)
	}
	rec2 := rec
	rec2.Sealed, rec2.Fingerprint, rec2.CreatedAt, rec2.CreatedBy, rec2.UpdatedAt, rec2.UpdatedBy = []byte{9}, "fp2", at(60), "b@x.io", at(60), "b@x.io"
	st, created, err = r.PutSecret(ctx, rec2)
	if err != nil || created || !st.CreatedAt.Equal(t0) || st.CreatedBy != "a@x.io" || st.UpdatedBy != "b@x.io" {
		t.Fatalf("PutSecret again = %+v, %v, %v: created kept, updated replaced", st, created, err)
	}
	got, ok, err := r.Secret(ctx, "api_key")
	if err != nil || !ok || string(got.Sealed) != "\x09" || got.Fingerprint != "fp2" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("Secret = %+v, %v, %v", got, ok, err)
	}
	if _, ok, err := r.Secret(ctx, "none"); err != nil || ok {
		t.Fatalf("Secret of none = %v, %v", ok, err)
	}
	if _, _, err := r.PutSecret(ctx, secrets.Record{Name: "a_first", Sealed: []byte{1}, CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	list, err := r.ListSecrets(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "a_first" {
		t.Fatalf("ListSecrets = %+v, %v", list, err)
	}
	if ok, err := r.DeleteSecret(ctx, "api_key"); err != nil || !ok {
		t.Fatalf("DeleteSecret = %v, %v", ok, err)
	}
	if ok, err := r.DeleteSecret(ctx, "api_key"); err != nil || ok {
		t.Fatalf("DeleteSecret again = %v, %v", ok, err)
	}
}

// testRecordsReopen: every role's records survive Close and reopen.
func testRecordsReopen(t *testing.T, b Backend) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "store")
	r := b.Open(t, path)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.PutAgent(ctx, &inbox.Agent{Email: "a@x.io", Status: inbox.Away}))
	must(r.SaveRead(ctx, "conv", 7))
	must(r.UpdateAuth(ctx, func(tx auth.Tx) error { return tx.PutUser(user("a@x.io", auth.Admin)) }))
	must(r.UpdateSchedules(ctx, func(tx schedule.Tx) error { return tx.PutFiring(firing("s1", 1, schedule.Running)) }))
	must(r.KeepQuarantined(ctx, []quarantine.Item{{At: t0, Detail: "x"}}))
	_, _, err := r.PutSecret(ctx, secrets.Record{Name: "k", Sealed: []byte{1}, CreatedAt: t0, UpdatedAt: t0})
	must(err)
	must(r.Close())

	r = openRecords(t, b, path)
	as, err := r.Agents(ctx)
	must(err)
	reads, err := r.Reads(ctx)
	must(err)
	if len(as) != 1 || as[0].Status != inbox.Away || reads["conv"] != 7 {
		t.Fatalf("inbox after reopen: %+v, %v", as, reads)
	}
	must(r.ViewAuth(ctx, func(tx auth.Tx) error {
		if u, err := tx.User("a@x.io"); err != nil || u == nil {
			return fmt.Errorf("user after reopen: %v, %v", u, err)
		}
		return nil
	}))
	must(r.ViewSchedules(ctx, func(tx schedule.Tx) error {
		if act, err := tx.Active(); err != nil || len(act) != 1 {
			return fmt.Errorf("active firings after reopen: %v, %v", firingIDs(act), err)
		}
		return nil
	}))
	if items, err := r.Quarantined(ctx, 5); err != nil || len(items) != 1 {
		t.Fatalf("quarantine after reopen: %v, %v", items, err)
	}
	// The sequence goes on after a reopen: never reused.
	must(r.KeepQuarantined(ctx, []quarantine.Item{{At: t0, Detail: "y"}}))
	if items, _ := r.Quarantined(ctx, 5); len(items) != 2 || items[0].Seq <= items[1].Seq {
		t.Fatalf("quarantine sequence after reopen: %+v", items)
	}
	if _, ok, err := r.Secret(ctx, "k"); err != nil || !ok {
		t.Fatalf("secret after reopen: %v, %v", ok, err)
	}
}

func firingIDs(fs []*schedule.Firing) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}
