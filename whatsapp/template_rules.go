package whatsapp

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Meta's limits on a template as sent (docs/whatsapp.md §4.5): counted in
// characters after the variables are filled in.
const (
	// MaxTemplateHeaderText is the most a text header may hold (132005).
	MaxTemplateHeaderText = 60
	// MaxTemplateBodyText is the most a body may hold (132005).
	MaxTemplateBodyText = 1024
	// MaxTemplateSpaces is the longest run of spaces a text parameter may
	// hold; more is refused with 100 ("Param text cannot have new-line/tab
	// characters or more than 4 consecutive spaces").
	MaxTemplateSpaces = 4
)

// TemplateTextProblem says why Meta refuses s as a template's text
// parameter, or "": it is empty (131008), or holds a newline, a tab or
// more than MaxTemplateSpaces spaces in a row (100).
func TemplateTextProblem(s string) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "is empty; WhatsApp refuses an empty parameter (131008)"
	case strings.ContainsAny(s, "\n\r"):
		return "holds a line break; WhatsApp refuses newlines in a template parameter"
	case strings.Contains(s, "\t"):
		return "holds a tab; WhatsApp refuses tabs in a template parameter"
	case strings.Contains(s, strings.Repeat(" ", MaxTemplateSpaces+1)):
		return "holds more than 4 spaces in a row; WhatsApp refuses that in a template parameter"
	}
	return ""
}

// templateVariable finds a template variable: {{1}} or {{first_name}}.
var templateVariable = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

// TemplateVariables returns the distinct variables of a template text, in
// the order they first appear: "1", "2" … or names.
func TemplateVariables(text string) []string {
	var names []string
	seen := map[string]bool{}
	for _, m := range templateVariable.FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			names = append(names, m[1])
		}
	}
	return names
}

// FillTemplateText replaces each variable of text by its value in values
// (by variable: "1" or "first_name"); a variable without a value stays as
// it is.
func FillTemplateText(text string, values map[string]string) string {
	return templateVariable.ReplaceAllStringFunc(text, func(m string) string {
		name := templateVariable.FindStringSubmatch(m)[1]
		if v, ok := values[name]; ok {
			return v
		}
		return m
	})
}

// TemplateTextLength counts characters as Meta does for its limits.
func TemplateTextLength(s string) int { return utf8.RuneCountInString(s) }
