package secrets_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/secrets"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

const value = "sk_live_7Hq2-very-secret-token-value"

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"shop_token", true},
		{"api2", true},
		{"a_1_b", true},
		{strings.Repeat("x", 64), true},
		{"", false},
		{strings.Repeat("x", 65), false},
		{"Shop", false},
		{"1token", false},
		{"_token", false},
		{"shop-token", false},
		{"shop.token", false},
		{"shop token", false},
		{"tökén", false},
	} {
		err := secrets.ValidName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidName(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, secrets.ErrInvalid) {
			t.Errorf("ValidName(%q) = %v, not ErrInvalid", tc.name, err)
		}
	}
}

// world is a Store over a real data file, with its key.
type world struct {
	path  string
	db    *boltstore.Store
	key   []byte
	clock *engine.ManualClock
	s     *secrets.Store
}

func newWorld(t *testing.T, key []byte) *world {
	t.Helper()
	w := &world{path: filepath.Join(t.TempDir(), "parley.db"), key: key, clock: engine.NewManualClock(t0)}
	var err error
	if w.db, err = boltstore.Open(w.path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.db.Close() })
	if w.s, err = secrets.New(w.db, key, w.clock.Now); err != nil {
		t.Fatal(err)
	}
	return w
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, secrets.KeySize) }

func TestRoundTrip(t *testing.T) {
	w := newWorld(t, testKey(1))
	ctx := t.Context()
	in, created, err := w.s.Put(ctx, "shop_token", value, "ann@example.com")
	if err != nil || !created {
		t.Fatalf("Put = %v, created %v", err, created)
	}
	if len(in.Fingerprint) != 8 || strings.Contains(value, in.Fingerprint) {
		t.Errorf("fingerprint %q", in.Fingerprint)
	}
	got, err := w.s.Resolve(ctx, "shop_token")
	if err != nil || got != value {
		t.Fatalf("Resolve = %q, %v", got, err)
	}

	// Replacing keeps who made it and when; the fingerprint follows the value.
	w.clock.Set(t0.Add(time.Hour))
	again, created, err := w.s.Put(ctx, "shop_token", value+"2", "bob@example.com")
	if err != nil || created {
		t.Fatalf("Put again = %v, created %v", err, created)
	}
	if !again.CreatedAt.Equal(t0) || again.CreatedBy != "ann@example.com" || !again.UpdatedAt.Equal(t0.Add(time.Hour)) || again.UpdatedBy != "bob@example.com" {
		t.Errorf("replaced: %+v", again)
	}
	if again.Fingerprint == in.Fingerprint {
		t.Error("another value, the same fingerprint")
	}
	// The same value gives the same fingerprint (under the same key), and
	// another key another one.
	other := newWorld(t, testKey(1))
	same, _, _ := other.s.Put(ctx, "x", value, "c")
	if same.Fingerprint != in.Fingerprint {
		t.Errorf("same value and key: fingerprints %q and %q", same.Fingerprint, in.Fingerprint)
	}
	third := newWorld(t, testKey(2))
	diff, _, _ := third.s.Put(ctx, "x", value, "c")
	if diff.Fingerprint == in.Fingerprint {
		t.Error("another key, the same fingerprint")
	}

	if _, _, err := w.s.Put(ctx, "b_token", "b", "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	list, err := w.s.List(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "b_token" || list[1].Name != "shop_token" {
		t.Fatalf("List = %+v, %v", list, err)
	}

	// Survives a reopen of the file.
	w.db.Close()
	db, err := boltstore.Open(w.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s2, _ := secrets.New(db, w.key, nil)
	if got, err := s2.Resolve(ctx, "shop_token"); err != nil || got != value+"2" {
		t.Fatalf("after reopen: %q, %v", got, err)
	}
	if err := s2.Delete(ctx, "shop_token"); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Resolve(ctx, "shop_token"); !errors.Is(err, secrets.ErrSecretNotFound) {
		t.Errorf("Resolve deleted = %v", err)
	}
	if err := s2.Delete(ctx, "shop_token"); !errors.Is(err, secrets.ErrSecretNotFound) {
		t.Errorf("Delete deleted = %v", err)
	}
}

func TestPutRefuses(t *testing.T) {
	w := newWorld(t, testKey(1))
	for _, tc := range []struct{ desc, name, value string }{
		{"bad name", "Shop", "v"},
		{"empty value", "shop", ""},
		{"value too long", "shop", strings.Repeat("v", secrets.MaxValueLen+1)},
	} {
		_, _, err := w.s.Put(t.Context(), tc.name, tc.value, "a")
		if !errors.Is(err, secrets.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.desc, err)
		}
	}
	if _, _, err := w.s.Put(t.Context(), "shop", strings.Repeat("v", secrets.MaxValueLen), "a"); err != nil {
		t.Errorf("a value at the limit: %v", err)
	}
}

