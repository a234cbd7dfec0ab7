package boltstore

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// filledFile writes a data file with enough records that contact_data has
// a branch page over several leaves, closes it and returns its path.
func filledFile(t *testing.T) string {
	t.Helper()
	s, path := openTest(t)
	for i := range 300 {
		if err := s.Commit(t.Context(), change(fmt.Sprint("wamid.", i), i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// dataPages returns the page size and pages of contact_data's tree: its
// root, which must be a branch page, and its first leaf (the root's first
// child, or that child's first child, ...).
func dataPages(t *testing.T, path string) (pageSize int64, branch, leaf uint64) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		branch = uint64(tx.Bucket(bucketData).RootPage())
		if info, err := tx.Page(int(branch)); err != nil || info.Type != "branch" {
			return fmt.Errorf("contact_data's root is %+v, %v: want a branch page", info, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pageSize = int64(db.Info().PageSize)
	leaf = branch
	for {
		b := readAt(t, path, int64(leaf)*pageSize+pageHeaderSize, elementSize)
		leaf = native.Uint64(b[8:])
		if err := db.View(func(tx *bolt.Tx) error {
			info, err := tx.Page(int(leaf))
			if err == nil && info.Type != "branch" {
				err = errLeaf
			}
			return err
		}); err == errLeaf {
			return pageSize, branch, leaf
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

var errLeaf = errors.New("a leaf")

func readAt(t *testing.T, path string, off int64, n int) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

func writeAt(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func u32(v uint32) []byte { return native.AppendUint32(nil, v) }

// Open refuses every damaged file with ErrDamaged and a message that says
// what is wrong and what to do, without a panic (a fault in one of bbolt's
// goroutines would kill the test binary), and writes nothing to it.
func TestOpenRefusesDamagedFiles(t *testing.T) {
	elem := func(page uint64, ps int64) int64 { return int64(page)*ps + pageHeaderSize }
	cases := []struct {
		name   string
		damage func(t *testing.T, path string)
		want   string
	}{
		{"empty file", func(t *testing.T, path string) {
			os.Truncate(path, 0)
		}, "is empty (0 bytes)"},
		{"truncated to half", func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			os.Truncate(path, fi.Size()/2)
		}, "is truncated"},
		{"cut inside the second meta page", func(t *testing.T, path string) {
			os.Truncate(path, 5000)
		}, "is truncated"},
		{"not a bbolt file", func(t *testing.T, path string) {
			os.WriteFile(path, bytes.Repeat([]byte("not a database\n"), 5000), 0o600)
		}, "no bbolt magic number"},
		{"both meta pages damaged", func(t *testing.T, path string) {
			ps, _, _ := dataPages(t, path)
			writeAt(t, path, pageHeaderSize, u32(0xBADC0DE))
			writeAt(t, path, ps+pageHeaderSize, u32(0xBADC0DE))
		}, "is not a readable bbolt file"},
		{"garbage over a branch page", func(t *testing.T, path string) {
			ps, branch, _ := dataPages(t, path)
			junk := make([]byte, ps)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range junk {
				junk[i] = byte(r.Uint32())
			}
			writeAt(t, path, int64(branch)*ps, junk)
		}, "has a damaged page"},
		{"a child past the end", func(t *testing.T, path string) {
			ps, branch, _ := dataPages(t, path)
			writeAt(t, path, elem(branch, ps)+8, native.AppendUint64(nil, 1<<40))
		}, "out of bounds"},
		{"a page referenced twice", func(t *testing.T, path string) {
			ps, branch, leaf := dataPages(t, path)
			writeAt(t, path, elem(branch, ps)+elementSize+8, native.AppendUint64(nil, leaf))
		}, "referenced twice"},
		{"a key running past its page", func(t *testing.T, path string) {
			ps, _, leaf := dataPages(t, path)
			writeAt(t, path, elem(leaf, ps)+8, u32(1<<20))
		}, "out of the page"},
		{"keys out of order", func(t *testing.T, path string) {
			ps, _, leaf := dataPages(t, path)
			pos := native.Uint32(readAt(t, path, elem(leaf, ps)+4, 4))
			writeAt(t, path, elem(leaf, ps)+int64(pos), []byte{0x00}) // below its parent's key
		}, "key 0 lies outside the range its parent gives"},
		{"a bbolt file of another program", func(t *testing.T, path string) {
			os.Remove(path)
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			db.Update(func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("users"))
				return err
			})
			db.Close()
		}, "is not a Parley data file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filledFile(t)
			tc.damage(t, path)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the file is let go of: refused again, not locked
				s, err := Open(path)
				if err == nil {
					s.Close()
					t.Fatal("Open accepted the damaged file")
				}
				if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "parley backup") {
					t.Fatalf("Open: %v\nwant ErrDamaged saying %q and how to restore", err, tc.want)
				}
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("Open wrote to the refused file")
			}
		})
	}
}

// Sound files open: a new one, one with data, and one whose newer meta
// page is damaged, which bbolt reads at its previous transaction.
func TestOpenAcceptsSoundFiles(t *testing.T) {
	cases := []struct {
		name string
		make func(t *testing.T) string
	}{
		{"no file yet", func(t *testing.T) string { return filepath.Join(t.TempDir(), "parley.db") }},
		{"a file with data", filledFile},
		{"a damaged newer meta page", func(t *testing.T) string {
			path := filledFile(t)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			m0, err0 := readMeta(f, 0)
			m1, err1 := readMeta(f, int64(m0.pageSize))
			f.Close()
			if err0 != nil || err1 != nil {
				t.Fatal(err0, err1)
			}
			off := int64(0)
			if m1.txid > m0.txid {
				off = int64(m0.pageSize)
			}
			writeAt(t, path, off+pageHeaderSize+48, []byte{0xFF}) // the txid: the checksum fails
			return path
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(tc.make(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Above fullCheckSize, Open checks the meta pages and the bucket roots
// only: a damaged leaf deeper in does not stop a start (Check and
// CheckFile find it), a damaged bucket root does.
func TestOpenChecksBucketRootsOfALargeFile(t *testing.T) {
	defer func(n int64) { fullCheckSize = n }(fullCheckSize)
	fullCheckSize = 1
	elem := func(page uint64, ps int64) int64 { return int64(page)*ps + pageHeaderSize }

	path := filledFile(t)
	ps, _, leaf := dataPages(t, path)
	writeAt(t, path, elem(leaf, ps)+8, u32(1<<20)) // a key running past its leaf
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a large file damaged below its bucket roots: %v", err)
	}
	s.Close()
	if err := CheckFile(path); !errors.Is(err, ErrDamaged) {
		t.Errorf("CheckFile: %v, want ErrDamaged", err)
	}
	if _, err := Check(path); !errors.Is(err, ErrDamaged) {
		t.Errorf("Check: %v, want ErrDamaged", err)
	}

	path = filledFile(t)
	ps, branch, _ := dataPages(t, path)
	writeAt(t, path, elem(branch, ps)+8, native.AppendUint64(nil, 1<<40)) // contact_data's root names a page past the end
	if _, err := Open(path); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "out of bounds") {
		t.Errorf("Open of a large file with a damaged bucket root: %v, want ErrDamaged (out of bounds)", err)
	}
}
