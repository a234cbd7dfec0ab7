package boltstore

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Helpers for the subsystems' records (inbox.go, auth.go, schedule.go,
// quarantine.go): JSON values in buckets of their own, created on first
// write; a bucket never created reads as empty.

// getJSON decodes the value of key in bucket, nil when there is none.
func getJSON[T any](tx *bolt.Tx, bucket, key []byte) (*T, error) {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil, nil
	}
	v := b.Get(key)
	if v == nil {
		return nil, nil
	}
	x := new(T)
	if err := json.Unmarshal(v, x); err != nil {
		return nil, fmt.Errorf("decoding %s/%q: %w", bucket, key, err)
	}
	return x, nil
}

// putJSON stores v as JSON under key in bucket, creating the bucket.
func putJSON(tx *bolt.Tx, bucket, key []byte, v any) error {
	b, err := tx.CreateBucketIfNotExists(bucket)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucket, err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s/%q: %w", bucket, key, err)
	}
	return b.Put(key, data)
}

// deleteKey deletes key from bucket, reporting whether it was there.
func deleteKey(tx *bolt.Tx, bucket, key []byte) (bool, error) {
	b := tx.Bucket(bucket)
	if b == nil || b.Get(key) == nil {
		return false, nil
	}
	return true, b.Delete(key)
}

// eachJSON decodes every value of bucket, in key order, and calls fn.
func eachJSON[T any](tx *bolt.Tx, bucket []byte, fn func(k []byte, v *T) error) error {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		x := new(T)
		if err := json.Unmarshal(v, x); err != nil {
			return fmt.Errorf("decoding %s/%q: %w", bucket, k, err)
		}
		return fn(k, x)
	})
}

// allJSON decodes every value of bucket, in key order.
func allJSON[T any](tx *bolt.Tx, bucket []byte) ([]*T, error) {
	out := []*T{}
	err := eachJSON(tx, bucket, func(_ []byte, v *T) error {
		out = append(out, v)
		return nil
	})
	return out, err
}

// deleteWhere deletes the records of bucket for which match holds. Keys
// are collected first: bbolt forbids changing a bucket during ForEach.
func deleteWhere[T any](tx *bolt.Tx, bucket []byte, match func(*T) bool) (int, error) {
	var keys [][]byte
	if err := eachJSON(tx, bucket, func(k []byte, v *T) error {
		if match(v) {
			keys = append(keys, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := tx.Bucket(bucket).Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
