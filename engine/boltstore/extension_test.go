package boltstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/boltstore"
)

func TestUpdateAndView(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	bucket := []byte("test_things")
	err = s.Update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		return b.Put([]byte("k"), []byte("v"))
	})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = s.Update(ctx, func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucket).Put([]byte("k"), []byte("lost")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the fn's error", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got string
	err = s.View(ctx, func(tx *bolt.Tx) error {
		got = string(tx.Bucket(bucket).Get([]byte("k")))
		if tx.Bucket([]byte("test_never_made")) != nil {
			t.Error("a bucket never created is not nil")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != "v" {
		t.Fatalf("after reopen k = %q, want v: a failed Update must write nothing", got)
	}
}
