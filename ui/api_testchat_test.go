package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// chatFlow has a step for every kind of customer message the test chat
// can send, a handoff, and a timeout whose nudge finds the window closed
// and takes the template path.
const chatFlow = `{"format": "parley/flow@1", "id": "chat", "name": "Chat", "start": "menu",
 "triggers": [{"type": "keyword", "keywords": ["again"]}],
 "nodes": [
  {"id": "menu", "type": "wait_reply", "accept": "button", "save_as": "choice",
   "prompt": {"type": "buttons", "text": "Pick one", "buttons": [{"id": "track", "title": "Track order"}, {"id": "human", "title": "Agent"}]},
   "timeout": "25h", "on_timeout": "nudge", "next": "route"},
  {"id": "route", "type": "branch", "cases": [{"when": "vars.choice == 'track'", "next": "where"}], "default": "agent"},
  {"id": "where", "type": "wait_reply", "accept": "location", "save_as": "place", "prompt": {"type": "text", "text": "Where are you?"}, "next": "photo"},
  {"id": "photo", "type": "wait_reply", "accept": "media", "save_as": "pic", "prompt": {"type": "text", "text": "A photo?"}, "next": "size"},
  {"id": "size", "type": "wait_reply", "accept": "list", "save_as": "size",
   "prompt": {"type": "list", "text": "Size?", "button": "Sizes", "sections": [{"title": "All", "rows": [{"id": "s", "title": "Small"}, {"id": "l", "title": "Large"}]}]},
   "next": "echo"},
  {"id": "echo", "type": "wait_reply", "save_as": "said", "prompt": {"type": "text", "text": "Say anything"}, "next": "done"},
  {"id": "done", "type": "send", "message": {"type": "text", "text": "you said {{ vars.said }}"}},
  {"id": "agent", "type": "handoff", "queue": "support"},
  {"id": "nudge", "type": "send", "message": {"type": "text", "text": "still there?"}, "on_window_closed": "tpl"},
  {"id": "tpl", "type": "template", "template": {"name": "come_back", "language": "en"}}
 ]}`

// chatView is a TestChat as the client reads it.
type chatView struct {
	ID     string         `json:"id"`
	Flow   string         `json:"flow"`
	Now    time.Time      `json:"now"`
	Status string         `json:"status"`
	Node   string         `json:"node"`
	Vars   map[string]any `json:"vars"`
	Window struct {
		Open     bool       `json:"open"`
		ClosesAt *time.Time `json:"closes_at"`
	} `json:"window"`
	Messages []json.RawMessage `json:"messages"`
}

// chatFixture is an empty Parley with the chat flow saved as a draft.
func chatFixture(t *testing.T) *fixture {
	f := newFixture(t)
	f.saveDraft("chat", chatFlow)
	// Shutdown closes the chats and removes their files.
	t.Cleanup(func() { f.srv.Shutdown(context.Background()) })
	return f
}

// chatDo sends a request and decodes the TestChat it must answer.
func chatDo(t *testing.T, f *fixture, method, url, body string, status int) chatView {
	t.Helper()
	got, b := f.do(method, url, body, nil)
	if got != status {
		t.Fatalf("%s %s %s: status %d, want %d; body %s", method, url, body, got, status, b)
	}
	return decode[chatView](t, b)
}

func last(t *testing.T, v chatView) string {
	t.Helper()
	if len(v.Messages) == 0 {
		t.Fatal("no messages")
	}
	return string(v.Messages[len(v.Messages)-1])
}

