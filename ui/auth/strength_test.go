package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parleyhq/parley/ui/auth"
)

// TestCheckPassword: the rules a guesser tries first are refused with the
// reason; passphrases pass, including every password the other tests use.
func TestCheckPassword(t *testing.T) {
	const (
		common   = "this password is too common"
		oneChar  = "one character repeated"
		cycle    = "a few characters repeated"
		sequence = "a plain sequence"
		email    = "built on the email address"
	)
	tests := []struct {
		password, email string
		want            string // in the error; "" for accepted
	}{
		{"short", "", "at least 10 characters"},
		{"ünïcödé-10", "", ""}, // 10 characters, 14 bytes
		{strings.Repeat("é", 37), "", "at most 72 bytes"},

		{"password123", "", common},
		{"Password2024!", "", common},
		{"P@ssw0rd2024", "", common},
		{"passwordpassword", "", common},
		{"iloveyou123", "", common},
		{"dragon1234567", "", common},
		{"!!welcome2026", "", common},
		{"qwertyuiop", "", common},
		{"QWERTY123456", "", common},
		{"poiuytrewq", "", common},
		{"asdfghjkl;", "", common},
		{"1qaz2wsx3edc", "", common},
		{"qazwsxedcrfv", "", common},
		{"1q2w3e4r5t", "", common},
		{"azertyuiop", "", common},
		{"1122334455", "", common},
		{"147258369!", "", common},
		{"letmein!!!!", "", common},

		{"aaaaaaaaaa", "", oneChar},
		{"0000000000", "", oneChar},
		{"zzzzzz2024", "", oneChar},
		{"abcabcabcabc", "", cycle},
		{"1212121212", "", cycle},
		{"xq7!xq7!xq7!", "", cycle},

		{"1234567890", "", sequence},
		{"0987654321", "", sequence},
		{"7890123456", "", sequence},
		{"abcdefghijk", "", sequence},
		{"ZYXWVUTSRQ", "", sequence},
		{"123456789a", "", sequence},
		{"x1234567890", "", sequence},
		{"abcdef2024", "", sequence},

		{"ana2024!!!!", "ana@example.com", email},
		{"Sam.Johnson99", "sam.johnson@example.com", email},
		{"jdoe-password", "jdoe+parley@example.com", email},
		{"adminadmin12", "admin@example.com", common},
		{"banana split forever", "ana@example.com", ""},
		{"e2e admin password", "admin@e2e.test", ""},
		{"bo1234567890", "bo@example.com", sequence}, // a 2-letter local part is not looked for, the rest still is

		{"correct horse battery", "", ""},
		{"a brand new passphrase", "", ""},
		{"Tr0ub4dor&3xyz", "", ""},
		{"fixture password", "admin@parley.test", ""},
		{"long enough pw", "new@example.com", ""},
		{"mauve kettle 42", "", ""},
		{"8h3kq9z2mw", "", ""},
	}
	for _, tc := range tests {
		err := auth.CheckPassword(tc.password, tc.email)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q (%s): %v, want it accepted", tc.password, tc.email, err)
		case tc.want != "" && (err == nil || !errors.Is(err, auth.ErrWeakPassword) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q (%s): %v, want ErrWeakPassword with %q", tc.password, tc.email, err, tc.want)
		}
	}
}
