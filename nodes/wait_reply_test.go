package nodes_test

import (
	"testing"

	"github.com/parleyhq/parley/nodes"
)

// TestParseNumber covers more spellings than the wait_reply table: what
// customers type is a number, and nothing else strconv would read is.
func TestParseNumber(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"42", 42, true},
		{" 3.5 ", 3.5, true},
		{"3,5", 3.5, true},
		{"12,50", 12.5, true},
		{"1,000", 1000, true},
		{"1,000,000", 1e6, true},
		{"1 000", 1000, true},
		{"1\u00a0000", 1000, true}, // no-break space
		{"1\u202f000", 1000, true}, // narrow no-break space, as French keyboards type it
		{"-2", -2, true},
		{"+5", 5, true},
		{".5", 0.5, true},
		{"5.", 5, true},
		{"0", 0, true},

		{"", 0, false},
		{"   ", 0, false},
		{"-", 0, false},
		{".", 0, false},
		{"a dozen", 0, false},
		{"1,5,0", 0, false},
		{"1.000,5", 0, false},
		{"1.2.3", 0, false},
		{"3 kg", 0, false},
		// strconv.ParseFloat reads these; a store of JSON variables cannot
		// hold NaN or an infinity, and no customer means the others.
		{"nan", 0, false},
		{"NaN", 0, false},
		{"inf", 0, false},
		{"-Inf", 0, false},
		{"Infinity", 0, false},
		{"1e3", 0, false},
		{"0x1p4", 0, false},
		{"1_000", 0, false},
		{"١٢", 0, false}, // Arabic-Indic digits are not read (yet)
	} {
		got, ok := nodes.ParseNumber(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
