package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// FlowDiff is what publishing a draft changes against the published
// version, node by node, as the publish confirmation shows it. Canvas
// positions (a node's meta x and y) and the flow's own meta (sticky notes)
// are not behaviour and are left out; Layout says whether only they moved.
type FlowDiff struct {
	Added   []DiffNode `json:"added"`
	Removed []DiffNode `json:"removed"`
	Changed []DiffNode `json:"changed"`
	// Flow lists the flow-level fields that differ ("name", "triggers",
	// "start"…), by name.
	Flow []string `json:"flow"`
	// Layout is true when positions or notes changed too.
	Layout bool `json:"layout,omitempty"`
}

// DiffNode is one node added, removed or changed.
type DiffNode struct {
	ID   string `json:"id"`
	Type string `json:"type,omitempty"`
	// Label is the node's meta.label, when it has one.
	Label string `json:"label,omitempty"`
	// Fields are the node's fields that differ, by name (changed nodes
	// only): "prompt", "next", "cases"…
	Fields []string `json:"fields,omitempty"`
}

// Empty reports whether the diff holds no change of behaviour.
func (d FlowDiff) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0 && len(d.Flow) == 0
}

// DiffFlows compares two flow documents (the published one first). Nodes
// are matched by id; a renamed node is one removed and one added. Either
// document may be nil (nothing published yet): then every node is added.
// Documents that are not JSON objects are an error.
func DiffFlows(old, draft []byte) (FlowDiff, error) {
	d := FlowDiff{Added: []DiffNode{}, Removed: []DiffNode{}, Changed: []DiffNode{}, Flow: []string{}}
	a, err := diffDoc(old)
	if err != nil {
		return d, fmt.Errorf("published document: %w", err)
	}
	b, err := diffDoc(draft)
	if err != nil {
		return d, fmt.Errorf("draft: %w", err)
	}
	for _, k := range unionKeys(a.fields, b.fields) {
		if k == "nodes" {
			continue
		}
		if k == "meta" {
			d.Layout = d.Layout || !sameRaw(a.fields[k], b.fields[k])
			continue
		}
		if !sameRaw(a.fields[k], b.fields[k]) {
			d.Flow = append(d.Flow, k)
		}
	}
	for _, n := range b.order {
		bn := b.nodes[n]
		an, ok := a.nodes[n]
		if !ok {
			d.Added = append(d.Added, bn.summary(nil))
			continue
		}
		var fields []string
		for _, k := range unionKeys(an.fields, bn.fields) {
			if k == "meta" {
				layout, other := metaDiff(an.fields[k], bn.fields[k])
				d.Layout = d.Layout || layout
				if other {
					fields = append(fields, k)
				}
				continue
			}
			if !sameRaw(an.fields[k], bn.fields[k]) {
				fields = append(fields, k)
			}
		}
		if len(fields) > 0 {
			d.Changed = append(d.Changed, bn.summary(fields))
		}
	}
	for _, n := range a.order {
		if _, ok := b.nodes[n]; !ok {
			d.Removed = append(d.Removed, a.nodes[n].summary(nil))
		}
	}
	return d, nil
}

type diffNode struct {
	id     string
	fields map[string]json.RawMessage
}

func (n diffNode) summary(fields []string) DiffNode {
	s := DiffNode{ID: n.id, Fields: fields}
	_ = json.Unmarshal(n.fields["type"], &s.Type)
	var meta struct {
		Label string `json:"label"`
	}
	_ = json.Unmarshal(n.fields["meta"], &meta)
	s.Label = meta.Label
	return s
}

type diffDocument struct {
	fields map[string]json.RawMessage
	nodes  map[string]diffNode
	order  []string
}

func diffDoc(doc []byte) (diffDocument, error) {
	d := diffDocument{fields: map[string]json.RawMessage{}, nodes: map[string]diffNode{}}
	if len(bytes.TrimSpace(doc)) == 0 {
		return d, nil
	}
	if err := json.Unmarshal(doc, &d.fields); err != nil {
		return d, fmt.Errorf("not a JSON object: %w", err)
	}
	var nodes []map[string]json.RawMessage
	if raw, ok := d.fields["nodes"]; ok {
		// Nodes that are not objects are left out: a draft may be invalid.
		_ = json.Unmarshal(raw, &nodes)
	}
	for i, fs := range nodes {
		var id string
		if json.Unmarshal(fs["id"], &id) != nil || id == "" {
			id = fmt.Sprintf("#%d", i+1)
		}
		if _, dup := d.nodes[id]; dup {
			continue // the validator reports duplicate ids
		}
		d.nodes[id] = diffNode{id: id, fields: fs}
		d.order = append(d.order, id)
	}
	return d, nil
}

// metaDiff compares two nodes' meta: layout when x or y moved, other when
// anything else (a label, say) changed.
func metaDiff(a, b json.RawMessage) (layout, other bool) {
	var ma, mb map[string]json.RawMessage
	_ = json.Unmarshal(a, &ma)
	_ = json.Unmarshal(b, &mb)
	for _, k := range unionKeys(ma, mb) {
		if sameRaw(ma[k], mb[k]) {
			continue
		}
		if k == "x" || k == "y" {
			layout = true
		} else {
			other = true
		}
	}
	return layout, other
}

func unionKeys(a, b map[string]json.RawMessage) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string]json.RawMessage{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// sameRaw compares two JSON values whatever their spacing and key order.
func sameRaw(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	ca, _ := json.Marshal(va)
	cb, _ := json.Marshal(vb)
	return bytes.Equal(ca, cb)
}
