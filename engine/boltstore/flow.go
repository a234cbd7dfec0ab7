package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// SaveFlow stores a flow record: its name, draft and archived flag.
// Published belongs to Publish: SaveFlow keeps the stored latest version
// whatever r.Published says, so a record read before a publish cannot
// take it back. r is not modified.
func (s *Store) SaveFlow(ctx context.Context, r *model.FlowRecord) error {
	if r == nil {
		return fmt.Errorf("boltstore: nil flow record")
	}
	if err := checkID("flow id", r.ID); err != nil {
		return err
	}
	rec := *r
	return s.do(ctx, &flowSave{rec: &rec})
}

type flowSave struct{ rec *model.FlowRecord }

func (w *flowSave) check(*txn) error { return nil }

func (w *flowSave) apply(t *txn) error {
	w.rec.Published = lastVersion(t.flowsVers, w.rec.ID)
	v, err := json.Marshal(w.rec)
	if err != nil {
		return fmt.Errorf("boltstore: flow %s: %w", w.rec.ID, err)
	}
	return t.flows.Put([]byte(w.rec.ID), v)
}

// Publish stores doc as version last + 1 of flow id, atomically with
// respect to other publishes, and sets the record's Published to it. A
// flow without a record gets one, with doc as its draft. Versions are
// never rewritten.
func (s *Store) Publish(ctx context.Context, id string, doc []byte, by string, at time.Time) (*model.FlowVersion, error) {
	return s.PublishNoted(ctx, id, doc, by, "", at)
}

// PublishNoted is Publish with the publisher's note, kept in the version
// (model.VersionNoter).
func (s *Store) PublishNoted(ctx context.Context, id string, doc []byte, by, note string, at time.Time) (*model.FlowVersion, error) {
	if err := checkID("flow id", id); err != nil {
		return nil, err
	}
	w := &flowPublish{v: model.FlowVersion{Flow: id, Doc: bytes.Clone(doc), PublishedAt: at, PublishedBy: by, Note: note}}
	if err := s.do(ctx, w); err != nil {
		return nil, err
	}
	v := w.v
	return &v, nil
}

type flowPublish struct{ v model.FlowVersion }

func (w *flowPublish) check(t *txn) error {
	if lastVersion(t.flowsVers, w.v.Flow) == math.MaxUint32 {
		return fmt.Errorf("boltstore: flow %s has no version number left", w.v.Flow)
	}
	return nil
}

func (w *flowPublish) apply(t *txn) error {
	id := w.v.Flow
	w.v.Version = lastVersion(t.flowsVers, id) + 1
	v, err := json.Marshal(&w.v)
	if err != nil {
		return fmt.Errorf("boltstore: flow %s version %d: %w", id, w.v.Version, err)
	}
	if err := t.flowsVers.Put(versionKey(id, w.v.Version), v); err != nil {
		return err
	}
	rec := model.FlowRecord{ID: id, Draft: w.v.Doc, DraftAt: w.v.PublishedAt, DraftBy: w.v.PublishedBy}
	if old := t.flows.Get([]byte(id)); old != nil {
		rec = model.FlowRecord{}
		if err := decode(old, &rec, "flow", id); err != nil {
			return err
		}
	}
	rec.Published = w.v.Version
	r, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("boltstore: flow %s: %w", id, err)
	}
	return t.flows.Put([]byte(id), r)
}

// lastVersion returns the flow's latest version, 0 if none: the last key
// of its range in flow_versions.
func lastVersion(b *bolt.Bucket, id string) int {
	p := prefix(id)
	c := b.Cursor()
	// The first key after the flow's range is at or after id + (sep+1).
	end := append([]byte(id), sep+1)
	k, _ := c.Seek(end)
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, p) || len(k) != len(p)+4 {
		return 0
	}
	return int(binary.BigEndian.Uint32(k[len(p):]))
}

// Flow returns a flow record, or model.ErrNotFound.
func (s *Store) Flow(ctx context.Context, id string) (*model.FlowRecord, error) {
	var r model.FlowRecord
	if err := s.get(ctx, bucketFlows, []byte(id), &r, "flow", id); err != nil {
		return nil, err
	}
	return &r, nil
}

// Flows lists every flow record, by id.
func (s *Store) Flows(ctx context.Context) ([]*model.FlowRecord, error) {
	var out []*model.FlowRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFlows).ForEach(func(k, v []byte) error {
			r := &model.FlowRecord{}
			if err := decode(v, r, "flow", string(k)); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

// FlowVersion returns one published version, or model.ErrNotFound.
func (s *Store) FlowVersion(ctx context.Context, id string, version int) (*model.FlowVersion, error) {
	if checkID("flow id", id) != nil || version < 1 || version > math.MaxUint32 {
		return nil, fmt.Errorf("boltstore: flow %q version %d: %w", id, version, model.ErrNotFound)
	}
	var v model.FlowVersion
	if err := s.get(ctx, bucketFlowVersions, versionKey(id, version), &v, "flow version", fmt.Sprintf("%s v%d", id, version)); err != nil {
		return nil, err
	}
	return &v, nil
}

// FlowVersions lists a flow's versions, oldest first; none (and no error)
// for an unknown flow.
func (s *Store) FlowVersions(ctx context.Context, id string) ([]*model.FlowVersion, error) {
	if err := checkID("flow id", id); err != nil {
		return nil, err
	}
	p := prefix(id)
	var out []*model.FlowVersion
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFlowVersions).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			fv := &model.FlowVersion{}
			if err := decode(v, fv, "flow version", fmt.Sprintf("%s v%d", id, binary.BigEndian.Uint32(k[len(p):]))); err != nil {
				return err
			}
			out = append(out, fv)
		}
		return nil
	})
	return out, err
}
