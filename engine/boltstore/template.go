package boltstore

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// SaveTemplates stores template records in one transaction, each replacing
// the record of its WABA, name and language (a record without a WABA, of
// the default one, under its name and language alone, as before several
// WABAs). Records are encoded by the caller's
// goroutine; a record without a name or language, or with a NUL byte in
// either, refuses the whole call.
func (s *Store) SaveTemplates(ctx context.Context, rs []model.TemplateRecord) error {
	w := &templateSave{keys: make([][]byte, len(rs)), vals: make([][]byte, len(rs))}
	for i := range rs {
		r := &rs[i]
		if err := checkID("template name", r.Name); err != nil {
			return err
		}
		if err := checkID("template language", r.Language); err != nil {
			return fmt.Errorf("%w (template %s)", err, r.Name)
		}
		v, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("boltstore: template %s/%s: %w", r.Name, r.Language, err)
		}
		if err := checkID("template WABA", r.WABAID); r.WABAID != "" && err != nil {
			return fmt.Errorf("%w (template %s)", err, r.Name)
		}
		w.keys[i], w.vals[i] = templateKey(r.Name, r.Language), v
		if r.WABAID != "" {
			w.keys[i] = wabaTemplateKey(r.WABAID, r.Name, r.Language)
		}
	}
	return s.do(ctx, w)
}

type templateSave struct{ keys, vals [][]byte }

func (w *templateSave) check(*txn) error { return nil }

func (w *templateSave) apply(t *txn) error {
	for i, k := range w.keys {
		if err := t.templates.Put(k, w.vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// Templates lists every template record: the default WABA's by name then
// language, and the other WABAs' among them (the bucket's key order).
func (s *Store) Templates(ctx context.Context) ([]model.TemplateRecord, error) {
	var out []model.TemplateRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTemplates).ForEach(func(k, v []byte) error {
			var r model.TemplateRecord
			if err := decode(v, &r, "template", string(k)); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}
