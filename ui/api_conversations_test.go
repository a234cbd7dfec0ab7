package ui_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// conversationIDs is the ids a listing holds, in order.
func conversationIDs(t *testing.T, body []byte) []string {
	t.Helper()
	page := decode[struct {
		Conversations []struct {
			ID string `json:"id"`
		} `json:"conversations"`
	}](t, body)
	var ids []string
	for _, c := range page.Conversations {
		ids = append(ids, c.ID)
	}
	return ids
}

// listed checks that a listing holds exactly ids, in that order.
func listed(ids ...string) func(t *testing.T, f *fixture, body []byte) {
	return func(t *testing.T, f *fixture, body []byte) {
		t.Helper()
		if got := conversationIDs(t, body); !slices.Equal(got, ids) {
			t.Errorf("listed %q\nwant %q", got, ids)
		}
	}
}

// cursorAfter is the cursor the API hands out after a conversation with
// that activity time: cursors are (activity, id), so tests can name them.
func cursorAfter(id string, activity time.Time) string {
	return url.QueryEscape(model.ConversationCursor(&model.Conversation{ID: id, LastActivityAt: activity}))
}

func TestConversationsAPI(t *testing.T) {
	annConv, bobPromo, bobEcho, cydConv := convID(ann, 1), convID(bob, 1), convID(bob, 2), convID(cyd, 1)
	afterAnn := cursorAfter(annConv, t0.Add(2*time.Hour+4*time.Minute))
	afterBobPromo := cursorAfter(bobPromo, t0.Add(2*time.Hour+time.Minute))
	// What a client sends: the whole id escaped, or just its '#'.
	annEscaped, annHashOnly := url.PathEscape(annConv), pathID(annConv)

	run(t, []scenario{
		// The listing.
		{
			name: "list: newest activity first, every field", method: "GET", url: "/api/v1/conversations",
			status: http.StatusOK,
			want: []string{
				`{"id":"100000000000001:15551234567#1","contact":"100000000000001:15551234567","flow":"echo","version":1,"node":"ask","status":"waiting","started_at":"2026-01-05T12:00:00Z","last_activity_at":"2026-01-05T12:04:00Z","contact_name":"Customer 15551234567","wa_id":"15551234567"}`,
				`{"id":"100000000000001:15557654321#1","contact":"100000000000001:15557654321","flow":"promo","version":1,"node":"offer","status":"ended",`,
				`"next_cursor":""`,
			},
			after: listed(annConv, bobEcho, bobPromo, cydConv),
		},
		{name: "list: by status", method: "GET", url: "/api/v1/conversations?status=waiting", status: http.StatusOK, after: listed(annConv, bobEcho)},
		{name: "list: by another status", method: "GET", url: "/api/v1/conversations?status=ended", status: http.StatusOK, after: listed(bobPromo, cydConv)},
		{name: "list: by flow", method: "GET", url: "/api/v1/conversations?flow=promo", status: http.StatusOK, after: listed(bobPromo)},
		{name: "list: by number", method: "GET", url: "/api/v1/conversations?number=" + phone + "&status=waiting", status: http.StatusOK, after: listed(annConv, bobEcho)},
		{name: "list: by another number", method: "GET", url: "/api/v1/conversations?number=100000000000002", status: http.StatusOK, want: []string{`{"conversations":[],"next_cursor":""}`}},
		{name: "list: by contact", method: "GET", url: "/api/v1/conversations?contact=" + url.QueryEscape(string(key(bob))), status: http.StatusOK, after: listed(bobEcho, bobPromo)},
		{
			name: "list: filters combine", method: "GET", url: "/api/v1/conversations?flow=echo&status=waiting&contact=" + url.QueryEscape(string(key(ann))),
			status: http.StatusOK, after: listed(annConv),
		},
		{name: "list: no match is an empty list", method: "GET", url: "/api/v1/conversations?status=agent", status: http.StatusOK, want: []string{`{"conversations":[],"next_cursor":""}`}},
		{
			name: "list: first page of one, with the cursor of the next", method: "GET", url: "/api/v1/conversations?limit=1",
			status: http.StatusOK, want: []string{`"next_cursor":"` + afterAnn + `"`}, after: listed(annConv),
		},
		{
			name: "list: a middle page", method: "GET", url: "/api/v1/conversations?limit=2&cursor=" + afterAnn,
			status: http.StatusOK, want: []string{`"next_cursor":"` + afterBobPromo + `"`}, after: listed(bobEcho, bobPromo),
		},
		{
			name: "list: the last page has no cursor", method: "GET", url: "/api/v1/conversations?limit=2&cursor=" + afterBobPromo,
			status: http.StatusOK, want: []string{`"next_cursor":""`}, after: listed(cydConv),
		},
		{
			name: "list: paging with a filter", method: "GET", url: "/api/v1/conversations?status=ended&limit=1&cursor=" + afterBobPromo,
			status: http.StatusOK, after: listed(cydConv),
		},
		{name: "list: unknown status", method: "GET", url: "/api/v1/conversations?status=sleeping", status: http.StatusBadRequest, want: []string{`"error":"status must be one of`}},
		{name: "list: limit 0", method: "GET", url: "/api/v1/conversations?limit=0", status: http.StatusBadRequest},
		{name: "list: limit over the cap", method: "GET", url: "/api/v1/conversations?limit=201", status: http.StatusBadRequest},
		{name: "list: limit not a number", method: "GET", url: "/api/v1/conversations?limit=ten", status: http.StatusBadRequest},
		{name: "list: a cursor not handed out", method: "GET", url: "/api/v1/conversations?cursor=abc", status: http.StatusBadRequest, want: []string{`"error":"invalid cursor`}},

		// One conversation.
		{
			name: "get: state and transcript, with delivery states", method: "GET", url: "/api/v1/conversations/" + annHashOnly,
			status: http.StatusOK,
			want: []string{
				`"conversation":{"id":"100000000000001:15551234567#1","contact":"100000000000001:15551234567","flow":"echo","version":1,"node":"ask","status":"waiting","vars":{"said":`,
				`{"due":"2026-01-05T13:04:00Z","kind":"timeout","contact":"100000000000001:15551234567","conversation":"100000000000001:15551234567#1","node":"ask"}`,
				`"window":{"open":true,"expires_at":"2026-01-06T12:03:00Z","remaining_seconds":86340}`,
				`{"seq":1,"direction":"in","sender":"customer","at":"2026-01-05T12:00:00Z","text":"text: hi","display":"hi","inbound":{"type":"text","text":"hi"},"state":"received","wamid":"wamid.in.2"}`,
				`"direction":"out","sender":"bot","at":"2026-01-05T12:03:00Z","node":"answer","text":"text: you said order 42","display":"you said order 42","message":{"type":"text","text":"you said order 42"},"state":"delivered","wamid":"wamid.out.`,
				`"state":"failed","wamid":"wamid.out.`,
				`"error_code":131047,"error":"Re-engagement message"}`,
			},
		},
		{name: "get: the id escaped whole", method: "GET", url: "/api/v1/conversations/" + annEscaped, status: http.StatusOK, want: []string{`"id":"100000000000001:15551234567#1"`}},
		{
			name: "get: an unescaped # starts the URL's fragment, so the id is cut: not a conversation id", method: "GET", url: "/api/v1/conversations/" + annConv,
			status: http.StatusBadRequest, want: []string{`is not \u003ccontact key\u003e#\u003cnumber\u003e`},
		},
		{name: "get: a path as the id", method: "GET", url: "/api/v1/conversations/..%2F..%2Fetc%2Fpasswd", status: http.StatusBadRequest, want: []string{`invalid id: conversation id`}},
		{name: "get: a contact key with a right-to-left override", method: "GET", url: "/api/v1/contacts/" + url.PathEscape(phone+":1555\u202e1234567"), status: http.StatusBadRequest, want: []string{`invalid id: contact key`, `\\u202e`}},
		{name: "get: a contact key without the business number", method: "GET", url: "/api/v1/contacts/15551234567", status: http.StatusBadRequest, want: []string{`invalid id: contact key`}},
		{name: "get: unknown conversation", method: "GET", url: "/api/v1/conversations/" + pathID(convID(ann, 2)), status: http.StatusNotFound},
		{name: "get: an ended conversation", method: "GET", url: "/api/v1/conversations/" + pathID(cydConv), status: http.StatusOK, want: []string{`"status":"ended"`, `"text":"text: bye"`, `"state":"queued"`}},
		{
			name: "get: customer text comes back as JSON string data, escaped, not altered", method: "GET", url: "/api/v1/conversations/" + annHashOnly,
			status:  http.StatusOK,
			want:    []string{`\u003cscript\u003ealert(\"x\")\u003c/script\u003e`},
			notWant: []string{`<script>`, `&lt;`},
			after: func(t *testing.T, f *fixture, body []byte) {
				got := decode[struct {
					Conversation struct {
						Vars map[string]any `json:"vars"`
					} `json:"conversation"`
					Transcript []struct {
						Text    string `json:"text"`
						Inbound *struct {
							Text string `json:"text"`
						} `json:"inbound"`
					} `json:"transcript"`
				}](t, body)
				if got.Conversation.Vars["said"] != scriptText {
					t.Errorf("vars.said = %q, want %q", got.Conversation.Vars["said"], scriptText)
				}
				var in, out bool
				for _, m := range got.Transcript {
					in = in || (m.Inbound != nil && m.Inbound.Text == scriptText && m.Text == "text: "+scriptText)
					out = out || m.Text == "text: you said "+scriptText
				}
				if !in || !out {
					t.Errorf("the customer's text was altered (in %v, out %v): %+v", in, out, got.Transcript)
				}
			},
		},

		// Contacts.
		{
			name: "contact: with an open window and its conversations", method: "GET", url: "/api/v1/contacts/" + string(key(ann)),
			status: http.StatusOK,
			want: []string{
				`"contact":{"key":"100000000000001:15551234567","phone_number_id":"100000000000001","wa_id":"15551234567","name":"Customer 15551234567"`,
				`"last_inbound_at":"2026-01-05T12:04:00Z"`,
				`"window":{"open":true,"expires_at":"2026-01-06T12:03:00Z","remaining_seconds":86340}`,
				`"conversations":[{"id":"100000000000001:15551234567#1"`,
			},
		},
		{name: "contact: the key escaped", method: "GET", url: "/api/v1/contacts/" + url.PathEscape(string(key(ann))), status: http.StatusOK, want: []string{`"key":"100000000000001:15551234567"`}},
		{
			name: "contact: conversations newest first", method: "GET", url: "/api/v1/contacts/" + string(key(bob)),
			status: http.StatusOK, want: []string{`"conversations":[{"id":"100000000000001:15557654321#2"`, `},{"id":"100000000000001:15557654321#1"`},
		},
		{
			name: "contact: the window counts down", method: "GET", url: "/api/v1/contacts/" + string(key(ann)),
			before: func(t *testing.T, f *fixture) { f.clock.Advance(23 * time.Hour) },
			status: http.StatusOK, want: []string{`"window":{"open":true,"expires_at":"2026-01-06T12:03:00Z","remaining_seconds":3540}`},
		},
		{
			name: "contact: a closed window", method: "GET", url: "/api/v1/contacts/" + string(key(ann)),
			before: func(t *testing.T, f *fixture) { f.clock.Advance(25 * time.Hour) },
			status: http.StatusOK, want: []string{`"window":{"open":false,"expires_at":"2026-01-06T12:03:00Z","remaining_seconds":0}`},
		},
		{
			name: "contact: a window Meta closed early (131047) has no expiry", method: "GET", url: "/api/v1/contacts/" + string(key(ann)),
			before: func(t *testing.T, f *fixture) {
				if _, err := f.eng.UpdateContact(f.ctx, key(ann), func(c *model.Contact) { c.WindowClosedAt = f.clock.Now() }); err != nil {
					t.Fatal(err)
				}
			},
			status: http.StatusOK, want: []string{`"window":{"open":false,"remaining_seconds":0}`},
		},
		{name: "contact: unknown", method: "GET", url: "/api/v1/contacts/" + string(key("15550000000")), status: http.StatusNotFound, want: []string{`{"error":"contact not found"}`}},
	})
}

// An empty Parley lists nothing, as empty lists rather than null.
func TestEmptyListings(t *testing.T) {
	f := newFixture(t)
	for url, want := range map[string]string{
		"/api/v1/flows":         `{"flows":[]}`,
		"/api/v1/conversations": `{"conversations":[],"next_cursor":""}`,
	} {
		status, body := f.do("GET", url, "", nil)
		if status != http.StatusOK || string(body) != want {
			t.Errorf("GET %s: %d %s, want 200 %s", url, status, body, want)
		}
	}
}
