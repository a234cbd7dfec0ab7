package ui_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/parleyhq/parley/whatsapp"
)

// analyticsWorld: ann talks to echo v1 on 2026-01-05 (her answer is read);
// on 2026-01-06 bob starts on v1, echo v2 is published, cyd starts on v2.
func analyticsWorld(t *testing.T) *fixture {
	f := newFixture(t)
	f.publish(echoFlow)
	f.say(ann, "hi")
	f.say(ann, "order 42")
	if err := f.eng.HandleStatus(f.ctx, &whatsapp.Status{ID: "wamid.out.1", Status: whatsapp.StatusRead, BizOpaqueCallbackData: convID(ann, 1) + "|3|answer"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(t0.Add(24 * time.Hour))
	f.say(bob, "hi")
	f.publish(echoFlowV2)
	f.say(cyd, "hi")
	return f
}

func TestAnalyticsAPI(t *testing.T) {
	const (
		answer   = `"answer":{"entered":1,"exits":{"next":1},"dropped":{"ended":0,"expired":0,"failed":0},"sends":{"sent":1,"delivered":1,"read":1,"failed":0}}`
		askDay1  = `"ask":{"entered":2,"exits":{"next":1},"dropped":{"ended":0,"expired":0,"failed":0},"sends":{"sent":0,"delivered":0,"read":0,"failed":0}}`
		askDay2  = `"ask":{"entered":2,"exits":{},"dropped":{"ended":0,"expired":0,"failed":0},"sends":{"sent":0,"delivered":0,"read":0,"failed":0}}`
		askAll   = `"ask":{"entered":4,"exits":{"next":1},`
		askOnlyV = `"ask":{"entered":1,"exits":{},`
	)
	runOn(t, analyticsWorld, []scenario{
		{
			name: "by default the last 30 days, today included", method: "GET", url: "/api/v1/flows/echo/analytics",
			status: http.StatusOK,
			want:   []string{`{"from":"2025-12-08","to":"2026-01-06","nodes":{` + answer + `,` + askAll},
		},
		{
			name: "one day", method: "GET", url: "/api/v1/flows/echo/analytics?from=2026-01-05&to=2026-01-05",
			status: http.StatusOK,
			want:   []string{`{"from":"2026-01-05","to":"2026-01-05","nodes":{` + answer + `,` + askDay1 + `},"days":[{"day":"2026-01-05","started":1,"ended":0,"expired":0,"failed":0}]}`},
		},
		{
			name: "another day", method: "GET", url: "/api/v1/flows/echo/analytics?from=2026-01-06&to=2026-01-06",
			status: http.StatusOK,
			want:   []string{`{"from":"2026-01-06","to":"2026-01-06","nodes":{` + askDay2 + `},"days":[{"day":"2026-01-06","started":2,"ended":0,"expired":0,"failed":0}]}`},
		},
		{
			name: "one version", method: "GET", url: "/api/v1/flows/echo/analytics?version=2&from=2026-01-01",
			status:  http.StatusOK,
			want:    []string{`{"from":"2026-01-01","to":"2026-01-06","version":2,"nodes":{` + askOnlyV},
			notWant: []string{`"answer"`},
		},
		{
			name: "days with nothing", method: "GET", url: "/api/v1/flows/echo/analytics?from=2025-01-01&to=2025-01-31",
			status: http.StatusOK, want: []string{`{"from":"2025-01-01","to":"2025-01-31","nodes":{},"days":[{"day":"2025-01-01","started":0,`},
		},
		{name: "a bad date", method: "GET", url: "/api/v1/flows/echo/analytics?from=5.1.2026", status: http.StatusBadRequest, want: []string{`from must be a date like 2026-01-01`}},
		{name: "from after to", method: "GET", url: "/api/v1/flows/echo/analytics?from=2026-01-06&to=2026-01-05", status: http.StatusBadRequest, want: []string{`from is after to`}},
		{name: "too long a range", method: "GET", url: "/api/v1/flows/echo/analytics?from=2000-01-01", status: http.StatusBadRequest, want: []string{`the range is over`}},
		{name: "a bad version", method: "GET", url: "/api/v1/flows/echo/analytics?version=0", status: http.StatusBadRequest, want: []string{`version must be a version number`}},
		{name: "an unknown flow", method: "GET", url: "/api/v1/flows/nope/analytics", status: http.StatusNotFound, want: []string{`"error":"flow not found"`}},
	})
}