// TestTestChatWalksAFlow plays a whole conversation through the API: every
// kind of reply, then a second run left to time out past the window, whose
// nudge becomes the template.
func TestTestChatWalksAFlow(t *testing.T) {
	f := chatFixture(t)
	v := chatDo(t, f, "POST", "/api/v1/flows/chat/test", "", http.StatusCreated)
	if v.Flow != "chat" || v.Status != "waiting" || v.Node != "menu" || !v.Window.Open || v.Window.ClosesAt == nil || len(v.Messages) != 1 {
		t.Fatalf("a new chat: %+v", v)
	}
	if !strings.Contains(last(t, v), `"buttons":[{"id":"track","title":"Track order"}`) {
		t.Errorf("the prompt: %s", last(t, v))
	}
	url := "/api/v1/test/" + v.ID
	steps := []struct {
		body       string
		node       string
		wantInLast string // in the last message
	}{
		{`{"button_id": "track"}`, "where", `"text":"Where are you?"`},
		{`{"location": {"latitude": 52.52, "longitude": 13.405, "name": "Alexanderplatz"}}`, "photo", `"text":"A photo?"`},
		{`{"media": {"kind": "image", "caption": "my parcel"}}`, "size", `"rows":[{"id":"s","title":"Small"}`},
		{`{"list_id": "l"}`, "echo", `"text":"Say anything"`},
		{`{"text": "<script>alert(1)</script>"}`, "done", `"text":"you said \u003cscript\u003ealert(1)\u003c/script\u003e"`},
	}
	for _, st := range steps {
		v = chatDo(t, f, "POST", url+"/reply", st.body, http.StatusOK)
		if v.Node != st.node || !strings.Contains(last(t, v), st.wantInLast) {
			t.Fatalf("after %s: node %q (want %q), last %s", st.body, v.Node, st.node, last(t, v))
		}
	}
	if v.Status != "ended" {
		t.Errorf("status %q after the last node, want ended", v.Status)
	}
	wantVars := map[string]any{
		"choice": "track", "size": "l", "said": "<script>alert(1)</script>",
		"place": map[string]any{"latitude": 52.52, "longitude": 13.405, "name": "Alexanderplatz"},
		"pic":   map[string]any{"id": "media.testchat.image", "mime_type": "image/jpeg", "caption": "my parcel"},
	}
	got, _ := json.Marshal(v.Vars)
	want, _ := json.Marshal(wantVars)
	if string(got) != string(want) {
		t.Errorf("vars %s, want %s", got, want)
	}
	// The tap carried the title offered with the button.
	if !strings.Contains(string(v.Messages[1]), `"inbound":{"type":"button","button_id":"track","title":"Track order"}`) {
		t.Errorf("the tap: %s", v.Messages[1])
	}

	// A second conversation, by the flow's keyword trigger, left alone:
	// the wait times out after 25 h, the window has closed, and the nudge
	// goes down on_window_closed to the template.
	v = chatDo(t, f, "POST", url+"/reply", `{"text": "again"}`, http.StatusOK)
	if v.Status != "waiting" || v.Node != "menu" {
		t.Fatalf("the keyword did not start the flow again: %+v", v)
	}
	start := v.Now
	v = chatDo(t, f, "POST", url+"/advance", `{"duration": "1d2h"}`, http.StatusOK)
	if !v.Now.Equal(start.Add(26*time.Hour)) || v.Window.Open || v.Status != "ended" || v.Node != "tpl" {
		t.Fatalf("after 26h: now %v (from %v), window %+v, status %s at %s", v.Now, start, v.Window, v.Status, v.Node)
	}
	if !strings.Contains(last(t, v), `"template":{"name":"come_back","language":"en"}`) {
		t.Errorf("the template was not sent: %s", last(t, v))
	}
	for _, m := range v.Messages {
		if strings.Contains(string(m), "still there?") {
			t.Errorf("the free-form nudge went out with the window closed: %s", m)
		}
	}

	if st, _ := f.do("DELETE", url, "", nil); st != http.StatusNoContent {
		t.Errorf("delete: %d", st)
	}
	if st, _ := f.do("GET", url, "", nil); st != http.StatusNotFound {
		t.Errorf("get after delete: %d", st)
	}
}

