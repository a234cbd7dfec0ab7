// Package schemas holds Parley's JSON Schemas, embedded so that the binary
// and the editor validate against the very same bytes.
package schemas

import _ "embed"

// Flow is the JSON Schema (draft 2020-12) of a flow document, format
// parley/flow@1: its structure and WhatsApp's message limits. It is the
// single source of structural rules; package flows adds the graph and
// expression checks a schema cannot express. Treat it as read-only.
//
//go:embed flow.schema.json
var Flow []byte

// FlowURL is the schema's $id, under which validators register Flow.
const FlowURL = "https://parley.dev/schemas/flow.schema.json"
