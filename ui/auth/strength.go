package auth

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// commonWordsText is the hand-written part of the common-password list
// (common_words.txt); commonPasswords adds the generated part.
//
//go:embed common_words.txt
var commonWordsText string

// Why a password is refused, after "invalid password: ".
const (
	tooCommon  = "this password is too common (a few unrelated words make a good one)"
	oneChar    = "one character repeated is too easy to guess"
	shortCycle = "a few characters repeated are too easy to guess"
	sequence   = "a plain sequence (like 1234567890 or abcdef) is too easy to guess"
	nearEmail  = "this password is built on the email address"
)

// CheckPassword tells whether p is acceptable as the password of the user
// with email ("" when not known yet): long enough (MinPasswordLength
// characters, at most MaxPasswordBytes bytes), and not guessable by the
// first rules a guesser tries. Refused, with ErrWeakPassword and the
// reason:
//   - a common password or the base of one: the list (common_words.txt,
//     keyboard walks, digit patterns) is matched after lowercasing, with
//     digits and symbols around the letters dropped (dragon2024!) and
//     look-alikes read as letters (p@ssw0rd);
//   - one character repeated, or a few characters repeated (abcabcabcabc);
//   - a plain sequence of digits or letters (1234567890, abcdefghij);
//   - the email's local part with too little else: what is left without
//     it must pass on its own ("ana@…": "ana2024!!!!" is refused, a
//     passphrase that happens to hold "ana" is not).
func CheckPassword(p, email string) error {
	switch {
	case utf8.RuneCountInString(p) < MinPasswordLength:
		return fmt.Errorf("%w: at least %d characters", ErrWeakPassword, MinPasswordLength)
	case len(p) > MaxPasswordBytes:
		return fmt.Errorf("%w: at most %d bytes", ErrWeakPassword, MaxPasswordBytes)
	}
	lower := strings.ToLower(p)
	if why := guessable(lower); why != "" {
		return fmt.Errorf("%w: %s", ErrWeakPassword, why)
	}
	if local := emailLocal(email); local != "" {
		for _, v := range [][2]string{{lower, local}, {unleet(lower), unleet(local)}} {
			if !strings.Contains(v[0], v[1]) {
				continue
			}
			rest := strings.TrimSpace(strings.ReplaceAll(v[0], v[1], ""))
			if utf8.RuneCountInString(rest) < MinPasswordLength || guessable(rest) != "" {
				return fmt.Errorf("%w: %s", ErrWeakPassword, nearEmail)
			}
		}
	}
	return nil
}

// emailLocal is the part of email before "@" (and before any "+tag"),
// lowercased; "" when shorter than 3 characters, which too many good
// passwords contain by chance.
func emailLocal(email string) string {
	local, _, ok := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	if !ok {
		return ""
	}
	local, _, _ = strings.Cut(local, "+")
	if utf8.RuneCountInString(local) < 3 {
		return ""
	}
	return local
}

// guessable says why the lowercased password p falls to a guesser's first
// rules, or "". Besides p itself it looks at its letters without the
// digits and symbols around them, its digits when it has few letters, and
// the part it repeats.
func guessable(p string) string {
	candidates := []string{p, strings.TrimFunc(p, isNotLetterOrDigit)}
	core := strings.TrimFunc(p, isNotLetter)
	candidates = append(candidates, core)
	if utf8.RuneCountInString(core) < 3 {
		candidates = append(candidates, strings.Map(digitsOnly, p))
	}
	for _, c := range candidates {
		if unit := repeatedUnit(c); unit != "" && !allSame(c) {
			if utf8.RuneCountInString(unit) <= 4 {
				return shortCycle
			}
			candidates = append(candidates, unit)
		}
	}
	common := commonPasswords()
	for _, c := range candidates {
		if utf8.RuneCountInString(c) < 3 {
			continue
		}
		for _, v := range []string{c, unleet(c)} {
			switch {
			case allSame(v):
				return oneChar
			case isSequence(v):
				return sequence
			case common[v]:
				return tooCommon
			}
		}
	}
	return ""
}

