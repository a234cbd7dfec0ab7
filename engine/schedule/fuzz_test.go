package schedule

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/fuzztest"
)

// FuzzParseTiming: any cron expression and time zone an analyst types is
// refused with an InvalidError naming the field, or gives a timing whose
// preview moves strictly forward, stays in the schedule's zone, agrees with
// Next, and never fires one local wall-clock time twice.
func FuzzParseTiming(f *testing.F) {
	for _, data := range fuzztest.Files(f, "testdata/fire_times.json") {
		var cases []struct {
			Cron, TZ string
			From     time.Time
		}
		if err := json.Unmarshal(data, &cases); err != nil {
			f.Fatal(err)
		}
		for _, c := range cases {
			f.Add(c.Cron, c.TZ, c.From.Unix())
		}
	}
	f.Add("@every 90m", "", int64(0))
	f.Add("0 9 * * MON-FRI", "Asia/Kathmandu", int64(1767225600))
	f.Add("0 0 30 2 *", "UTC", int64(1767225600))
	f.Add("CRON_TZ=Europe/Berlin 0 9 * * *", "", int64(1767225600))
	f.Add("0 9 * * *", "Local", int64(1767225600))
	f.Fuzz(func(t *testing.T, expr, zone string, fromUnix int64) {
		tm, err := ParseTiming(expr, zone)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || (inv.Field != "cron" && inv.Field != "timezone") || inv.Message == "" {
				t.Fatalf("ParseTiming(%q, %q) = %v, want an InvalidError on cron or timezone", expr, zone, err)
			}
			return
		}
		// From 1970 to 2100: the window a schedule's preview is asked about.
		from := time.Unix(0, 0).Add(time.Duration(uint64(fromUnix)%(130*365*24*3600)) * time.Second)
		times := tm.Preview(from, 6)
		if len(times) > 6 {
			t.Fatalf("Preview(6) gave %d times", len(times))
		}
		prev := from
		seen := map[string]bool{}
		for i, at := range times {
			if !at.After(prev) {
				t.Fatalf("fire %d at %v is not after %v", i, at, prev)
			}
			if at.Location().String() != tm.Location().String() {
				t.Fatalf("fire %d in %v, want %v", i, at.Location(), tm.Location())
			}
			if next := tm.Next(prev); !next.Equal(at) {
				t.Fatalf("Next(%v) = %v, Preview says %v", prev, next, at)
			}
			wall := at.Format("2006-01-02 15:04:05")
			if seen[wall] && !strings.HasPrefix(strings.TrimSpace(expr), "@every") {
				t.Fatalf("local time %s fires twice (%v)", wall, times)
			}
			seen[wall] = true
			prev = at
		}
	})
}

// FuzzAudience: an audience expression typed by an analyst compiles or is
// refused as an InvalidError on "audience" (always, when over MaxExprBytes);
// one that compiles answers every contact, whatever the contact's own
// name, tags and fields hold, with a boolean or an error, never a panic,
// and the same answer twice.
func FuzzAudience(f *testing.F) {
	for _, src := range []string{``, `"vip" in tags`, `"patient" in tags`, `opted_in && !window_open`,
		`fields.city == "Berlin" && language startsWith "de"`, `name matches "^A"`, `len(tags) > 2 || fields.n > 3`,
		`last_inbound_at < now - duration("720h")`, `"vip" in`, `name`, `city == "Berlin"`} {
		f.Add(src, "Ana", "vip", "Berlin")
	}
	f.Fuzz(func(t *testing.T, src, name, tag, city string) {
		p, err := compileAudience(src)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Field != "audience" {
				t.Fatalf("compileAudience(%q) = %v, want an InvalidError on audience", src, err)
			}
			return
		}
		if len(src) > MaxExprBytes {
			t.Fatalf("an expression of %d bytes compiled", len(src))
		}
		env := &Env{Name: name, Tags: []string{tag}, Fields: map[string]any{"city": city, "n": float64(len(name))},
			Now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
		in, err := inAudience(p, env)
		if err != nil && in {
			t.Fatalf("an error (%v) and a match", err)
		}
		again, err2 := inAudience(p, env)
		if again != in || (err == nil) != (err2 == nil) {
			t.Fatalf("two answers for one contact: %v/%v, %v/%v", in, again, err, err2)
		}
	})
}