// TestAtRest: the data file holds no byte sequence of the value, and a
// store with another key fails clearly, naming the secret, never the value.
func TestAtRest(t *testing.T) {
	w := newWorld(t, testKey(1))
	ctx := t.Context()
	if _, _, err := w.s.Put(ctx, "shop_token", value, "ann"); err != nil {
		t.Fatal(err)
	}
	w.db.Close()
	raw, err := os.ReadFile(w.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{value, value[4:20], base64.StdEncoding.EncodeToString([]byte(value))} {
		if bytes.Contains(raw, []byte(form)) {
			t.Errorf("the data file holds %q", form)
		}
	}
	if !bytes.Contains(raw, []byte("shop_token")) {
		t.Fatal("the data file does not hold the name: is this the right file?")
	}

	db, err := boltstore.Open(w.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	wrong, _ := secrets.New(db, testKey(2), nil)
	_, err = wrong.Resolve(ctx, "shop_token")
	if err == nil || errors.Is(err, secrets.ErrSecretNotFound) {
		t.Fatalf("Resolve with another key = %v", err)
	}
	if !strings.Contains(err.Error(), `"shop_token" cannot be decrypted`) || strings.Contains(err.Error(), value) {
		t.Errorf("the error: %v", err)
	}
	// A sealed value moved to another name does not open either.
	r, _, _ := db.Secret(ctx, "shop_token")
	r.Name = "other"
	if _, _, err := db.PutSecret(ctx, r); err != nil {
		t.Fatal(err)
	}
	right, _ := secrets.New(db, testKey(1), nil)
	if _, err := right.Resolve(ctx, "other"); err == nil {
		t.Error("a sealed value opened under another name")
	}
}

func TestLoadKey(t *testing.T) {
	noEnv := func(string) string { return "" }
	dir := t.TempDir()
	key, src, err := secrets.LoadKey(dir, noEnv)
	if err != nil || src != secrets.FromNewFile || len(key) != secrets.KeySize {
		t.Fatalf("first LoadKey = %d bytes, %s, %v", len(key), src, err)
	}
	fi, err := os.Stat(filepath.Join(dir, secrets.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %o, want 600", perm)
	}
	again, src, err := secrets.LoadKey(dir, noEnv)
	if err != nil || src != secrets.FromFile || !bytes.Equal(again, key) {
		t.Fatalf("second LoadKey = %s, %v, same %v", src, err, bytes.Equal(again, key))
	}

	envKey := testKey(7)
	env := func(name string) string {
		if name == secrets.KeyEnv {
			return base64.StdEncoding.EncodeToString(envKey)
		}
		return ""
	}
	empty := t.TempDir()
	got, src, err := secrets.LoadKey(empty, env)
	if err != nil || src != secrets.FromEnv || !bytes.Equal(got, envKey) {
		t.Fatalf("LoadKey from env = %s, %v", src, err)
	}
	if _, err := os.Stat(filepath.Join(empty, secrets.KeyFile)); err == nil {
		t.Error("a key file was made though the key is in the environment")
	}

	for _, bad := range []string{"not base64 !!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		_, _, err := secrets.LoadKey(empty, func(string) string { return bad })
		if err == nil || !strings.Contains(err.Error(), secrets.KeyEnv) {
			t.Errorf("LoadKey with %s=%q: %v", secrets.KeyEnv, bad, err)
		}
	}
}

// TestLoadKeyRace: serves starting at once on one data directory all end
// up with the one key written, never a half-written file.
func TestLoadKeyRace(t *testing.T) {
	dir := t.TempDir()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			key, _, err := secrets.LoadKey(dir, func(string) string { return "" })
			if err != nil {
				t.Error(err)
			}
			keys[i] = key
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("two keys for one directory")
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
