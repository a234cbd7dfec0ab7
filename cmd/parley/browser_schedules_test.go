package main

// Browser test of the schedules page (issue 7: "list, create / edit with
// the next five fire times previewed in the schedule's time zone, pause,
// run now, history"): an analyst creates a daily 09:00 Europe/Berlin
// reminder that sends a template to an audience, sees the five previewed
// fire times in Berlin's time, sees a bad cron expression and a bad
// audience expression refused on their fields, saves, pauses and resumes,
// runs it now and reads the firing's report (audience, sent, skipped by
// reason, delivered, read) and each contact's outcome. The schedule's
// name, with HTML in it, shows as text. An agent has no Schedules entry.
// Screenshots are logged as they are saved.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/whatsapp/sandbox"
)

var reminderTemplate = sandbox.Template{
	Name: "appointment_reminder", Language: "en_US", Category: "UTILITY",
	Components: []sandbox.TemplateComponent{{Type: "BODY", Text: "Hi {{1}}, see you tomorrow at {{2}}.",
		Example: json.RawMessage(`{"body_text":[["Ann","10:30"]]}`)}},
}

const (
	schedAnalyst    = "ana@e2e.test"
	schedAnalystPwd = "ana's long password"
	schedAgent      = "sam@e2e.test"
	schedAgentPwd   = "sam's long password"
)

// berlinNine is the next five 09:00s in Berlin after now, as the page
// writes them ("Mon 5 Jan 2026, 09:00 (UTC+1)").
func berlinNine(t *testing.T, now time.Time) []string {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	n := now.In(loc)
	day := time.Date(n.Year(), n.Month(), n.Day(), 9, 0, 0, 0, loc)
	if !day.After(now) {
		day = time.Date(n.Year(), n.Month(), n.Day()+1, 9, 0, 0, 0, loc)
	}
	var out []string
	for i := range 5 {
		d := time.Date(day.Year(), day.Month(), day.Day()+i, 9, 0, 0, 0, loc)
		_, off := d.Zone()
		out = append(out, fmt.Sprintf("%s (UTC+%d)", d.Format("Mon 2 Jan 2006, 15:04"), off/3600))
	}
	return out
}

