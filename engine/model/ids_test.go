package model_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

func TestIDValidators(t *testing.T) {
	cases := []struct {
		name  string
		check func(string) error
		in    string
		ok    bool
	}{
		{"contact by wa_id", model.CheckContactKey, "100000000000001:15551234567", true},
		{"contact by BSUID", model.CheckContactKey, "100000000000001:US.13491208655302741918", true},
		{"contact without business number", model.CheckContactKey, "15551234567", false},
		{"contact with letters as business number", model.CheckContactKey, "pn:15551234567", false},
		{"contact with an empty identity", model.CheckContactKey, "1065:", false},
		{"contact with a path", model.CheckContactKey, "1065:../../etc/passwd", false},
		{"contact with a second colon", model.CheckContactKey, "1065:49:12", false},
		{"contact with #", model.CheckContactKey, "1065:49#3", false},
		{"contact with a space", model.CheckContactKey, "1065:49 12", false},
		{"contact with RLO", model.CheckContactKey, "1065:49\u202e12", false},
		{"contact with zero-width space", model.CheckContactKey, "1065:49\u200b12", false},
		{"contact with NUL", model.CheckContactKey, "1065:49\x0012", false},
		{"contact with invalid UTF-8", model.CheckContactKey, "1065:49\xff", false},
		{"contact too long", model.CheckContactKey, "1065:" + strings.Repeat("9", 151), false},
		{"conversation", model.CheckConversationID, "100000000000001:15551234567#1", true},
		{"conversation 12", model.CheckConversationID, "100000000000001:US.1349#12", true},
		{"conversation without #", model.CheckConversationID, "100000000000001:15551234567", false},
		{"conversation with #x", model.CheckConversationID, "100000000000001:15551234567#x", false},
		{"conversation with #", model.CheckConversationID, "100000000000001:15551234567#", false},
		{"conversation of a bad contact", model.CheckConversationID, "1065:../x#1", false},
		{"conversation number too long", model.CheckConversationID, "1065:1#12345678901", false},
		{"flow", flows.CheckID, "order_status_2", true},
		{"flow of 64", flows.CheckID, strings.Repeat("a", 64), true},
		{"flow of 65", flows.CheckID, strings.Repeat("a", 65), false},
		{"flow empty", flows.CheckID, "", false},
		{"flow uppercase", flows.CheckID, "Echo", false},
		{"flow path", flows.CheckID, "../../etc/passwd", false},
		{"flow markup", flows.CheckID, "<script>", false},
		{"flow RLO", flows.CheckID, "ab\u202ecd", false},
		{"flow zero-width", flows.CheckID, "ab\u200bcd", false},
		{"flow trailing newline", flows.CheckID, "echo\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.check(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("%+q: %v, want ok %v", tc.in, err, tc.ok)
			}
			if err != nil && !errors.Is(err, model.ErrInvalidID) && !errors.Is(err, flows.ErrInvalidID) {
				t.Errorf("%v wraps neither ErrInvalidID", err)
			}
		})
	}
}
