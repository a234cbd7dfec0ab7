package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// ErrDamaged is returned (wrapped, with what is wrong and what to do) by
// Open for a data file Parley must not start on: empty (0 bytes), cut
// short, not a bbolt file, a page that does not hold together, or a bbolt
// file of another program. Starting on it would either crash, or start an
// empty instance over data that was there (first-admin sign-up open
// again): so it is refused, and nothing is written to it.
var ErrDamaged = errors.New("boltstore: the data file is damaged")

// restoreHint is the next step a refusal names.
const restoreHint = "restore the file from a backup (`parley backup` makes one), or move it aside to start an empty instance"

// damaged is the error of Open for a file refused by the start-up check.
func damaged(path, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s; %s", ErrDamaged, path, fmt.Sprintf(format, args...), restoreHint)
}

// The on-disk format of bbolt version 2, which checkFile reads itself
// (bbolt keeps these in an internal package). Its structures are written in
// the machine's byte order.
const (
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	pageHeaderSize  = 16 // id u64, flags u16, count u16, overflow u32
	elementSize     = 16 // leaf: flags, pos, ksize, vsize u32; branch: pos, ksize u32, pgid u64
	metaSize        = 64 // magic, version, page size, flags u32; root, sequence, freelist, pgid, txid, checksum u64
	bucketValueSize = 16 // root pgid u64, sequence u64; an inline bucket's page follows
	branchPage      = 0x01
	leafPage        = 0x02
	metaPage        = 0x04
	freelistPage    = 0x10
	bucketLeaf      = 0x01 // a leaf element that is a bucket
	noFreelist      = ^uint64(0)
)

var native = binary.NativeEndian

// boltMeta is what checkFile needs of a meta page.
type boltMeta struct {
	pageSize                  uint32
	root, freelist, hwm, txid uint64
}

// readMeta reads and validates the meta page at off: magic, version and
// checksum, as bbolt does before it trusts one.
func readMeta(f io.ReaderAt, off int64) (boltMeta, error) {
	b := make([]byte, pageHeaderSize+metaSize)
	if _, err := f.ReadAt(b, off); err != nil {
		return boltMeta{}, err
	}
	m := b[pageHeaderSize:]
	switch {
	case native.Uint32(m[0:]) != boltMagic:
		return boltMeta{}, errors.New("no bbolt magic number")
	case native.Uint32(m[4:]) != boltVersion:
		return boltMeta{}, fmt.Errorf("bbolt format version %d, not %d", native.Uint32(m[4:]), boltVersion)
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != native.Uint64(m[56:]) {
		return boltMeta{}, errors.New("meta page checksum mismatch")
	}
	if ps := native.Uint32(m[8:]); ps < 512 || ps&(ps-1) != 0 {
		return boltMeta{}, fmt.Errorf("page size %d", ps)
	}
	return boltMeta{
		pageSize: native.Uint32(m[8:]),
		root:     native.Uint64(m[16:]),
		freelist: native.Uint64(m[32:]),
		hwm:      native.Uint64(m[40:]),
		txid:     native.Uint64(m[48:]),
	}, nil
}

// checkFile is Open's start-up check of the file at path, before bbolt maps
// it: bbolt trusts the file and, on a damaged one, faults (a truncated file
// read through the map: SIGBUS) or panics in goroutines of its own, which
// no recover reaches. checkFile reads with ordinary reads, bounds every
// offset, and returns ErrDamaged for:
//
//   - a file of 0 bytes (a new data directory has no file at all);
//   - no valid meta page (bbolt's magic, version and checksum), and so
//     neither a bbolt file nor one whose header survived;
//   - a file shorter than its meta page's high-water mark (cut short);
//   - a page of the tree that is out of bounds, referenced twice, not the
//     page its parent names, of the wrong type, with elements outside it,
//     or with keys out of order: bbolt's own consistency rules (tx.Check).
//
// A file of up to fullCheckSize bytes has every page the tree reaches
// read once. A larger one has its meta pages, size, freelist page, the
// root bucket and the root page of every bucket checked, a few pages
// whatever its size: start-up must not read the history (a 4.7 GB file
// with a cold page cache took 80 s to walk), and a damaged page deeper in
// is what `parley check` (Check) finds. A missing file is not an error:
// Open creates it, and does not check a file it created.
func checkFile(f *os.File, path string) error {
	return checkFileDepth(f, path, startCheckDepth(f))
}

// fullCheckSize is the largest file Open's check walks whole: about a
// second of reading with a cold page cache on a slow disk.
var fullCheckSize int64 = 64 << 20 // a variable for the tests

// startCheckDepth is how deep Open's check walks a file: every page of a
// small one, the bucket roots of a large one.
func startCheckDepth(f *os.File) int {
	if fi, err := f.Stat(); err == nil && fi.Size() > fullCheckSize {
		return 1
	}
	return unlimitedDepth
}

const unlimitedDepth = int(^uint(0) >> 1)

// checkFileDepth is checkFile reading pages down to depth: 0 is the root
// bucket's root page, 1 each bucket's root page, and so on down.
func checkFileDepth(f *os.File, path string, depth int) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	size := fi.Size()
	if size == 0 {
		return damaged(path, "is empty (0 bytes): a Parley data file never is, and starting on it would start an empty instance")
	}
	meta, err := chooseMeta(f, size)
	if err != nil {
		return damaged(path, "is not a readable bbolt file (%v)", err)
	}
	ps := int64(meta.pageSize)
	if want := int64(meta.hwm) * ps; meta.hwm > uint64(size/ps) || size < want {
		return damaged(path, "is truncated: %d bytes, where its header says %d pages of %d bytes", size, meta.hwm, ps)
	}
	w := &walker{f: f, pageSize: ps, hwm: meta.hwm, seen: make([]uint64, (meta.hwm+63)/64), buf: make([]byte, ps), maxDepth: depth}
	w.mark(0)
	w.mark(1)
	if err := w.freelist(meta.freelist); err != nil {
		return damaged(path, "has a damaged page: %v", err)
	}
	if err := w.tree(meta.root, nil, nil, 0); err != nil {
		return damaged(path, "has a damaged page: %v", err)
	}
	return nil
}

