package flows

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Env is what an expression can see. Its shape is fixed so that every
// expression is type-checked when a flow is validated, not when a customer
// happens to reach it.
type Env struct {
	Contact      Contact        `expr:"contact"`
	Vars         map[string]any `expr:"vars"`
	Reply        Reply          `expr:"reply"`
	Now          time.Time      `expr:"now"`
	Window       Window         `expr:"window"`
	Conversation Conversation   `expr:"conversation"`
}

// Contact is the customer as expressions see them.
type Contact struct {
	WaID     string         `expr:"wa_id" json:"wa_id,omitempty"`
	Name     string         `expr:"name" json:"name,omitempty"`
	Language string         `expr:"language" json:"language,omitempty"`
	Tags     []string       `expr:"tags" json:"tags,omitempty"`
	Fields   map[string]any `expr:"fields" json:"fields,omitempty"`
	OptedIn  bool           `expr:"opted_in" json:"opted_in,omitempty"`
}

// Reply is the customer's latest message, as a wait_reply or auto_reply node
// and expressions see it. Whatever WhatsApp type it came as, it is folded
// into these fields.
type Reply struct {
	Type     string    `expr:"type" json:"type"`
	Text     string    `expr:"text" json:"text,omitempty"`
	ButtonID string    `expr:"button_id" json:"button_id,omitempty"`
	ListID   string    `expr:"list_id" json:"list_id,omitempty"`
	Title    string    `expr:"title" json:"title,omitempty"`
	Number   float64   `expr:"number" json:"number,omitempty"`
	IsNumber bool      `expr:"is_number" json:"is_number,omitempty"`
	Location *Location `expr:"location" json:"location,omitempty"`
	Media    *MediaIn  `expr:"media" json:"media,omitempty"`

	// The rest of what WhatsApp sent (reply.go). Each is empty (its zero
	// value, never nil to an expression) when the message did not carry it.
	Contacts     []ContactCard  `expr:"contacts" json:"contacts,omitempty"`
	Order        Order          `expr:"order" json:"order,omitzero"`
	Reaction     Reaction       `expr:"reaction" json:"reaction,omitzero"`
	Context      ReplyContext   `expr:"context" json:"context,omitzero"`
	Referral     Referral       `expr:"referral" json:"referral,omitzero"`
	FlowResponse map[string]any `expr:"flow_response" json:"flow_response,omitempty"`

	// OriginalID is, for an edit or a revoke, the id (wamid) of the
	// message it changes. Edits and revokes never reach a flow, so
	// expressions do not see it.
	OriginalID string `json:"original_id,omitempty"`
}

// Reply types beyond the message types: a tap on an interactive button or
// list row, and a tap on a template's quick-reply button (which WhatsApp
// sends as a different shape, folded here into ButtonID).
const (
	ReplyButton = "button"
	ReplyList   = "list"
	ReplyOther  = "other"
)

// Location is a shared location.
type Location struct {
	Latitude  float64 `expr:"latitude" json:"latitude"`
	Longitude float64 `expr:"longitude" json:"longitude"`
	Name      string  `expr:"name" json:"name,omitempty"`
	Address   string  `expr:"address" json:"address,omitempty"`
}

// MediaIn is a media object a customer sent.
type MediaIn struct {
	ID       string `expr:"id" json:"id,omitempty"`
	MimeType string `expr:"mime_type" json:"mime_type,omitempty"`
	Caption  string `expr:"caption" json:"caption,omitempty"`
	Filename string `expr:"filename" json:"filename,omitempty"`
}

// Window is the 24-hour customer-service window.
type Window struct {
	Open      bool      `expr:"open"`
	ExpiresAt time.Time `expr:"expires_at"`
}

// Conversation is the running conversation.
type Conversation struct {
	ID        string    `expr:"id"`
	Flow      string    `expr:"flow"`
	Version   int       `expr:"version"`
	StartedAt time.Time `expr:"started_at"`
}

// HasAnyWord reports whether text contains any of keywords as whole words,
// ignoring case and accents. A keyword of several words ("opening hours",
// "e-mail") matches those words side by side.
func HasAnyWord(text string, keywords []string) bool {
	fields := Words(text)
	for _, kw := range keywords {
		kws := Words(kw)
		if len(kws) == 0 || len(kws) > len(fields) {
			continue
		}
		for i := 0; i+len(kws) <= len(fields); i++ {
			if slices.Equal(fields[i:i+len(kws)], kws) {
				return true
			}
		}
	}
	return false
}