func TestBrowserSchedules(t *testing.T) {
	chromiumPath(t)
	h := startUI(t, e2eOptions{
		templates: []sandbox.Template{reminderTemplate},
		serve:     func(c *serveConfig) { c.scheduleInterval = 50 * time.Millisecond },
	})
	for _, u := range []struct{ email, name, role, pwd string }{{schedAnalyst, "Ana", "analyst", schedAnalystPwd}, {schedAgent, "Sam", "agent", schedAgentPwd}} {
		if code, body := h.adminCall("POST", "/users", `{"email":"`+u.email+`","name":"`+u.name+`","roles":["`+u.role+`"],"password":"`+u.pwd+`"}`); code != http.StatusCreated && code != http.StatusOK {
			t.Fatalf("creating %s: %d %s", u.email, code, body)
		}
	}

	// The audience: four patients (two eligible, one never opted in, one
	// opted out) and one contact who is not a patient.
	phone := h.sb.Config().PhoneNumberID
	seed := []struct {
		wa, name      string
		patient       bool
		optIn, optOut bool
	}{
		{"4915100000001", "Ann", true, true, false},
		{"4915100000002", "Bob", true, true, false},
		{"4915100000003", "Cem", true, false, false},
		{"4915100000004", "Dee", true, true, true},
		{"4915100000005", "Eva", false, true, false},
	}
	for _, s := range seed {
		_, err := h.eng.UpdateContact(context.Background(), model.NewContactKey(phone, s.wa), func(c *model.Contact) {
			c.PhoneNumberID, c.WaID, c.Name = phone, s.wa, s.name
			c.Fields = map[string]any{"slot": "10:30"}
			if s.patient {
				c.Tags = []string{"patient"}
			}
			c.OptedIn, c.OptedOut = s.optIn, s.optOut
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	b := newBrowser(t, h.url(""))
	b.signIn(schedAnalyst, schedAnalystPwd)
	b.click("nav-schedules")
	b.wait("schedules")
	b.waitText("schedules", "No schedules yet")
	b.shot("schedules empty")

	// Create: daily 09:00 in Berlin, previewed in Berlin's time.
	b.click("new-schedule")
	b.wait("schedule-form")
	name := `Appointment reminder <img src=x onerror="window.__xss=1">`
	b.fill("sched-name", name)
	b.fill("sched-cron", "0 9 * * *")
	b.fill("sched-timezone", "Europe/Berlin")
	want := berlinNine(t, time.Now())
	b.waitJS(`$$t('preview-fire').length === 5 && $t('preview-zone').innerText === 'Europe/Berlin' && $$t('preview-fire')[0].innerText.includes(`+quote(want[0])+`)`, "five fire times previewed in Berlin")
	got := js[[]string](b, `$$t('preview-fire').map((e) => e.innerText)`)
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("previewed fire time %d: %q, want %q", i+1, got[i], w)
		}
	}
	b.waitText("cron-words", "every day at 09:00")
	b.shot("preview of five fire times in Berlin")

	// A bad cron expression: refused inline, no preview; fixed, the preview is back.
	b.fill("sched-cron", "0 25 * * *")
	b.waitText("cron-error", "25")
	b.wait("preview-none")
	b.shot("invalid cron inline")
	b.fill("sched-cron", "0 9 * * *")
	b.waitJS(`!$t('cron-error') && $$t('preview-fire').length === 5`, "the cron error gone, the preview back")

	// What: the reminder template, parameters over the contact.
	b.click("sched-kind-template")
	b.waitJS(`$t('sched-template') && Array.from($t('sched-template').options).some((o) => o.value === 'appointment_reminder/en_US')`, "the registry's template offered")
	b.fill("sched-template", "appointment_reminder/en_US")
	// The names flows use; the first parameter keeps the older bare name,
	// which still works.
	b.fill("sched-param-body-0", "{{ name }}")
	b.fill("sched-param-body-1", "{{ contact.fields.slot }}")

	// A bad audience expression: the server refuses it, on its field.
	b.fill("sched-audience", `"patient" in tags &&`)
	b.click("sched-save")
	b.wait("audience-error")
	if js[bool](b, `!!$t('schedule-detail')`) {
		t.Fatal("a schedule with a bad audience was saved")
	}
	b.shot("invalid audience inline")
	b.fill("sched-audience", `"patient" in contact.tags`)
	b.waitJS(`!$t('audience-error')`, "the audience error cleared on edit")
	b.click("sched-save")

	// Saved: the detail shows its next five fire times, its name as text.
	b.wait("schedule-detail")
	b.waitText("schedule-name", name)
	if js[bool](b, `window.__xss !== undefined || !!document.querySelector('[data-testid="schedules"] img')`) {
		t.Fatal("the schedule's name was rendered as HTML")
	}
	b.waitJS(`$$t('next-fire').length === 5`, "five next fire times")
	if got := b.text("next-fire"); !strings.Contains(got, want[0]) {
		t.Errorf("first next fire time %q, want %q", got, want[0])
	}
	b.waitJS(`$$t('schedule-item').length === 1`, "the schedule listed")
	b.waitText("schedule-action", "appointment_reminder")
	b.wait("no-firings")
	b.shot("schedule saved")

	// Pause: nothing fires, Run now is off; resume.
	b.click("sched-pause-toggle")
	b.wait("next-fires-paused")
	b.waitText("schedule-detail", "paused")
	b.waitJS(`$t('sched-run').disabled`, "Run now disabled while paused")
	b.waitJS(`$$t('schedule-item')[0].innerText.includes('paused')`, "the list showing paused")
	b.shot("paused")
	b.click("sched-pause-toggle")
	b.waitJS(`$$t('next-fire').length === 5 && !$t('sched-run').disabled`, "resumed, five fire times again")

	// Run now asks first, with the audience's size; cancelled, nothing
	// fires. Confirmed, the firing's report appears and fills in.
	b.click("sched-run")
	b.waitText("sched-run-audience", "selects 4 of")
	b.waitText("sched-run-audience", "2 will be skipped")
	b.waitText("sched-run-confirm", "Send to 2 contacts now")
	b.shot("run now asks")
	b.click("sched-run-cancel")
	b.waitJS(`!$t('sched-run-confirm') && $$t('firing-row').length === 0`, "nothing fired after cancelling")
	b.click("sched-run")
	b.wait("sched-run-confirm")
	b.key(kb.Escape)
	b.waitJS(`!$t('sched-run-confirm') && $$t('firing-row').length === 0`, "Escape closed the confirmation, nothing fired")
	b.click("sched-run")
	b.click("sched-run-confirm")
	b.wait("firing-report")
	b.waitJS(`$t('firing-report').dataset.status === 'done'`, "the firing done")
	b.waitText("report-audience", "4")
	b.waitText("report-sent", "2")
	b.waitText("skip-no_consent", "1")
	b.waitText("skip-opted_out", "1")
	b.waitText("report-failed", "0")
	b.waitText("report-delivered", "2")
	b.waitText("report-read", "2")
	b.waitJS(`$$t('firing-row').length === 1 && $$t('firing-row')[0].dataset.status === 'done'`, "the firing in the history")
	b.shot("run now report")
	for _, s := range seed[:2] {
		eventually(t, e2eTimeout, func() bool {
			for _, e := range h.accepted(s.wa) {
				if e.Type == "template" {
					return true
				}
			}
			return false
		}, "%s receiving the reminder", s.name)
	}
	for _, s := range seed[2:] {
		if n := len(h.accepted(s.wa)); n != 0 {
			t.Errorf("%s (not eligible) was sent %d messages", s.name, n)
		}
	}

	// Each contact's outcome.
	b.click("show-sends")
	b.waitJS(`$$t('send-row').length === 4`, "four contacts' outcomes")
	b.waitJS(`$$t('send-row').filter((r) => r.innerText.includes('sent')).length === 2`, "two sent")
	b.shot("per-contact outcomes")

	// An agent has no Schedules page.
	b.click("signout")
	b.signIn(schedAgent, schedAgentPwd)
	if js[bool](b, `!!$t('nav-schedules')`) {
		t.Error("an agent sees the Schedules entry")
	}
	b.open("/schedules")
	b.wait("not-found")
}