// chooseMeta picks the meta page bbolt would: of the two, the valid one with
// the higher transaction id. The second sits one page in, and the page size
// is in the first: when that one is damaged, the usual sizes are tried.
func chooseMeta(f io.ReaderAt, size int64) (boltMeta, error) {
	m0, err0 := readMeta(f, 0)
	var m1 boltMeta
	err1 := errors.New("no second meta page")
	sizes := []int64{4096, 8192, 16384, 32768, 65536, int64(os.Getpagesize())}
	if err0 == nil {
		sizes = []int64{int64(m0.pageSize)}
	}
	for _, ps := range sizes {
		if ps < pageHeaderSize+metaSize || size < 2*ps {
			continue
		}
		if m, err := readMeta(f, ps); err == nil && int64(m.pageSize) == ps {
			m1, err1 = m, nil
			break
		} else if err != nil && err0 == nil {
			err1 = err
		}
	}
	switch {
	case err0 == nil && err1 == nil:
		if m1.txid > m0.txid {
			return m1, nil
		}
		return m0, nil
	case err0 == nil:
		return m0, nil
	case err1 == nil:
		return m1, nil
	}
	return boltMeta{}, err0
}

// walker walks a bbolt file's tree with bounded reads.
type walker struct {
	f        io.ReaderAt
	pageSize int64
	hwm      uint64   // pages below it are the file's
	seen     []uint64 // a bit per page: reached already
	buf      []byte   // the page read last: page's result, valid until its next call
	maxDepth int      // pages deeper are not read (tree)
}

// mark records page id as reached and reports whether it was already.
func (w *walker) mark(id uint64) bool {
	word, bit := id/64, uint64(1)<<(id%64)
	was := w.seen[word]&bit != 0
	w.seen[word] |= bit
	return was
}

