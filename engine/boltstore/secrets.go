package boltstore

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/secrets"
)

// bucketSecrets keeps the secrets (secrets.Records): name → secrets.Record
// as JSON, its value sealed by the secrets package before it comes here.
var bucketSecrets = []byte("secrets_values")

var _ secrets.Records = (*Store)(nil)

// PutSecret stores r, keeping the stored creation time and author of a
// name stored already (secrets.Records).
func (s *Store) PutSecret(ctx context.Context, r secrets.Record) (secrets.Record, bool, error) {
	var created bool
	var stored secrets.Record
	err := s.Update(ctx, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketSecrets)
		if err != nil {
			return err
		}
		rec := r
		created = true
		if v := b.Get([]byte(r.Name)); v != nil {
			var old secrets.Record
			if err := json.Unmarshal(v, &old); err != nil {
				return fmt.Errorf("secret %q: %w", r.Name, err)
			}
			rec.CreatedAt, rec.CreatedBy = old.CreatedAt, old.CreatedBy
			created = false
		}
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		stored = rec
		return b.Put([]byte(r.Name), v)
	})
	return stored, created, err
}

// Secret returns the record of name (secrets.Records).
func (s *Store) Secret(ctx context.Context, name string) (secrets.Record, bool, error) {
	var r secrets.Record
	var ok bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSecrets)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(name))
		if v == nil {
			return nil
		}
		ok = true
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("secret %q: %w", name, err)
		}
		return nil
	})
	return r, ok, err
}

// ListSecrets returns every record, by name (secrets.Records).
func (s *Store) ListSecrets(ctx context.Context) ([]secrets.Record, error) {
	out := []secrets.Record{}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSecrets)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var r secrets.Record
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("secret %q: %w", k, err)
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// DeleteSecret deletes name (secrets.Records).
func (s *Store) DeleteSecret(ctx context.Context, name string) (bool, error) {
	var ok bool
	err := s.Update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSecrets)
		ok = b != nil && b.Get([]byte(name)) != nil
		if !ok {
			return nil
		}
		return b.Delete([]byte(name))
	})
	return ok, err
}
