package flows

import "sort"

// check runs the graph and expression checks on a decoded flow.
// TODO(validator): being written; see the validator work item.
func (f *Flow) check() Problems { return nil }

// checkSchema validates the raw document against schemas/flow.schema.json.
func checkSchema(data []byte) Problems { return nil }

func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Pointer < ps[j].Pointer })
}