// page reads page id, overflow pages included, after checking that it lies
// below the high-water mark, is reached for the first time, names itself
// and has one of the flags in want. The page is in w.buf: the next call
// overwrites it.
func (w *walker) page(id uint64, want uint16) ([]byte, error) {
	if id < 2 || id >= w.hwm {
		return nil, fmt.Errorf("page %d: out of bounds (the file has %d)", id, w.hwm)
	}
	b := w.buf[:w.pageSize]
	if _, err := w.f.ReadAt(b, int64(id)*w.pageSize); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	if got := native.Uint64(b); got != id {
		return nil, fmt.Errorf("page %d: its header says page %d", id, got)
	}
	if flags := native.Uint16(b[8:]); flags&want == 0 || flags&(flags-1) != 0 {
		return nil, fmt.Errorf("page %d: unexpected page type (flags %#x)", id, flags)
	}
	overflow := uint64(native.Uint32(b[12:]))
	if overflow >= w.hwm-id {
		return nil, fmt.Errorf("page %d: %d overflow pages run past the end", id, overflow)
	}
	for i := id; i <= id+overflow; i++ {
		if w.mark(i) {
			return nil, fmt.Errorf("page %d: referenced twice", i)
		}
	}
	if overflow > 0 {
		b = append(b, make([]byte, int64(overflow)*w.pageSize)...)
		w.buf = b
		if _, err := w.f.ReadAt(b[w.pageSize:], int64(id+1)*w.pageSize); err != nil {
			return nil, fmt.Errorf("page %d: %w", id, err)
		}
	}
	return b, nil
}

// freelist checks a freelist page, when the file has one: every id it
// lists lies inside the page and below the high-water mark.
func (w *walker) freelist(id uint64) error {
	if id == noFreelist {
		return nil
	}
	b, err := w.page(id, freelistPage)
	if err != nil {
		return err
	}
	n, start := uint64(native.Uint16(b[10:])), uint64(pageHeaderSize)
	if n == 0xFFFF { // the count did not fit: it is the first element
		if len(b) < pageHeaderSize+8 {
			return fmt.Errorf("page %d: freelist count missing", id)
		}
		n, start = native.Uint64(b[pageHeaderSize:]), pageHeaderSize+8
	}
	if n > (uint64(len(b))-start)/8 {
		return fmt.Errorf("page %d: %d free page ids do not fit in the page", id, n)
	}
	for i := range n {
		if free := native.Uint64(b[start+8*i:]); free >= w.hwm {
			return fmt.Errorf("page %d: lists free page %d beyond the end", id, free)
		}
	}
	return nil
}

// tree checks the subtree at page id, whose keys must lie in [low, high)
// (nil: unbounded), and every bucket it holds.
func (w *walker) tree(id uint64, low, high []byte, depth int) error {
	if depth > w.maxDepth {
		return nil
	}
	b, err := w.page(id, branchPage|leafPage)
	if err != nil {
		return err
	}
	if native.Uint16(b[8:]) == leafPage {
		var subs []subBucket
		if err := w.leaf(b, fmt.Sprintf("page %d", id), low, high, &subs); err != nil {
			return err
		}
		for _, sb := range subs { // the page buffer is free again
			if err := w.tree(sb.root, nil, nil, depth+1); err != nil {
				return fmt.Errorf("bucket %q: %w", sb.name, err)
			}
		}
		return nil
	}
	n := int(native.Uint16(b[10:]))
	keys, children := make([][]byte, n), make([]uint64, n)
	for i := range n {
		e, err := element(b, i)
		if err != nil {
			return fmt.Errorf("page %d: %w", id, err)
		}
		k, err := span(b, e, native.Uint32(b[e:]), native.Uint32(b[e+4:]))
		if err != nil {
			return fmt.Errorf("page %d, key %d: %w", id, i, err)
		}
		keys[i], children[i] = bytes.Clone(k), native.Uint64(b[e+8:])
	}
	if err := ordered(keys, low, high); err != nil {
		return fmt.Errorf("page %d: %w", id, err)
	}
	// The pages of the file's root bucket (depth 0) are all read, however
	// many levels it has: the bounded check of a large file reads the
	// root page of every bucket, whatever the number of buckets.
	down := depth + 1
	if depth == 0 {
		down = 0
	}
	for i, child := range children {
		if down > w.maxDepth { // not read: its id at least must be the file's
			if child < 2 || child >= w.hwm {
				return fmt.Errorf("page %d: child page %d out of bounds (the file has %d)", id, child, w.hwm)
			}
			continue
		}
		next := high
		if i+1 < n {
			next = keys[i+1]
		}
		if err := w.tree(child, keys[i], next, down); err != nil {
			return err
		}
	}
	return nil
}