func isNotLetter(r rune) bool        { return !unicode.IsLetter(r) }
func isNotLetterOrDigit(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

func digitsOnly(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}

// allSame reports whether s is one character repeated.
func allSame(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	return strings.Trim(s, string(first)) == ""
}

// repeatedUnit is the shortest u such that s is u repeated at least
// twice, or "".
func repeatedUnit(s string) string {
	for n := 1; n <= len(s)/2; n++ {
		if len(s)%n == 0 && strings.Repeat(s[:n], len(s)/n) == s {
			return s[:n]
		}
	}
	return ""
}

// isSequence reports whether s is ASCII digits or letters each one up
// (or each one down) from the one before; digits wrap (7890123).
func isSequence(s string) bool {
	if len(s) < 3 {
		return false
	}
	d := seqStep(s[0], s[1])
	if d == 0 {
		return false
	}
	for i := 2; i < len(s); i++ {
		if seqStep(s[i-1], s[i]) != d {
			return false
		}
	}
	return true
}

// seqStep is +1 when b follows a (digits wrap: 9 then 0), -1 when it
// precedes it, else 0.
func seqStep(a, b byte) int {
	var d int
	switch {
	case isDigit(a) && isDigit(b):
		d = (int(b) - int(a) + 10) % 10
		if d == 9 {
			d = -1
		}
	case isLower(a) && isLower(b):
		d = int(b) - int(a)
	}
	if d != 1 && d != -1 {
		return 0
	}
	return d
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isLower(b byte) bool { return b >= 'a' && b <= 'z' }

// unleet reads the look-alikes guessers substitute as the letters they
// stand for: p@ssw0rd is password.
var unleet = strings.NewReplacer("@", "a", "4", "a", "8", "b", "(", "c", "3", "e", "6", "g", "1", "i", "!", "i", "0", "o", "$", "s", "5", "s", "7", "t", "+", "t", "2", "z").Replace

// keyboardRows are the rows (and, for the walks down, columns) a
// keyboard walk follows, on QWERTY, QWERTZ and AZERTY.
var keyboardRows = []string{
	"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm",
	"qwertzuiop", "yxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn",
}

var keyboardColumns = []string{"1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik", "9ol", "0p"}

// digitPatterns are digit strings people pick that are neither sequences
// nor repeats: keypad walks, mirrored and doubled runs, well-known numbers.
var digitPatterns = []string{
	"112233", "11223344", "1122334455", "123321", "12344321", "1234554321",
	"123123", "147258369", "147852369", "159357", "1593572486", "159753",
	"258456", "321654", "741852963", "753951", "789456123", "963852741",
	"1029384756", "1357924680", "2468013579", "13579", "24680", "8675309",
	"5201314", "147258", "789456", "456123", "654321", "987456321",
}

// commonPasswords is the set of common passwords, lowercased: the words
// of common_words.txt, every keyboard walk of four or more keys along a
// row (both ways) or down adjacent columns, interleaved digit and letter
// rows (1q2w3e4r), and digitPatterns.
var commonPasswords = sync.OnceValue(func() map[string]bool {
	set := map[string]bool{}
	for line := range strings.Lines(commonWordsText) {
		w := strings.ToLower(strings.TrimSpace(line))
		if w != "" && !strings.HasPrefix(w, "#") {
			set[w] = true
		}
	}
	for _, row := range keyboardRows {
		rev := []byte(row)
		slices.Reverse(rev)
		for _, r := range []string{row, string(rev)} {
			for i := range len(r) {
				for j := i + 4; j <= len(r); j++ {
					set[r[i:j]] = true
				}
			}
		}
	}
	for i := range keyboardColumns {
		walk, letters := keyboardColumns[i], keyboardColumns[i][1:]
		for j := i + 1; j < len(keyboardColumns); j++ {
			walk += keyboardColumns[j]
			letters += keyboardColumns[j][1:]
			set[walk], set[letters] = true, true
		}
	}
	digits, letters := keyboardRows[0], keyboardRows[1]
	for n := 3; n <= len(letters); n++ {
		var dl, ld strings.Builder
		for k := range n {
			dl.WriteByte(digits[k])
			dl.WriteByte(letters[k])
			ld.WriteByte(letters[k])
			ld.WriteByte(digits[k])
		}
		set[dl.String()], set[ld.String()] = true, true
	}
	for _, p := range digitPatterns {
		set[p] = true
	}
	return set
})