// TestTestChatAPI pins the test chat's answers to bad requests, its start
// options, and its isolation from the production store.
func TestTestChatAPI(t *testing.T) {
	started := func(t *testing.T, f *fixture) string {
		t.Helper()
		return chatDo(t, f, "POST", "/api/v1/flows/chat/test", "", http.StatusCreated).ID
	}
	runOn(t, chatFixture, []scenario{
		{
			name: "start at a node, with a posted document", method: "POST", url: "/api/v1/flows/chat/test",
			body:   `{"node": "size", "doc": ` + chatFlow + `}`,
			status: http.StatusCreated,
			want:   []string{`"status":"waiting"`, `"node":"size"`, `"flow":"chat"`, `"now":"2026-01-05T10:00:00Z"`, `"window":{"open":true,"closes_at":"2026-01-06T09:59:00Z"}`, `"dir":"out"`, `"sender":"bot"`, `"state":"sent"`},
			after: func(t *testing.T, f *fixture, _ []byte) {
				// Nothing reached the production store.
				if _, err := f.store.Flow(f.ctx, "chat"); err != nil {
					t.Fatal(err)
				}
				if vs, _ := f.store.FlowVersions(f.ctx, "chat"); len(vs) != 0 {
					t.Errorf("the test chat published into the production store: %d versions", len(vs))
				}
				if convs, _, _ := f.store.ListConversations(f.ctx, model.ConversationFilter{Limit: 10}); len(convs) != 0 {
					t.Errorf("the test chat ran a conversation in the production store")
				}
			},
		},
		{
			name: "an invalid flow is 422 with its problems", method: "POST", url: "/api/v1/flows/chat/test",
			body:   `{"doc": ` + strings.Replace(chatFlow, `"next": "route"}`, `"next": "nowhere"}`, 1) + `}`,
			status: http.StatusUnprocessableEntity,
			want:   []string{`"error":"flow has errors"`, `{"severity":"error","pointer":"/nodes/0/next"`},
		},
		{name: "an unknown node to start at", method: "POST", url: "/api/v1/flows/chat/test", body: `{"node": "nope"}`, status: http.StatusBadRequest, want: []string{`the flow has no node \"nope\"`}},
		{name: "a document of another flow", method: "POST", url: "/api/v1/flows/other/test", body: `{"doc": ` + chatFlow + `}`, status: http.StatusBadRequest, want: []string{`the document's id is not the flow's id`}},
		{name: "an unknown flow", method: "POST", url: "/api/v1/flows/nope/test", status: http.StatusNotFound, want: []string{`"error":"flow not found"`}},
		{name: "an unknown field", method: "POST", url: "/api/v1/flows/chat/test", body: `{"start": "menu"}`, status: http.StatusBadRequest, want: []string{`unknown field \"start\"`}},
		{name: "an unknown chat", method: "GET", url: "/api/v1/test/tc_nope", status: http.StatusNotFound},
		{name: "delete an unknown chat", method: "DELETE", url: "/api/v1/test/tc_nope", status: http.StatusNotFound},
		{name: "reply to an unknown chat", method: "POST", url: "/api/v1/test/tc_nope/reply", body: `{"text": "hi"}`, status: http.StatusNotFound},
	})

	bad := []struct{ name, path, body, want string }{
		{"two kinds of reply", "reply", `{"text": "hi", "button_id": "track"}`, "a reply is exactly one of"},
		{"no reply", "reply", `{}`, "a reply is exactly one of"},
		{"not JSON", "reply", `hi`, "reply: invalid character"},
		{"empty text", "reply", `{"text": " "}`, "text is empty"},
		{"a button never offered", "reply", `{"button_id": "nope"}`, `button \"nope\": no message sent to the customer offers it`},
		{"a row never offered", "reply", `{"list_id": "track"}`, `list row \"track\": no message sent`},
		{"a location without longitude", "reply", `{"location": {"latitude": 1}}`, "location needs latitude and longitude"},
		{"a location off the globe", "reply", `{"location": {"latitude": 91, "longitude": 0}}`, "off the globe"},
		{"an unknown media kind", "reply", `{"media": {"kind": "sticker"}}`, `media kind must be`},
		{"an image that is no image", "reply", `{"media": {"kind": "image", "mime_type": "application/pdf"}}`, `mime_type application/pdf is not an image type: send it as a document`},
		{"a MIME type that is none", "reply", `{"media": {"kind": "document", "mime_type": "pdf"}}`, `is not a MIME type like image/png`},
		{"a file name with an image", "reply", `{"media": {"kind": "image", "filename": "a.png"}}`, `filename comes only with a document`},
		{"a file name with a folder", "reply", `{"media": {"kind": "document", "filename": "../etc/passwd"}}`, `filename must be a file's name`},
		{"an unknown reply field", "reply", `{"emoji": "x"}`, `unknown field \"emoji\"`},
		{"a duration that is no duration", "advance", `{"duration": "soon"}`, `want a duration like`},
		{"a negative duration", "advance", `{"duration": "-1h"}`, `must be more than zero`},
		{"too long an advance", "advance", `{"duration": "31d"}`, `days must be a whole number up to 30`},
		{"just too long an advance", "advance", `{"duration": "30d1m"}`, `at most 720h0m0s (30d)`},
		{"no duration", "advance", `{}`, `duration is missing`},
	}
	f := chatFixture(t)
	url := "/api/v1/test/" + started(t, f)
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			st, body := f.do("POST", url+"/"+tc.path, tc.body, nil)
			if st != http.StatusBadRequest || !strings.Contains(string(body), tc.want) {
				t.Errorf("%d %s, want 400 with %s", st, body, tc.want)
			}
		})
	}
	// Bad requests changed nothing.
	v := chatDo(t, f, "GET", url, "", http.StatusOK)
	if len(v.Messages) != 1 || v.Node != "menu" {
		t.Errorf("bad requests moved the chat: %+v", v)
	}
}