// subBucket is a bucket with pages of its own, found in a leaf.
type subBucket struct {
	name string
	root uint64
}

// leaf checks the leaf page in b (a page of the file, or an inline
// bucket's), named where in errors: its keys in order within [low, high),
// its elements inside it, and inline buckets. The buckets with pages of
// their own it adds to subs, for the caller to check once done with b.
func (w *walker) leaf(b []byte, where string, low, high []byte, subs *[]subBucket) error {
	n := int(native.Uint16(b[10:]))
	keys := make([][]byte, n)
	for i := range n {
		e, err := element(b, i)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		pos, ksize, vsize := native.Uint32(b[e+4:]), native.Uint32(b[e+8:]), native.Uint32(b[e+12:])
		if keys[i], err = span(b, e, pos, ksize); err != nil {
			return fmt.Errorf("%s, key %d: %w", where, i, err)
		}
		value, err := span(b, e, pos+ksize, vsize)
		if err != nil || pos+ksize < pos {
			return fmt.Errorf("%s, value %d: out of the page", where, i)
		}
		if native.Uint32(b[e:])&bucketLeaf == 0 {
			continue
		}
		if len(value) < bucketValueSize {
			return fmt.Errorf("%s, bucket %q: a bucket value of %d bytes", where, keys[i], len(value))
		}
		if root := native.Uint64(value); root != 0 {
			*subs = append(*subs, subBucket{string(keys[i]), root})
			continue
		}
		inline := value[bucketValueSize:]
		if len(inline) < pageHeaderSize || native.Uint16(inline[8:]) != leafPage {
			return fmt.Errorf("%s, bucket %q: a damaged inline bucket", where, keys[i])
		}
		if err := w.leaf(inline, fmt.Sprintf("%s, bucket %q", where, keys[i]), nil, nil, subs); err != nil {
			return err
		}
	}
	if err := ordered(keys, low, high); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// element is the offset of element i in page b, if it fits.
func element(b []byte, i int) (int, error) {
	e := pageHeaderSize + i*elementSize
	if e+elementSize > len(b) {
		return 0, fmt.Errorf("element %d lies outside the page", i)
	}
	return e, nil
}

// span is the n bytes at pos from element offset e, if inside b.
func span(b []byte, e int, pos, n uint32) ([]byte, error) {
	start := uint64(e) + uint64(pos)
	if end := start + uint64(n); end > uint64(len(b)) {
		return nil, errors.New("out of the page")
	}
	return b[start : start+uint64(n)], nil
}

// ordered checks keys are strictly increasing and lie in [low, high).
func ordered(keys [][]byte, low, high []byte) error {
	for i, k := range keys {
		if i > 0 && bytes.Compare(keys[i-1], k) >= 0 {
			return fmt.Errorf("key %d is not after key %d", i, i-1)
		}
		if low != nil && bytes.Compare(k, low) < 0 || high != nil && bytes.Compare(k, high) >= 0 {
			return fmt.Errorf("key %d lies outside the range its parent gives", i)
		}
	}
	return nil
}

// CheckFile runs Open's start-up check on the file at path, reading every
// page whatever the file's size, without opening it as a store or writing
// to it: for a backup just written, or one about to be restored. A missing
// file is an error here.
func CheckFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("boltstore: %w", err)
	}
	defer f.Close()
	return checkFileDepth(f, path, unlimitedDepth)
}
