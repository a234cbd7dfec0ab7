package schemas

import (
	"encoding/json"
	"testing"
)

func TestFlowSchemaIsDraft2020WithItsID(t *testing.T) {
	var s struct {
		Schema string `json:"$schema"`
		ID     string `json:"$id"`
	}
	if err := json.Unmarshal(Flow, &s); err != nil {
		t.Fatalf("embedded flow schema is not JSON: %v", err)
	}
	if s.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema is %q, want draft 2020-12", s.Schema)
	}
	if s.ID != FlowURL {
		t.Errorf("$id is %q, want FlowURL %q", s.ID, FlowURL)
	}
}
