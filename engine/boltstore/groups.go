package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/parleyhq/parley/engine/model"
)

// Where a customer's records go in contact_data (schema 5).
//
// Up to schema 4 a group was named by its owner, the contact key (or the
// id of a conversation that names no contact): keys of customers are
// phone numbers or Meta's user ids, at random in key order, so a new
// customer's records went to a random leaf of a tree of every customer
// ever seen. At a million conversations that tree is five levels deep, and
// a batch of new customers dirtied a leaf, most of a path of branches and
// a split each: BenchmarkCommitAtScale (conc=64) measured 5.1 pages per new
// customer's event at 1M against 3.3 at 1k.
//
// From schema 5 an owner first written is given a slot: a group named
// slotMark + its number in hex (16 digits), numbered in order of
// creation, so new customers' records are appended at the right edge of
// contact_data, on the pages the other new customers of the batch write,
// and the customers of the last days sit together whatever their keys.
// contact_groups maps the owner to its slot (a random insert, but in a
// tree of ~60 bytes per customer, not ~5 KB), and the slot keeps its owner
// (slot sep 'a' → owner) for the walks of contact_data that must name
// the records they find. Groups written before schema 5 keep their
// owner's name: no record moves, and an owner with no slot is found under
// its own name as before. On a schema-4 file of 1M conversations, upgraded,
// a new customer's event costs 3.0 pages (1M) as at 1k (2.9); in a file
// made at schema 5 the map's own random insert grows with the customers
// (1.0 page at 1k, 1.7 at 100k), in a tree ~80 times smaller than
// contact_data. A customer returning after months still writes where its
// records are (and moves its conversation in conversation_index): that is
// the live work.
var bucketGroups = []byte("contact_groups")

const (
	// slotMark starts the name of a slot group: no owner starts with it
	// (checkOwner), so slots sort after every named group.
	slotMark  = 0xff
	kindOwner = 'a' // in a slot group: its owner
)

// slotGroupOf is the name of slot n.
func slotGroupOf(n uint64) []byte {
	g := make([]byte, 0, 17)
	g = append(g, slotMark)
	return fmt.Appendf(g, "%016x", n)
}

func isSlot(group []byte) bool { return len(group) > 0 && group[0] == slotMark }

// checkOwner refuses an owner (a contact key, a conversation's group)
// that could be taken for a slot.
func checkOwner(what, owner string) error {
	if len(owner) > 0 && owner[0] == slotMark {
		return fmt.Errorf("boltstore: %s %q starts with byte 0xff", what, owner)
	}
	return nil
}

// dkey is a contact_data key before its group is known: the owner of the
// group and the rest of the key (sep, kind, ...).
type dkey struct {
	owner string
	rest  []byte
}

// named is d's key in the group named by its owner, as up to schema 4.
func named(d dkey) []byte { return d.in([]byte(d.owner)) }

func (d dkey) in(group []byte) []byte {
	k := make([]byte, 0, len(group)+len(d.rest))
	return append(append(k, group...), d.rest...)
}

func contactDKey(contact model.ContactKey) dkey {
	return dkey{string(contact), []byte{sep, kindContact}}
}

// conversationRest is sep + 'c' + suffix + sep: what follows the group in
// every key of the conversation.
func conversationRest(conversation string) []byte {
	suffix := conversation[len(ownerOf(conversation)):]
	r := make([]byte, 0, len(suffix)+12)
	r = append(r, sep, kindConversation)
	r = append(r, suffix...)
	return append(r, sep)
}

func conversationDKey(conversation string) dkey {
	return dkey{ownerOf(conversation), append(conversationRest(conversation), kindRecord)}
}

func messageDKey(conversation string, seq uint64) dkey {
	r := append(conversationRest(conversation), kindMessage)
	return dkey{ownerOf(conversation), binary.BigEndian.AppendUint64(r, seq)}
}

func transcriptDKey(conversation string) dkey {
	return dkey{ownerOf(conversation), append(conversationRest(conversation), kindMessage)}
}

func indexedDKey(conversation string) dkey {
	return dkey{ownerOf(conversation), append(conversationRest(conversation), kindIndexed)}
}

func inboundDKey(group model.ContactKey, id string) dkey {
	r := make([]byte, 0, 2+len(id))
	return dkey{string(group), append(append(r, sep, kindInbound), id...)}
}

// keys resolves contact_data keys in a transaction, reading only: an
// owner's group is its slot, or its own name if it has none.
type keys struct {
	groups *bolt.Bucket
}

func keysIn(tx *bolt.Tx) keys { return keys{tx.Bucket(bucketGroups)} }

func (ks keys) group(owner string) []byte {
	if ks.groups != nil {
		if g := ks.groups.Get([]byte(owner)); g != nil {
			return g
		}
	}
	return []byte(owner)
}

func (ks keys) of(d dkey) []byte { return d.in(ks.group(d.owner)) }

func (ks keys) contact(c model.ContactKey) []byte            { return ks.of(contactDKey(c)) }
func (ks keys) conversation(id string) []byte                { return ks.of(conversationDKey(id)) }
func (ks keys) message(id string, seq uint64) []byte         { return ks.of(messageDKey(id, seq)) }
func (ks keys) transcript(id string) []byte                  { return ks.of(transcriptDKey(id)) }
func (ks keys) indexed(id string) []byte                     { return ks.of(indexedDKey(id)) }
func (ks keys) inbound(g model.ContactKey, id string) []byte { return ks.of(inboundDKey(g, id)) }

// conversationPrefix is the start of every key of the conversation.
func (ks keys) conversationPrefix(id string) []byte {
	return dkey{ownerOf(id), conversationRest(id)}.in(ks.group(ownerOf(id)))
}

// groupFor is the group to write owner's records in: its slot, its own
// name if records were written there before schema 5, or else a new slot.
func (t *txn) groupFor(owner string) ([]byte, error) {
	if t.named {
		return []byte(owner), nil
	}
	if g, ok := t.slots[owner]; ok {
		return g, nil
	}
	g := t.groups.Get([]byte(owner))
	if g == nil {
		named := prefix(owner)
		if k, _ := t.data.Cursor().Seek(named); k != nil && bytes.HasPrefix(k, named) {
			g = []byte(owner)
		} else {
			n, err := t.groups.NextSequence()
			if err != nil {
				return nil, err
			}
			g = slotGroupOf(n)
			if err := t.groups.Put([]byte(owner), g); err != nil {
				return nil, err
			}
			if err := t.data.Put(append(append(bytes.Clone(g), sep), kindOwner), []byte(owner)); err != nil {
				return nil, err
			}
		}
	}
	g = bytes.Clone(g)
	if t.slots == nil {
		t.slots = map[string][]byte{}
	}
	t.slots[owner] = g
	return g, nil
}

// keyFor is d's key to write, its group made if needed.
func (t *txn) keyFor(d dkey) ([]byte, error) {
	g, err := t.groupFor(d.owner)
	if err != nil {
		return nil, err
	}
	return d.in(g), nil
}

// ownerNames names the owners of the groups a walk of contact_data meets:
// a named group is its owner; a slot's owner is read from the slot once.
type ownerNames struct {
	data      *bolt.Bucket
	last      []byte
	lastOwner string
}

func (o *ownerNames) of(group []byte) string {
	if !isSlot(group) {
		return string(group)
	}
	if !bytes.Equal(group, o.last) {
		o.last = bytes.Clone(group)
		o.lastOwner = string(o.data.Get(append(append(bytes.Clone(group), sep), kindOwner)))
	}
	return o.lastOwner
}
