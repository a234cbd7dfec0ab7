package whatsapp

import (
	"strings"
	"testing"
)

func TestRepeatsKey(t *testing.T) {
	deep := strings.Repeat(`[{"x":`, 40) + `{"a":1,"a":2}` + strings.Repeat(`}]`, 40)
	cases := []struct {
		json string
		want bool
	}{
		{`{}`, false},
		{`[]`, false},
		{`"a"`, false},
		{`{"a":1,"b":2}`, false},
		{`{"a":1,"a":2}`, true},
		{`{"ab":1,"aB":2}`, true},    // encoding/json matches keys ignoring case
		{`{"a":{"a":1}}`, false},     // two objects
		{`[{"a":1},{"a":2}]`, false}, // two objects
		{`{"x":{"a":1},"a":2}`, false},
		{`{"x":[{"b":1},2],"b":2}`, false},
		{`{"x":{"y":1},"x":[]}`, true},
		{`{"a":"b","b":"b"}`, false},           // values are not keys
		{`{"a":"\"b\":","b":1}`, false},        // nor what is in them
		{`{"a":"\\","b":"\\\"","c":1}`, false}, // backslashes before the closing quote
		{`{"a":1,"\u0061":2}`, true},           // an escaped key may be any key
		{`{"ſ":1}`, true},                      // so may a non-ASCII one ("s" for encoding/json)
		{` { "a" : 1 , "b" : { } , "a" : 2 } `, true},
		{deep, true},
		{strings.ReplaceAll(deep, `"a":2`, `"b":2`), false},
	}
	for _, c := range cases {
		if got := repeatsKey([]byte(c.json)); got != c.want {
			t.Errorf("repeatsKey(%.60s) = %v, want %v", c.json, got, c.want)
		}
	}
}

// TestParseAtOnceCoverage: the deliveries Meta sends all the time take the
// single-pass path; only those that need raw bytes or item isolation take
// the item-by-item one. A change here is a change in performance.
func TestParseAtOnceCoverage(t *testing.T) {
	itemByItem := map[string]string{
		"account_update":      "the value is kept raw",
		"other_field":         "the value is kept raw",
		"unknown_type":        "an unsupported message keeps its raw JSON",
		"unsupported":         "an unsupported message keeps its raw JSON",
		"interactive_missing": "an unsupported message keeps its raw JSON",
		"malformed_items":     "an item of an unexpected shape is isolated",
	}
	payloads := webhookPayloads(t)
	for _, name := range sortedNames(payloads) {
		_, ok := parseAtOnce(payloads[name])
		if why, slow := itemByItem[name]; ok == slow {
			if slow {
				t.Errorf("%s decoded at once, though %s", name, why)
			} else {
				t.Errorf("%s did not decode at once", name)
			}
		}
	}
}