// TestTestChatMediaDescription: the test chat sends a media message as
// WhatsApp's webhook describes one (the file itself is not uploaded): the
// file's MIME type, a caption, and a document's file name reach the flow
// as reply.media; without them, a kind's usual type and a default name.
func TestTestChatMediaDescription(t *testing.T) {
	f := chatFixture(t)
	cases := []struct {
		name, media string
		want        map[string]any
	}{
		{"a document with its name and type", `{"kind": "document", "caption": "this week's prices", "filename": "prices 2026.xlsx", "mime_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}`,
			map[string]any{"id": "media.testchat.document", "mime_type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "caption": "this week's prices", "filename": "prices 2026.xlsx"}},
		{"an image with its type", `{"kind": "image", "mime_type": "image/png"}`,
			map[string]any{"id": "media.testchat.image", "mime_type": "image/png"}},
		{"a voice note with parameters in its type", `{"kind": "audio", "mime_type": "Audio/OGG; codecs=opus"}`,
			map[string]any{"id": "media.testchat.audio", "mime_type": "audio/ogg; codecs=opus"}},
		{"a bare document", `{"kind": "document"}`,
			map[string]any{"id": "media.testchat.document", "mime_type": "application/pdf", "filename": "document.pdf"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := chatDo(t, f, "POST", "/api/v1/flows/chat/test", `{"node": "photo"}`, http.StatusCreated)
			v = chatDo(t, f, "POST", "/api/v1/test/"+v.ID+"/reply", `{"media": `+tc.media+`}`, http.StatusOK)
			got, _ := json.Marshal(v.Vars["pic"])
			want, _ := json.Marshal(tc.want)
			if v.Node != "size" || string(got) != string(want) {
				t.Errorf("node %q, vars.pic %s; want size, %s", v.Node, got, want)
			}
		})
	}
}