// FuzzTemplateParameter: a template parameter compiles or is refused as an
// InvalidError on its field; one that compiles renders for any contact,
// and what the contact wrote (their name here) comes out as written, never
// evaluated, however many {{ }} it holds.
func FuzzTemplateParameter(f *testing.F) {
	for _, p := range []string{`{{ name }}`, `Hi {{ name }}, see you {{ fields.appointment }}`, `{{ fields.n + 1 }}`,
		`plain`, `{{`, `{{ }}`, `{{ name }`, `{{ unknown }}`, `{{ "a" + name }}{{ now }}`} {
		f.Add(p, "Ana {{ fields.secret }}")
	}
	named, err := compileText("body[0]", "<{{ name }}>")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, param, name string) {
		env := &Env{Name: name, Tags: []string{}, Fields: map[string]any{"appointment": "Friday", "n": 2.0, "secret": "s3cret"}}
		if got, err := named.render(env); err != nil || got != "<"+name+">" {
			t.Fatalf("render(<{{ name }}>) = %q, %v; want <%s>", got, err, name)
		}
		x, err := compileText("body[0]", param)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Field != "body[0]" {
				t.Fatalf("compileText(%q) = %v, want an InvalidError on body[0]", param, err)
			}
			return
		}
		if len(param) > MaxExprBytes {
			t.Fatalf("a parameter of %d bytes compiled", len(param))
		}
		got, err := x.render(env)
		if err == nil && !strings.Contains(param, "{{") && got != param {
			t.Fatalf("literal parameter %q rendered as %q", param, got)
		}
	})
}

// FuzzScheduleBody: the body of POST /schedules and PUT /schedules/:id,
// decoded as the route decodes it, compiles or is refused with an
// InvalidError naming a field; a schedule that compiles renders its
// template for any contact without a panic, and its parameters come out
// the same twice.
func FuzzScheduleBody(f *testing.F) {
	f.Add([]byte(`{"name":"Reminder","cron":"0 9 * * MON","timezone":"Europe/Berlin","audience":"\"patient\" in tags","action":{"kind":"send_template","template":{"name":"appointment_reminder","language":"en_US","body":["{{ name }}","{{ fields.appointment }}"],"buttons":[{"index":0,"payload":"confirm"}]}}}`))
	f.Add([]byte(`{"name":"Survey","cron":"@daily","action":{"kind":"start_flow","flow":"survey"},"busy":"skip"}`))
	f.Add([]byte(`{"name":"x","cron":"0 9 * * *","action":{"kind":"send_template","template":{"name":"t","language":"en","header":["{{"]}}}`))
	f.Add([]byte(`{"name":"x","cron":"0 9 * * *","action":{"kind":"wave"},"busy":"queue"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var sc Schedule
		if json.Unmarshal(body, &sc) != nil {
			return
		}
		sc.normalize()
		c, err := compile(&sc)
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || inv.Field == "" || inv.Message == "" {
				t.Fatalf("compile = %v, want an InvalidError naming a field", err)
			}
			return
		}
		if sc.Action.Kind != ActionSendTemplate {
			return
		}
		env := &Env{Name: "Ana {{ fields.x }}", Tags: []string{"patient"}, Fields: map[string]any{"appointment": "Friday"}}
		ts, err := c.tmpl.render(sc.Action.Template, env)
		ts2, err2 := c.tmpl.render(sc.Action.Template, env)
		if (err == nil) != (err2 == nil) || strings.Join(ts.Params(), "\x00") != strings.Join(ts2.Params(), "\x00") {
			t.Fatalf("two renderings differ: %+v %v / %+v %v", ts, err, ts2, err2)
		}
		if err == nil && (ts.Name != sc.Action.Template.Name || len(ts.Body) != len(sc.Action.Template.Body) || len(ts.Header) != len(sc.Action.Template.Header)) {
			t.Fatalf("rendered %+v from %+v", ts, sc.Action.Template)
		}
	})
}
