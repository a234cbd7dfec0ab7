package sandbox

import (
	"encoding/json"
	"testing"
	"time"
)

func TestASCIIJSON(t *testing.T) {
	in := map[string]string{"text": "äöå <b> & 😀 / ok"}
	b := marshalWebhook(in)
	want := `{"text":"\u00e4\u00f6\u00e5 <b> & \ud83d\ude00 / ok"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back map[string]string
	if err := json.Unmarshal(b, &back); err != nil || back["text"] != in["text"] {
		t.Errorf("round trip: %v %q", err, back["text"])
	}
}

func TestBucket(t *testing.T) {
	start := time.Unix(0, 0)
	b := newBucket(1.0/6, 2, start) // the pair rate: one per 6 s, burst 2
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true}, {0, true}, {0, false}, {5 * time.Second, false}, {6 * time.Second, true},
		{6 * time.Second, false}, {30 * time.Second, true}, {30 * time.Second, true}, {30 * time.Second, false},
	}
	for i, s := range steps {
		if got := b.take(start.Add(s.at)); got != s.want {
			t.Errorf("step %d at %v: take = %v, want %v", i, s.at, got, s.want)
		}
	}
	if b.take(start) { // the clock going back refills nothing
		t.Errorf("a clock moved backwards must not refill")
	}
}

func TestReviewRules(t *testing.T) {
	cases := []struct {
		name, format, text string
		want               string
	}{
		{"ok_1", "", "Hi {{1}}, see you {{2}}.", "APPROVED"},
		{"ok_named", "NAMED", "Hi {{first_name}}.", "APPROVED"},
		{"Bad Name", "", "Hi", "REJECTED"},
		{"adjacent", "", "Hi {{1}} {{2}}", "REJECTED"},
		{"out_of_order", "", "Hi {{2}} and {{1}}", "REJECTED"},
		{"upper_named", "NAMED", "Hi {{First}}", "REJECTED"},
	}
	for _, tc := range cases {
		tp := &template{Template: Template{Name: tc.name, ParameterFormat: tc.format,
			Components: []TemplateComponent{{Type: "BODY", Text: tc.text}}}}
		if got, _ := review(tp); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
