package ui_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

func TestFlowsAPI(t *testing.T) {
	// A document one byte over the cap, otherwise fine.
	head, tail := `{"id": "echo", "name": "`, `"}`
	huge := head + strings.Repeat("x", flows.MaxFlowBytes+1-len(head)-len(tail)) + tail

	run(t, []scenario{
		// Listing and reading.
		{
			name: "list: every flow with where its draft stands", method: "GET", url: "/api/v1/flows",
			status: http.StatusOK,
			want: []string{
				`{"id":"echo","name":"Echo","status":"published","published_version":2,"draft_updated_at":"2026-01-05T12:00:00Z","draft_updated_by":"seed","draft_rev":2,"archived":false}`,
				`{"id":"promo","name":"Promo (spring)","status":"changed","published_version":1,`,
				`{"id":"survey","name":"Survey","status":"draft","published_version":0,`,
			},
			notWant: []string{`"draft":`}, // documents are for GET /flows/:id
		},
		{
			name: "get: the record with the draft as JSON, not base64", method: "GET", url: "/api/v1/flows/promo",
			status: http.StatusOK,
			want:   []string{`"id":"promo"`, `"status":"changed"`, `"published_version":1`, `"draft":{"format":"parley/flow@1","id":"promo","name":"Promo (spring)"`},
		},
		{name: "get: unknown flow", method: "GET", url: "/api/v1/flows/nope", status: http.StatusNotFound, want: []string{`{"error":"flow not found"}`}},

		// Saving drafts.
		{
			name: "save: a valid draft, by the signed-in user", method: "PUT", url: "/api/v1/flows/echo",
			body: strings.Replace(echoFlowV2, "v2 heard", "v3 heard", 1), header: map[string]string{asUser: "ana@example.com"},
			status: http.StatusOK,
			want:   []string{`"id":"echo"`, `"status":"changed"`, `"published_version":2`, `"draft_updated_by":"ana@example.com"`, `"valid":true`, `"problems":[]`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				_, body := f.do("GET", "/api/v1/flows/echo", "", nil)
				if !strings.Contains(string(body), `v3 heard`) {
					t.Errorf("the saved draft is not what GET returns: %s", body)
				}
			},
		},
		{
			name: "save: an invalid draft is saved, with its problems and their pointers", method: "PUT", url: "/api/v1/flows/promo",
			body:   strings.Replace(promoFlow, `"offer", "type"`, `"offer", "next": "gone", "type"`, 1),
			status: http.StatusOK,
			want:   []string{`"valid":false`, `{"severity":"error","pointer":"/nodes/0/next","message":`, `"status":"changed"`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				rec, err := f.store.Flow(f.ctx, "promo")
				if err != nil || !strings.Contains(string(rec.Draft), `"gone"`) || rec.Published != 1 {
					t.Errorf("the invalid draft was not stored beside v1: %+v, %v", rec, err)
				}
			},
		},
		{
			name: "save: a new flow is created as a draft, by the token's user", method: "PUT", url: "/api/v1/flows/welcome",
			body:   strings.Replace(echoFlow, `"id": "echo"`, `"id": "welcome"`, 1),
			status: http.StatusOK,
			want:   []string{`"id":"welcome"`, `"status":"draft"`, `"published_version":0`, `"draft_updated_by":"admin@parley.test"`, `"valid":true`},
		},
		{
			name: "save: saving the published document again is no change", method: "PUT", url: "/api/v1/flows/promo",
			body:   promoFlow,
			status: http.StatusOK,
			want:   []string{`"status":"published"`},
		},
		{
			name: "save: a document with another id is refused", method: "PUT", url: "/api/v1/flows/promo",
			body: echoFlow, status: http.StatusBadRequest,
			want: []string{`"error":"the document's id is not the flow's id: \"echo\" under flow \"promo\""`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if rec, _ := f.store.Flow(f.ctx, "promo"); !strings.Contains(string(rec.Draft), "spring") {
					t.Errorf("a refused draft changed the stored one: %s", rec.Draft)
				}
			},
		},
		{name: "save: malformed JSON", method: "PUT", url: "/api/v1/flows/promo", body: `{"id": "promo",`, status: http.StatusBadRequest, want: []string{`"error":"the body is not a JSON document"`}},
		{name: "save: empty body", method: "PUT", url: "/api/v1/flows/promo", status: http.StatusBadRequest},
		{name: "save: JSON that is not an object", method: "PUT", url: "/api/v1/flows/promo", body: `["promo"]`, status: http.StatusBadRequest, want: []string{`not a flow document`}},
		{name: "save: an object without an id", method: "PUT", url: "/api/v1/flows/promo", body: `{"name": "x"}`, status: http.StatusBadRequest, want: []string{`not a flow document`}},
		{name: "save: over flows.MaxFlowBytes", method: "PUT", url: "/api/v1/flows/echo", body: huge, status: http.StatusRequestEntityTooLarge},

		// Validating.
		{
			name: "validate: a valid flow", method: "POST", url: "/api/v1/flows/validate", body: echoFlow,
			status: http.StatusOK, want: []string{`{"valid":true,"problems":[]}`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if _, err := f.store.Flow(f.ctx, "welcome"); err == nil {
					t.Error("validate stored something")
				}
			},
		},
		{
			name: "validate: every problem with severity, pointer and message", method: "POST", url: "/api/v1/flows/validate", body: brokenFlow,
			status: http.StatusOK, want: []string{`"valid":false`, `{"severity":"error","pointer":"/nodes/0/next","message":"names node \"nowhere\", which does not exist"}`},
		},
		{
			name: "validate: unknown fields make a flow invalid", method: "POST", url: "/api/v1/flows/validate",
			body:   strings.Replace(echoFlow, `"name": "Echo"`, `"nmae": "Echo"`, 1),
			status: http.StatusOK, want: []string{`"valid":false`, `"severity":"error"`},
		},
		{name: "validate: malformed JSON", method: "POST", url: "/api/v1/flows/validate", body: `{`, status: http.StatusBadRequest},
		{name: "validate: over flows.MaxFlowBytes", method: "POST", url: "/api/v1/flows/validate", body: huge, status: http.StatusRequestEntityTooLarge},

		// Publishing and rolling back.
		{
			name: "publish: the draft becomes the next version", method: "POST", url: "/api/v1/flows/promo/publish",
			header:  map[string]string{asUser: "bo@example.com"},
			status:  http.StatusCreated,
			want:    []string{`"flow":"promo"`, `"version":2`, `"published_by":"bo@example.com"`, `"problems":[]`},
			notWant: []string{`republished_from`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				_, body := f.do("GET", "/api/v1/flows/promo", "", nil)
				if !strings.Contains(string(body), `"status":"published","published_version":2`) {
					t.Errorf("after publishing: %s", body)
				}
			},
		},
		{
			name: "publish: a draft with errors is refused with every problem", method: "POST", url: "/api/v1/flows/survey/publish",
			status: http.StatusUnprocessableEntity,
			want:   []string{`"error":"flow has errors"`, `"problems":[{"severity":"error","pointer":"/nodes/0/next"`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if vs, _ := f.store.FlowVersions(f.ctx, "survey"); len(vs) != 0 {
					t.Errorf("an invalid draft was published: %d versions", len(vs))
				}
			},
		},
		{name: "publish: unknown flow", method: "POST", url: "/api/v1/flows/nope/publish", status: http.StatusNotFound, want: []string{`"error":"flow not found"`}},
		{
			name: "publish: an unchanged draft makes no version", method: "POST", url: "/api/v1/flows/echo/publish",
			body: `{"note": "again"}`, status: http.StatusOK,
			want: []string{`"version":2`, `"unchanged":true`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if vs, _ := f.store.FlowVersions(f.ctx, "echo"); len(vs) != 2 {
					t.Errorf("%d versions, want 2", len(vs))
				}
			},
		},
		{
			name: "publish: the note is kept and listed in the history", method: "POST", url: "/api/v1/flows/promo/publish",
			body: `{"note": "Spring prices", "draft_rev": 2}`, status: http.StatusCreated,
			want: []string{`"version":2`, `"note":"Spring prices"`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				_, body := f.do("GET", "/api/v1/flows/promo/versions", "", nil)
				if !strings.Contains(string(body), `"version":2,"published_at":"2026-01-05T12:04:00Z","published_by":"admin@parley.test","note":"Spring prices"}`) {
					t.Errorf("history: %s", body)
				}
			},
		},
		{
			name: "publish: a draft other than the one confirmed is not published", method: "POST", url: "/api/v1/flows/promo/publish",
			body: `{"note": "x", "draft_rev": 1}`, status: http.StatusConflict,
			want: []string{`"draft_rev":2`, `"draft_updated_by":"seed"`},
		},
		{name: "publish: a body that is not the request", method: "POST", url: "/api/v1/flows/promo/publish", body: `[1]`, status: http.StatusBadRequest},
		{name: "publish: a note over 500 characters", method: "POST", url: "/api/v1/flows/promo/publish", body: `{"note": "` + strings.Repeat("n", 501) + `"}`, status: http.StatusBadRequest},
		{
			name: "preview: the diff against the published version and the draft's revision", method: "GET", url: "/api/v1/flows/promo/publish-preview",
			status: http.StatusOK,
			want:   []string{`"draft_rev":2`, `"published_version":1`, `"changed":true`, `"diff":{"added":[],"removed":[],"changed":[],"flow":["name"]}`, `"problems":[]`},
		},
		{
			name: "preview: an unchanged draft", method: "GET", url: "/api/v1/flows/echo/publish-preview",
			status: http.StatusOK, want: []string{`"changed":false`, `"diff":{"added":[],"removed":[],"changed":[],"flow":[]}`},
		},
		{name: "preview: unknown flow", method: "GET", url: "/api/v1/flows/nope/publish-preview", status: http.StatusNotFound},
		{
			name: "save: from the revision loaded, saved, and the next revision answered", method: "PUT", url: "/api/v1/flows/echo?base=2",
			body: strings.Replace(echoFlowV2, "v2 heard", "v4 heard", 1), header: map[string]string{asUser: "ana@example.com"},
			status: http.StatusOK, want: []string{`"draft_rev":3`, `"draft_updated_by":"ana@example.com"`},
		},
		{
			name: "save: from an old revision, someone else saved since: 409 with who and when", method: "PUT", url: "/api/v1/flows/echo?base=1",
			body: strings.Replace(echoFlowV2, "v2 heard", "v5 heard", 1), header: map[string]string{asUser: "bo@example.com"},
			status: http.StatusConflict,
			want:   []string{`"error":"seed saved flow echo (revision 2) at 12:00:00 UTC, after the revision this change was based on"`, `"draft_rev":2`, `"draft_updated_by":"seed"`, `"draft_updated_at":"2026-01-05T12:00:00Z"`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if rec, _ := f.store.Flow(f.ctx, "echo"); strings.Contains(string(rec.Draft), "v5 heard") {
					t.Error("a conflicting save overwrote the draft")
				}
			},
		},
		{name: "save: base is not a revision", method: "PUT", url: "/api/v1/flows/echo?base=x", body: echoFlowV2, status: http.StatusBadRequest},
		{
			name: "publish: the new version starts the next conversations", method: "POST", url: "/api/v1/flows/echo/publish",
			before: func(t *testing.T, f *fixture) {
				f.saveDraft("echo", strings.Replace(echoFlow, "you said", "v3 heard", 1))
			},
			status: http.StatusCreated, want: []string{`"version":3`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if out := f.say("15559999999", "hi"); out.Conversation == "" {
					t.Fatal("no conversation started")
				} else if c, _ := f.store.Conversation(f.ctx, out.Conversation); c.Version != 3 {
					t.Errorf("new conversation on v%d, want v3", c.Version)
				}
			},
		},
		{
			name: "rollback: an old version is published again as the newest", method: "POST", url: "/api/v1/flows/echo/publish?version=1",
			status: http.StatusCreated,
			want:   []string{`"flow":"echo"`, `"version":3`, `"republished_from":1`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				v, err := f.store.FlowVersion(f.ctx, "echo", 3)
				if err != nil || string(v.Doc) != echoFlow {
					t.Errorf("v3 is not v1's document: %v", err)
				}
				// The draft was the latest version: it follows the rollback.
				_, body := f.do("GET", "/api/v1/flows/echo", "", nil)
				if !strings.Contains(string(body), `"status":"published","published_version":3`) || strings.Contains(string(body), "v2 heard") {
					t.Errorf("after rollback: %s", body)
				}
				f.say("15559999999", "hi")
				f.say("15559999999", "back")
				tr, _ := f.store.Transcript(f.ctx, convID("15559999999", 1))
				if last := tr[len(tr)-1]; last.Message == nil || last.Message.Text != "you said back" {
					t.Errorf("a new conversation does not run v1's document: %+v", last)
				}
			},
		},
		{
			name: "rollback: a draft with unpublished changes is kept", method: "POST", url: "/api/v1/flows/promo/publish?version=1",
			status: http.StatusCreated, want: []string{`"version":2`, `"republished_from":1`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				_, body := f.do("GET", "/api/v1/flows/promo", "", nil)
				if !strings.Contains(string(body), `"status":"changed","published_version":2`) || !strings.Contains(string(body), "Promo (spring)") {
					t.Errorf("the draft was lost: %s", body)
				}
			},
		},
		{name: "rollback: unknown version", method: "POST", url: "/api/v1/flows/echo/publish?version=9", status: http.StatusNotFound, want: []string{`"error":"flow version not found"`}},
		{name: "rollback: version is not a number", method: "POST", url: "/api/v1/flows/echo/publish?version=one", status: http.StatusBadRequest},
		{name: "rollback: version 0", method: "POST", url: "/api/v1/flows/echo/publish?version=0", status: http.StatusBadRequest},

		// Versions.
		{
			name: "versions: newest first, with who and when", method: "GET", url: "/api/v1/flows/echo/versions",
			status: http.StatusOK,
			want: []string{`{"versions":[` +
				`{"flow":"echo","version":2,"published_at":"2026-01-05T12:00:00Z","published_by":"seed"},` +
				`{"flow":"echo","version":1,"published_at":"2026-01-05T10:00:00Z","published_by":"seed"}]}`},
		},
		{name: "versions: a draft-only flow has none", method: "GET", url: "/api/v1/flows/survey/versions", status: http.StatusOK, want: []string{`{"versions":[]}`}},
		{name: "versions: unknown flow", method: "GET", url: "/api/v1/flows/nope/versions", status: http.StatusNotFound},
		{
			name: "version: one version's document", method: "GET", url: "/api/v1/flows/echo/versions/1",
			status:  http.StatusOK,
			want:    []string{`"flow":"echo","version":1,`, `"doc":{"format":"parley/flow@1","id":"echo"`, `you said`},
			notWant: []string{`v2 heard`},
		},
		{name: "version: unknown version", method: "GET", url: "/api/v1/flows/echo/versions/3", status: http.StatusNotFound, want: []string{`"error":"flow version not found"`}},
		{name: "version: unknown flow", method: "GET", url: "/api/v1/flows/nope/versions/1", status: http.StatusNotFound},
		{name: "version: not a number", method: "GET", url: "/api/v1/flows/echo/versions/latest", status: http.StatusBadRequest},

		// Archiving.
		{
			name: "archive: the flow's triggers stop; running conversations go on", method: "POST", url: "/api/v1/flows/echo/archive",
			status: http.StatusOK, want: []string{`"id":"echo"`, `"archived":true`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if out := f.say("15559999999", "hi"); out.Conversation != "" {
					t.Errorf("an archived flow started %s", out.Conversation)
				}
				if out := f.say(bob, "still there?"); out.Status != model.Waiting || out.Conversation != convID(bob, 2) {
					t.Errorf("a running conversation of an archived flow stopped: %+v", out)
				}
				_, body := f.do("GET", "/api/v1/flows", "", nil)
				if !strings.Contains(string(body), `"published_version":2,"draft_updated_at":"2026-01-05T12:00:00Z","draft_updated_by":"seed","draft_rev":2,"archived":true`) {
					t.Errorf("the listing does not say archived: %s", body)
				}
			},
		},
		{
			name: "unarchive: the triggers start conversations again", method: "POST", url: "/api/v1/flows/echo/unarchive",
			before: func(t *testing.T, f *fixture) {
				if err := f.eng.Archive(f.ctx, "echo", true); err != nil {
					t.Fatal(err)
				}
			},
			status: http.StatusOK, want: []string{`"archived":false`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				if out := f.say("15559999999", "hi"); out.Conversation == "" {
					t.Error("an unarchived flow started nothing")
				}
			},
		},
		{name: "archive: unknown flow", method: "POST", url: "/api/v1/flows/nope/archive", status: http.StatusNotFound},
		{name: "unarchive: unknown flow", method: "POST", url: "/api/v1/flows/nope/unarchive", status: http.StatusNotFound},
	})
}

