package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/engine/policy"
	"github.com/parleyhq/parley/flows"
)

// Env is the contact as a schedule's expressions see it: the audience
// (`"vip" in contact.tags && contact.fields.city == "Berlin"`,
// `contact.opted_in && !window.open`) and the template parameters
// ("{{ contact.fields.appointment }}"). The names are the flows' (contact.*,
// window.open); the bare names schedules used first (tags, name,
// fields.x, window_open…) stay as aliases, so that saved schedules run on.
// Consent is visible for narrowing an audience, but the fan-out enforces
// it whatever the audience says.
type Env struct {
	Contact ContactEnv `expr:"contact"`
	Window  WindowEnv  `expr:"window"`

	// Aliases of Contact's fields and of Window.Open.
	Name            string         `expr:"name"`
	WaID            string         `expr:"wa_id"`
	Language        string         `expr:"language"`
	Tags            []string       `expr:"tags"`
	Fields          map[string]any `expr:"fields"`
	OptedIn         bool           `expr:"opted_in"`
	OptedOut        bool           `expr:"opted_out"`
	MarketingOptOut bool           `expr:"marketing_opt_out"`
	Unreachable     bool           `expr:"unreachable"`
	WindowOpen      bool           `expr:"window_open"`
	LastInboundAt   time.Time      `expr:"last_inbound_at"`
	// Now is the time of the fan-out, in the schedule's zone.
	Now time.Time `expr:"now"`
}

// ContactEnv is the contact under the name flows give it (contact.*): the
// fields of flows.Contact, and what a schedule also narrows by.
type ContactEnv struct {
	Name            string         `expr:"name"`
	WaID            string         `expr:"wa_id"`
	Language        string         `expr:"language"`
	Tags            []string       `expr:"tags"`
	Fields          map[string]any `expr:"fields"`
	OptedIn         bool           `expr:"opted_in"`
	OptedOut        bool           `expr:"opted_out"`
	MarketingOptOut bool           `expr:"marketing_opt_out"`
	Unreachable     bool           `expr:"unreachable"`
	LastInboundAt   time.Time      `expr:"last_inbound_at"`
}

// WindowEnv is the contact's 24-hour window, as flows see it (window.open).
type WindowEnv struct {
	Open bool `expr:"open"`
}

// envOf is c as expressions see it at now.
func envOf(c *model.Contact, now time.Time) *Env {
	env := &Env{
		Name: c.Name, WaID: c.WaID, Language: c.Language, Tags: c.Tags, Fields: c.Fields,
		OptedIn: c.OptedIn, OptedOut: c.OptedOut, MarketingOptOut: c.MarketingOptOut,
		Unreachable: c.Unreachable, WindowOpen: policy.WindowOpen(c, now), LastInboundAt: c.LastInboundAt, Now: now,
	}
	if env.Tags == nil {
		env.Tags = []string{}
	}
	if env.Fields == nil {
		env.Fields = map[string]any{}
	}
	env.Contact = ContactEnv{
		Name: env.Name, WaID: env.WaID, Language: env.Language, Tags: env.Tags, Fields: env.Fields,
		OptedIn: env.OptedIn, OptedOut: env.OptedOut, MarketingOptOut: env.MarketingOptOut,
		Unreachable: env.Unreachable, LastInboundAt: env.LastInboundAt,
	}
	env.Window = WindowEnv{Open: env.WindowOpen}
	return env
}

// MaxExprBytes caps an audience expression or a parameter: expressions
// are typed by people, and a huge one is a mistake or an attack.
const MaxExprBytes = 4000

// compileAudience compiles an audience expression; nil for "" (everyone).
func compileAudience(src string) (*vm.Program, error) {
	if src == "" {
		return nil, nil
	}
	if len(src) > MaxExprBytes {
		return nil, invalid("audience", "the expression is longer than %d bytes", MaxExprBytes)
	}
	p, err := expr.Compile(src, expr.Env(Env{}), expr.AsBool())
	if err != nil {
		return nil, invalid("audience", "%v", err)
	}
	return p, nil
}

// inAudience evaluates a compiled audience on env.
func inAudience(p *vm.Program, env *Env) (bool, error) {
	if p == nil {
		return true, nil
	}
	v, err := expr.Run(p, env)
	if err != nil {
		return false, err
	}
	b, _ := v.(bool)
	return b, nil
}

// text is a parameter cut at its {{ }} markers: literal text and
// compiled expressions in turn.
type text struct {
	parts []textPart
}

type textPart struct {
	lit  string
	prog *vm.Program
	src  string
}

// compileText compiles a parameter's {{ }} expressions; field names it
// in errors.
func compileText(field, s string) (text, error) {
	if len(s) > MaxExprBytes {
		return text{}, invalid(field, "longer than %d bytes", MaxExprBytes)
	}
	var t text
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, textPart{lit: rest})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, textPart{lit: rest[:i]})
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return text{}, invalid(field, "%q opens {{ with no closing }}", s)
		}
		src := strings.TrimSpace(rest[i+2 : i+2+j])
		if src == "" {
			return text{}, invalid(field, "%q has an empty {{ }}", s)
		}
		p, err := expr.Compile(src, expr.Env(Env{}))
		if err != nil {
			return text{}, invalid(field, "{{ %s }}: %v", src, err)
		}
		t.parts = append(t.parts, textPart{prog: p, src: src})
		rest = rest[i+2+j+2:]
	}
}

// render fills the text from env. The result is never evaluated again.
func (t text) render(env *Env) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.prog == nil {
			b.WriteString(p.lit)
			continue
		}
		v, err := expr.Run(p.prog, env)
		if err != nil {
			return "", fmt.Errorf("{{ %s }}: %w", p.src, err)
		}
		b.WriteString(flows.Stringify(v))
	}
	return b.String(), nil
}

// templateTexts is a template action's parameters, compiled, by their
// place in the template (flows.TemplateRef.EachText).
type templateTexts struct {
	texts map[string]text
}

func compileTemplate(t *Template) (*templateTexts, error) {
	if t == nil {
		return nil, invalid("action.template", "a send_template action names a template")
	}
	if strings.TrimSpace(t.Name) == "" || strings.TrimSpace(t.Language) == "" {
		return nil, invalid("action.template", "a template needs a name and a language")
	}
	out := &templateTexts{texts: map[string]text{}}
	var err error
	t.EachText(func(place string, s *string) {
		if err != nil || *s == "" {
			return
		}
		x, e := compileText(templateField(place), *s)
		if e != nil {
			err = e
			return
		}
		out.texts[place] = x
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// templateField names a place in a template action ("body/1/text") as
// the schedule's errors name fields: action.template.body[1].text.
func templateField(place string) string {
	var b strings.Builder
	b.WriteString("action.template")
	for _, seg := range strings.Split(place, "/") {
		if seg == "" {
			continue
		}
		if _, err := strconv.Atoi(seg); err == nil {
			b.WriteString("[" + seg + "]")
		} else {
			b.WriteString("." + seg)
		}
	}
	return b.String()
}

// render fills the template's parameters for one contact.
func (tt *templateTexts) render(t *Template, env *Env) (flows.TemplateSend, error) {
	out := t.Clone()
	var err error
	out.EachText(func(place string, s *string) {
		x, ok := tt.texts[place]
		if !ok || err != nil {
			return
		}
		*s, err = x.render(env)
	})
	return flows.TemplateSend(out), err
}
