package boltstore

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// WriteBackup writes a consistent copy of the whole data file to w: the
// file as of one read transaction, which writes committed meanwhile do not
// change. The copy is a data file Open takes as it is. It returns the
// bytes written.
//
// The read transaction lasts until the copy is written, and bbolt cannot
// grow its memory map while one is open: a writer that needs to waits. So
// w should be fast (a local file), not a slow network peer.
func (s *Store) WriteBackup(ctx context.Context, w io.Writer) (n int64, err error) {
	err = s.view(ctx, func(tx *bolt.Tx) error {
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("boltstore: backup: %w", err)
	}
	return n, nil
}

// BackupFile writes a backup to the file at path, replacing it: into a
// temporary file beside it, synced, checked as Open checks a data file
// (CheckFile), then renamed, so path holds either a whole, sound backup or
// what it held before. It returns the backup's size.
func (s *Store) BackupFile(ctx context.Context, path string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, fmt.Errorf("boltstore: backup: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is none
	n, err := s.WriteBackup(ctx, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = CheckFile(tmp.Name())
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("boltstore: backup to %s: %w", path, err)
	}
	return n, nil
}