// Every route naming a flow refuses, with 400, an id the flow schema's id
// rule refuses; PUT stores no draft under it.
func TestFlowRoutesRefuseBadIDs(t *testing.T) {
	f := seeded(t)
	bad := []string{"../../etc/passwd", "<script>", "ab\u202ecd", "ab\u200bcd", "Echo", strings.Repeat("a", 65), "a b"}
	routes := []struct{ method, suffix string }{
		{"PUT", ""}, {"GET", ""}, {"POST", "/publish"}, {"GET", "/versions"}, {"GET", "/versions/1"},
		{"POST", "/archive"}, {"POST", "/unarchive"}, {"POST", "/test"}, {"GET", "/analytics"},
	}
	for _, id := range bad {
		for _, r := range routes {
			t.Run(fmt.Sprintf("%s %+q%s", r.method, id, r.suffix), func(t *testing.T) {
				body := ""
				if r.method != "GET" {
					doc, _ := json.Marshal(map[string]any{"format": "parley/flow@1", "id": id, "start": "a", "nodes": []any{}})
					body = string(doc)
				}
				status, got := f.do(r.method, "/api/v1/flows/"+url.PathEscape(id)+r.suffix, body, nil)
				if status != http.StatusBadRequest || !strings.Contains(string(got), "invalid flow id") {
					t.Fatalf("%d %s, want 400 invalid flow id", status, got)
				}
			})
		}
		if _, err := f.store.Flow(f.ctx, id); err == nil {
			t.Errorf("a flow was stored under %+q", id)
		}
	}
}