// FirstWord is the first word of text, folded (see Fold); keyword triggers
// and interrupts match on it.
func FirstWord(text string) string {
	if ws := Words(text); len(ws) > 0 {
		return ws[0]
	}
	return ""
}

// Words splits text into folded words.
func Words(text string) []string {
	return strings.FieldsFunc(Fold(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
}

// Fold lower-cases s and strips the accents of Latin letters, so that
// "Órden" matches the keyword "orden".
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		if f, ok := accentFold[r]; ok {
			b.WriteRune(f)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

var accentFold = func() map[rune]rune {
	m := map[rune]rune{}
	for base, accented := range map[rune]string{
		'a': "àáâãäåā", 'c': "çćč", 'e': "èéêëēėę", 'i': "ìíîïī", 'n': "ñń",
		'o': "òóôõöøō", 'u': "ùúûüū", 'y': "ýÿ", 's': "śš", 'z': "źżž", 'l': "ł",
	} {
		for _, r := range accented {
			m[r] = base
		}
	}
	return m
}()

var regexCache sync.Map // pattern -> *regexp.Regexp or error

// Regexp compiles pattern once and caches it; flows repeat the same few.
func Regexp(pattern string) (*regexp.Regexp, error) {
	if v, ok := regexCache.Load(pattern); ok {
		if re, ok := v.(*regexp.Regexp); ok {
			return re, nil
		}
		return nil, v.(error)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		regexCache.Store(pattern, err)
		return nil, err
	}
	regexCache.Store(pattern, re)
	return re, nil
}

// exprFunctions are Parley's helpers beyond expr-lang's own. Regular
// expressions use expr-lang's operator, `reply.text matches '^[0-9]+$'`:
// a function of the same name cannot be declared beside it.
var exprFunctions = []expr.Option{
	// has_any takes a list literal (['refund', 'money']), which expr types
	// as []any, as well as a []string such as contact.tags.
	expr.Function("has_any", func(params ...any) (any, error) {
		text, _ := params[0].(string)
		switch words := params[1].(type) {
		case []string:
			return HasAnyWord(text, words), nil
		case []any:
			ws := make([]string, len(words))
			for i, w := range words {
				ws[i] = Stringify(w)
			}
			return HasAnyWord(text, ws), nil
		}
		return false, nil
	}, new(func(string, []string) bool), new(func(string, []any) bool)),
}

// exprKind says what an expression must produce.
type exprKind uint8

const (
	kindAny exprKind = iota
	kindBool
)

type programKey struct {
	src  string
	kind exprKind
}

// programs caches compiled expressions; flows share it once compiled.
type programs struct{ m sync.Map }

func compile(src string, kind exprKind) (*vm.Program, error) {
	opts := append([]expr.Option{expr.Env(Env{})}, exprFunctions...)
	if kind == kindBool {
		opts = append(opts, expr.AsBool())
	}
	return expr.Compile(src, opts...)
}

func (p *programs) get(src string, kind exprKind) (*vm.Program, error) {
	k := programKey{src, kind}
	if v, ok := p.m.Load(k); ok {
		return v.(*vm.Program), nil
	}
	prog, err := compile(src, kind)
	if err != nil {
		return nil, err
	}
	p.m.Store(k, prog)
	return prog, nil
}

func (f *Flow) progs() *programs {
	if f.programs == nil {
		f.programs = &programs{}
	}
	return f.programs
}

// Eval evaluates an expression of this flow against env.
func (f *Flow) Eval(src string, env *Env) (any, error) {
	prog, err := f.progs().get(src, kindAny)
	if err != nil {
		return nil, err
	}
	return expr.Run(prog, env)
}

// Test evaluates a boolean expression (a `when` or `valid`) against env.
func (f *Flow) Test(src string, env *Env) (bool, error) {
	prog, err := f.progs().get(src, kindBool)
	if err != nil {
		return false, err
	}
	v, err := expr.Run(prog, env)
	if err != nil {
		return false, err
	}
	b, _ := v.(bool)
	return b, nil
}

// StartsWithKeyword reports whether text begins with the words of keyword,
// folded: "Order status please" starts with "order status" and "ORDER".
func StartsWithKeyword(text, keyword string) bool {
	kw := Words(keyword)
	if len(kw) == 0 {
		return false
	}
	words := Words(text)
	if len(words) < len(kw) {
		return false
	}
	for i, w := range kw {
		if words[i] != w {
			return false
		}
	}
	return true
}
