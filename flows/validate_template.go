package flows

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/whatsapp"
)

// Limits of a template send that hold whatever the template
// (docs/whatsapp.md §4.5).
const (
	// MaxTemplateButtons is how many buttons a template has at most.
	MaxTemplateButtons = 10
	// MaxCarouselCards is how many cards a carousel template has at most.
	MaxCarouselCards = 10
)

// namedParam is how a NAMED template's variables are spelled.
var namedParam = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)

// templateRef checks what can be checked of a template node without the
// template registry (the engine checks the rest against it at publish):
// each parameter of one kind, media and locations in headers only, names
// on all body parameters or none, typed buttons given what their type
// needs, each button filled once, literal texts within Meta's text rules.
func (c *checker) templateRef(ptr string, t *TemplateRef) {
	eachTemplateText(t, func(place string, s *string) {
		c.text(ptr+"/"+place, *s)
	})
	c.templateParams(ptr+"/header", t.Header, true)
	c.templateParams(ptr+"/body", t.Body, false)
	c.templateButtons(ptr+"/buttons", t.Buttons)
	if len(t.Cards) > MaxCarouselCards {
		c.errorf(ptr+"/cards", "has %d cards; a carousel has at most %d", len(t.Cards), MaxCarouselCards)
	}
	for i, card := range t.Cards {
		cp := fmt.Sprintf("%s/cards/%d", ptr, i)
		c.templateParams(cp+"/header", card.Header, true)
		for k, p := range card.Header {
			if p.Media() == nil {
				c.errorf(fmt.Sprintf("%s/header/%d", cp, k), "a carousel card's header is an image or a video")
			}
		}
		c.templateParams(cp+"/body", card.Body, false)
		c.templateButtons(cp+"/buttons", card.Buttons)
	}
	if s := t.OfferExpiresAt; s != "" && !strings.Contains(s, "{{") {
		if _, err := OfferExpiry(s); err != nil {
			c.errorf(ptr+"/offer_expires_at", "is neither an RFC 3339 time (2026-12-31T23:59:00Z) nor Unix milliseconds")
		}
	}
}

// templateParams checks one component's parameters.
func (c *checker) templateParams(ptr string, ps []TemplateParam, header bool) {
	named := 0
	names := map[string]bool{}
	for k := range ps {
		p := &ps[k]
		pp := fmt.Sprintf("%s/%d", ptr, k)
		kind := p.Kind()
		switch kind {
		case "mixed":
			c.errorf(pp, "gives more than one kind of value; a parameter is one of text, currency, date_time, image, video, document or location")
			continue
		case ParamImage, ParamVideo, ParamDocument, ParamLocation:
			if !header {
				c.errorf(pp, "is a %s; only a header takes one", kind)
			}
			if m := p.Media(); m != nil && (m.Link == "") == (m.ID == "") {
				c.errorf(pp+"/"+kind, "needs exactly one of link and id")
			}
		case ParamCurrency:
			if a := string(p.Currency.Amount1000); !strings.Contains(a, "{{") {
				if _, err := strconv.ParseInt(a, 10, 64); err != nil {
					c.errorf(pp+"/currency/amount_1000", "must be a whole number: the amount times 1000 (12990 for 12.99)")
				}
			}
			c.literalParam(pp+"/currency/fallback_value", p.Currency.FallbackValue)
		case ParamDateTime:
			c.literalParam(pp+"/date_time/fallback_value", p.DateTime.FallbackValue)
		case ParamText:
			at := pp
			if !isString(p) {
				at += "/text"
			}
			c.literalParam(at, p.Text)
		}
		if p.Name != "" {
			named++
			if !namedParam.MatchString(p.Name) {
				c.errorf(pp+"/name", "%q is not a variable name: lowercase letters, digits and _", p.Name)
			} else if names[p.Name] {
				c.errorf(pp+"/name", "fills {{%s}} again; give each variable once", p.Name)
			}
			names[p.Name] = true
		}
	}
	if named > 0 && named < len(ps) {
		c.errorf(ptr, "names some parameters and not others; a template's variables are all named or all positional (132000)")
	}
}

// literalParam applies Meta's text rules to a parameter with nothing to
// fill in: what it holds is what is sent.
func (c *checker) literalParam(ptr, s string) {
	if strings.Contains(s, "{{") {
		return // checked once rendered, at the send
	}
	if why := whatsapp.TemplateTextProblem(s); why != "" {
		c.errorf(ptr, "%s", why)
	}
}

// templateButtons checks the buttons of a template or card.
func (c *checker) templateButtons(ptr string, bs []TemplateButton) {
	type slot struct {
		legacy bool
		index  int
	}
	seen := map[slot]bool{}
	for k, b := range bs {
		bp := fmt.Sprintf("%s/%d", ptr, k)
		s := slot{b.Legacy(), b.Index}
		if seen[s] {
			// At the button, not its index: the index may be missing (0).
			c.errorf(bp, "fills button %d again; give each button index once", b.Index)
		}
		seen[s] = true
		need, field := "", ""
		switch b.Type {
		case "", ButtonQuickReply:
			need, field = b.Payload, "payload"
		case ButtonURL:
			need, field = b.Text, "text"
		case ButtonCopyCode, ButtonOTP:
			need, field = b.Code, "code"
		}
		if need == "" {
			c.errorf(bp, "a %s button needs a %s", orQuickReply(b.Type), field)
		}
		for _, other := range []struct{ name, v string }{{"payload", b.Payload}, {"text", b.Text}, {"code", b.Code}} {
			if other.name != field && other.v != "" {
				c.errorf(bp+"/"+other.name, "is not used by a %s button (it takes a %s)", orQuickReply(b.Type), field)
			}
		}
		if b.Type == ButtonCopyCode || b.Type == ButtonOTP {
			if !strings.Contains(b.Code, "{{") && len([]rune(b.Code)) > 15 {
				c.errorf(bp+"/code", "is %d characters; a code holds at most 15", len([]rune(b.Code)))
			}
		}
	}
}

func orQuickReply(typ string) string {
	if typ == "" {
		return ButtonQuickReply
	}
	return typ
}
