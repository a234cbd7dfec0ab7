package templates

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
	"github.com/parleyhq/parley/whatsapp"
)

// Meta's limit on a carousel card's body after substitution (132005).
const maxCardBodyText = 160

// ShapeFromWhatsApp reads a template's shape from its definition.
func ShapeFromWhatsApp(t whatsapp.Template) *model.TemplateShape {
	s := &model.TemplateShape{ParameterFormat: strings.ToUpper(t.ParameterFormat)}
	if s.ParameterFormat == "" {
		s.ParameterFormat = whatsapp.ParamsPositional
	}
	for _, c := range t.Components {
		switch strings.ToUpper(c.Type) {
		case "HEADER":
			s.HeaderFormat = strings.ToUpper(c.Format)
			if s.HeaderFormat == "" {
				s.HeaderFormat = "TEXT"
			}
			s.HeaderText = c.Text
		case "BODY":
			s.BodyText = c.Text
		case "BUTTONS":
			s.Buttons = shapeButtons(c.Buttons)
		case "CAROUSEL":
			for _, card := range c.Cards {
				var cs model.CardShape
				for _, cc := range card.Components {
					switch strings.ToUpper(cc.Type) {
					case "HEADER":
						cs.HeaderFormat = strings.ToUpper(cc.Format)
					case "BODY":
						cs.BodyText = cc.Text
					case "BUTTONS":
						cs.Buttons = shapeButtons(cc.Buttons)
					}
				}
				s.Cards = append(s.Cards, cs)
			}
		case "LIMITED_TIME_OFFER":
			s.LimitedTimeOffer = true
			s.OfferExpires = c.LimitedTimeOffer != nil && c.LimitedTimeOffer.HasExpiration
		}
	}
	return s
}

func shapeButtons(bs []whatsapp.TemplateButton) []model.ShapeButton {
	out := make([]model.ShapeButton, len(bs))
	for i, b := range bs {
		typ := strings.ToUpper(b.Type)
		out[i] = model.ShapeButton{Type: typ, Dynamic: typ == "URL" && len(whatsapp.TemplateVariables(b.URL)) > 0, Text: b.Text}
	}
	return out
}

// sameShape compares two shapes (records are compared when synced).
func sameShape(a, b *model.TemplateShape) bool { return reflect.DeepEqual(a, b) }

// Problem is one way a template send does not fit its template or
// breaks Meta's rules for its texts.
type Problem struct {
	// Path is where, relative to the template: "body/1", "buttons/0",
	// "cards/2/header", "" for the template as a whole.
	Path string
	// Kind is ProblemFit (the send does not fit the template: Meta answers
	// 132000, 132012, 131008 or 131009 — the template is blocked), or
	// ProblemText (a text breaks Meta's rules once filled in: the message
	// is refused as rendered), or ProblemWarning (it goes, but is not what
	// it seems).
	Kind    string
	Message string
}

// Kinds of Problem.
const (
	ProblemFit     = "fit"
	ProblemText    = "text"
	ProblemWarning = "warning"
)

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// CheckTemplateSend is THE check of a template send against its template
// (docs/flow-format.md, "Template parameters"), used at publish
// (CheckFlowTemplates, on a flow's unrendered parameters: rendered false),
// when a send is queued (templateBlock, blockTemplate) and when it is
// dispatched (deliveryBlock, toWhatsApp). It checks:
//
//   - the header: none, a text one with its variables, or one parameter of
//     the media kind the template's header is (132012);
//   - the body's variables: as many as the template has (132000), named
//     ones by their names for a NAMED template, of text, currency or
//     date_time kind;
//   - Meta's text rules on every text parameter (no newline, tab, more than
//     4 spaces in a row, nothing empty) and the header (60) and body (1024)
//     lengths after substitution (132005); unrendered texts that still hold
//     {{ }} are left to the send;
//   - each button filled at a position the template has, of the type the
//     button is there; every dynamic URL, copy-code and OTP button filled;
//   - a carousel's cards, every one of them, and a limited-time offer's end.
//
// A template known only by its parameter counts (no Shape) is checked by
// those counts, as before shapes were recorded.
func CheckTemplateSend(info model.TemplateInfo, ts *flows.TemplateSend, rendered bool) []Problem {
	c := &fillCheck{rendered: rendered}
	if info.Shape == nil {
		c.byCounts(info, ts)
		return c.ps
	}
	s := info.Shape
	c.header("header", s.HeaderFormat, s.HeaderText, ts.Header, s.ParameterFormat, whatsapp.MaxTemplateHeaderText)
	c.body("body", s.BodyText, ts.Body, s.ParameterFormat, whatsapp.MaxTemplateBodyText)
	c.buttons("buttons", s.Buttons, ts.Buttons)
	switch {
	case len(s.Cards) == 0 && len(ts.Cards) > 0:
		c.fit("cards", "template %s is not a carousel; it has no cards to fill", info.Name)
	case len(s.Cards) > 0 && len(ts.Cards) != len(s.Cards):
		c.fit(pathOr("cards", len(ts.Cards) > 0), "the carousel has %d cards; the send fills %d (every card is filled)", len(s.Cards), len(ts.Cards))
	}
	for i := range min(len(s.Cards), len(ts.Cards)) {
		cs, card := s.Cards[i], ts.Cards[i]
		p := fmt.Sprintf("cards/%d", i)
		c.header(p+"/header", cs.HeaderFormat, "", card.Header, s.ParameterFormat, 0)
		c.body(p+"/body", cs.BodyText, card.Body, s.ParameterFormat, maxCardBodyText)
		c.buttons(p+"/buttons", cs.Buttons, card.Buttons)
	}
	switch {
	case ts.OfferExpiresAt != "" && !s.LimitedTimeOffer:
		c.fit("offer_expires_at", "template %s is not a limited-time offer", info.Name)
	case ts.OfferExpiresAt == "" && s.OfferExpires:
		c.fit("", "template %s is a limited-time offer with a countdown: offer_expires_at must say when it ends", info.Name)
	case ts.OfferExpiresAt != "" && c.settled(ts.OfferExpiresAt):
		if _, err := flows.OfferExpiry(ts.OfferExpiresAt); err != nil {
			c.text("offer_expires_at", "%v", err)
		}
	}
	return c.ps
}

// fillCheck gathers the problems of one CheckTemplateSend.
type fillCheck struct {
	rendered bool
	ps       []Problem
}

func (c *fillCheck) add(kind, path, format string, a ...any) {
	c.ps = append(c.ps, Problem{Path: path, Kind: kind, Message: fmt.Sprintf(format, a...)})
}
func (c *fillCheck) fit(path, format string, a ...any) { c.add(ProblemFit, path, format, a...) }
func (c *fillCheck) text(path, format string, a ...any) {
	c.add(ProblemText, path, format, a...)
}

// settled reports whether s is what will be sent: rendered, or holding no
// {{ }} to fill in.
func (c *fillCheck) settled(s string) bool { return c.rendered || !strings.Contains(s, "{{") }

func pathOr(p string, given bool) string {
	if given {
		return p
	}
	return ""
}

// byCounts is the check of a template known by its counts only.
func (c *fillCheck) byCounts(info model.TemplateInfo, ts *flows.TemplateSend) {
	count := func(part string, given []flows.TemplateParam, takes int) {
		if len(given) != takes {
			c.fit(pathOr(part, len(given) > 0), "template %q %s takes %d parameter(s); the send gives %d", info.Name, part, takes, len(given))
			return
		}
		for i := range given {
			c.paramText(fmt.Sprintf("%s/%d", part, i), &given[i])
		}
	}
	count("header", ts.Header, info.HeaderParams)
	count("body", ts.Body, info.BodyParams)
	for k, b := range ts.Buttons {
		if b.Type != "" && b.Type != flows.ButtonQuickReply || b.Index < 0 || b.Index >= info.QuickReplies {
			c.fit(fmt.Sprintf("buttons/%d", k), "template %q has %d quick-reply button(s); there is no button %d to fill", info.Name, info.QuickReplies, b.Index)
		}
	}
}

// paramText applies the text rules to a parameter's text.
func (c *fillCheck) paramText(path string, p *flows.TemplateParam) {
	var s, at string
	switch p.Kind() {
	case flows.ParamText:
		s, at = p.Text, path
	case flows.ParamCurrency:
		s, at = p.Currency.FallbackValue, path+"/currency/fallback_value"
		if a := string(p.Currency.Amount1000); c.settled(a) {
			if _, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64); err != nil {
				c.text(path+"/currency/amount_1000", "is not a whole number (the amount times 1000)")
			}
		}
	case flows.ParamDateTime:
		s, at = p.DateTime.FallbackValue, path+"/date_time/fallback_value"
	default:
		return
	}
	if !c.settled(s) {
		return
	}
	if why := whatsapp.TemplateTextProblem(s); why != "" {
		c.text(at, "%s", why)
	}
}

// header checks a header's parameters against its format.
func (c *fillCheck) header(path, format, text string, given []flows.TemplateParam, paramFormat string, maxLen int) {
	switch format {
	case "":
		if len(given) > 0 {
			c.fit(path, "the template has no header to fill")
		}
	case "TEXT":
		c.body(path, text, given, paramFormat, maxLen)
	default:
		want := strings.ToLower(format)
		switch {
		case len(given) != 1:
			c.fit(path, "the template's header is %s: give it one %s parameter (132012)", article(want), want)
		case given[0].Kind() != want:
			c.fit(path+"/0", "the template's header is %s, not %s (132012)", article(want), article(given[0].Kind()))
		}
	}
}

// body checks the parameters of a text with variables (a body, a text
// header, a card's body) and its length once filled in.
func (c *fillCheck) body(path, text string, given []flows.TemplateParam, paramFormat string, maxLen int) {
	vars := whatsapp.TemplateVariables(text)
	if len(given) != len(vars) {
		c.fit(pathOr(path, len(given) > 0), "the template's %s takes %d parameter(s) (%s); the send gives %d (132000)",
			strings.ReplaceAll(path, "/", " "), len(vars), varList(vars), len(given))
		return
	}
	values, settled := map[string]string{}, true
	named := strings.EqualFold(paramFormat, whatsapp.ParamsNamed)
	want := map[string]bool{}
	for _, v := range vars {
		want[v] = true
	}
	for i := range given {
		p := &given[i]
		at := fmt.Sprintf("%s/%d", path, i)
		switch k := p.Kind(); k {
		case flows.ParamText, flows.ParamCurrency, flows.ParamDateTime:
		default:
			c.fit(at, "%s cannot fill a text variable", article(k))
			continue
		}
		name := vars[i]
		if p.Name != "" {
			switch {
			case !named:
				c.fit(at+"/name", "the template is POSITIONAL ({{1}}, {{2}} …): its parameters have no names (132000)")
			case !want[p.Name]:
				c.fit(at+"/name", "{{%s}} is not a variable of the template (%s) (132000)", p.Name, varList(vars))
			}
			name = p.Name
		}
		if _, dup := values[name]; dup {
			c.fit(at, "fills {{%s}} again: each variable is filled once (132000)", name)
		}
		c.paramText(at, p)
		v := p.Display()
		if !c.settled(v) {
			settled = false
		}
		values[name] = v
	}
	if maxLen > 0 && settled {
		filled := whatsapp.FillTemplateText(text, values)
		if n := whatsapp.TemplateTextLength(filled); n > maxLen {
			c.text(path, "is %d characters once filled in; WhatsApp allows %d (132005)", n, maxLen)
		}
	}
}

// article puts "a" or "an" before a word.
func article(w string) string {
	if w != "" && strings.ContainsRune("aeiou", rune(w[0])) {
		return "an " + w
	}
	return "a " + w
}

func varList(vars []string) string {
	if len(vars) == 0 {
		return "none"
	}
	return "{{" + strings.Join(vars, "}}, {{") + "}}"
}

// metaButtonType is the template button type each send button type fills.
var metaButtonType = map[string]string{
	flows.ButtonQuickReply: "QUICK_REPLY",
	flows.ButtonURL:        "URL",
	flows.ButtonCopyCode:   "COPY_CODE",
	flows.ButtonOTP:        "OTP",
}

// buttons checks a send's buttons against the template's (or a card's).
func (c *fillCheck) buttons(path string, shape []model.ShapeButton, given []flows.TemplateButton) {
	filled := map[int]bool{}
	for k, b := range given {
		at := fmt.Sprintf("%s/%d", path, k)
		pos, typ, ok := resolveButton(shape, b)
		if !ok {
			c.fit(at, "the template has %d quick-reply button(s); there is no quick reply %d (the index of a button without a type counts quick replies)", countType(shape, "QUICK_REPLY"), b.Index)
			continue
		}
		if pos < 0 || pos >= len(shape) {
			c.fit(at+"/index", "the template has %d button(s); there is no button at position %d", len(shape), pos)
			continue
		}
		if want := metaButtonType[typ]; shape[pos].Type != want {
			c.fit(at, "button %d of the template is a %s button, not %s (131009)", pos, shape[pos].Type, strings.ToLower(want))
			continue
		}
		if typ == flows.ButtonURL && !shape[pos].Dynamic {
			c.fit(at, "button %d's URL has no variable: it takes no text", pos)
			continue
		}
		if b.Legacy() && pos != b.Index && !c.rendered {
			c.add(ProblemWarning, at, "is quick reply %d, the button at position %d: write {\"type\": \"quick_reply\", \"index\": %d}, where index is the button's position among all the template's buttons", b.Index, pos, pos)
		}
		filled[pos] = true
		if v := b.Value(); c.settled(v) && v == "" && typ != flows.ButtonQuickReply {
			c.text(at, "is empty; WhatsApp refuses an empty button parameter (131008)")
		}
		if typ == flows.ButtonOTP || typ == flows.ButtonCopyCode {
			if v := b.Value(); c.settled(v) && len([]rune(v)) > 15 {
				c.text(at+"/code", "is %d characters; a code holds at most 15", len([]rune(v)))
			}
		}
	}
	for pos, sb := range shape {
		if filled[pos] {
			continue
		}
		if sb.Dynamic || sb.Type == "COPY_CODE" || sb.Type == "OTP" {
			c.fit(pathOr(path, len(given) > 0), "button %d (%s) must be filled: add {\"type\": %q, \"index\": %d, …} (131008)", pos, sb.Type, sendButtonType(sb.Type), pos)
		}
	}
}

func sendButtonType(metaType string) string {
	for k, v := range metaButtonType {
		if v == metaType {
			return k
		}
	}
	return strings.ToLower(metaType)
}

func countType(shape []model.ShapeButton, typ string) int {
	n := 0
	for _, b := range shape {
		if b.Type == typ {
			n++
		}
	}
	return n
}

// resolveButton is a send button's position among the template's buttons
// and its type. A button without a type is a quick reply whose Index
// counts quick replies only: it is found among them (ok false when there
// is no such quick reply).
func resolveButton(shape []model.ShapeButton, b flows.TemplateButton) (pos int, typ string, ok bool) {
	if !b.Legacy() {
		return b.Index, b.Type, true
	}
	n := 0
	for i, sb := range shape {
		if sb.Type == "QUICK_REPLY" {
			if n == b.Index {
				return i, flows.ButtonQuickReply, true
			}
			n++
		}
	}
	return 0, flows.ButtonQuickReply, false
}

// Components builds the Graph API components of a template send.
// With the template's shape, the parameters of a NAMED template carry
// their names (given, or the template's variables in order), and buttons
// without a type go to their quick reply's real position; without it, the
// send is written as it is.
func Components(shape *model.TemplateShape, ts *flows.TemplateSend) ([]whatsapp.OutTemplateComponent, error) {
	var comps []whatsapp.OutTemplateComponent
	named := shape != nil && strings.EqualFold(shape.ParameterFormat, whatsapp.ParamsNamed)
	var headerText, bodyText string
	var buttons []model.ShapeButton
	if shape != nil {
		headerText, bodyText, buttons = shape.HeaderText, shape.BodyText, shape.Buttons
	}
	part := func(typ, text string, ps []flows.TemplateParam) error {
		if len(ps) == 0 {
			return nil
		}
		out, err := outParams(ps, named, whatsapp.TemplateVariables(text))
		if err != nil {
			return fmt.Errorf("template %s %s: %w", ts.Name, typ, err)
		}
		comps = append(comps, whatsapp.OutTemplateComponent{Type: typ, Parameters: out})
		return nil
	}
	if err := part("header", headerText, ts.Header); err != nil {
		return nil, err
	}
	if err := part("body", bodyText, ts.Body); err != nil {
		return nil, err
	}
	if ts.OfferExpiresAt != "" {
		at, err := flows.OfferExpiry(ts.OfferExpiresAt)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", ts.Name, err)
		}
		comps = append(comps, whatsapp.LimitedTimeOffer(at))
	}
	comps = append(comps, outButtons(buttons, ts.Buttons, shape != nil)...)
	if len(ts.Cards) > 0 {
		cards := make([]whatsapp.OutCard, len(ts.Cards))
		for i, card := range ts.Cards {
			var cs model.CardShape
			if shape != nil && i < len(shape.Cards) {
				cs = shape.Cards[i]
			}
			var cc []whatsapp.OutTemplateComponent
			for _, p := range []struct {
				typ, text string
				ps        []flows.TemplateParam
			}{{"header", "", card.Header}, {"body", cs.BodyText, card.Body}} {
				if len(p.ps) == 0 {
					continue
				}
				out, err := outParams(p.ps, named, whatsapp.TemplateVariables(p.text))
				if err != nil {
					return nil, fmt.Errorf("template %s card %d %s: %w", ts.Name, i, p.typ, err)
				}
				cc = append(cc, whatsapp.OutTemplateComponent{Type: p.typ, Parameters: out})
			}
			cc = append(cc, outButtons(cs.Buttons, card.Buttons, shape != nil)...)
			cards[i] = whatsapp.OutCard{CardIndex: i, Components: cc}
		}
		comps = append(comps, whatsapp.Carousel(cards...))
	}
	return comps, nil
}

// outParams writes a component's parameters; for a NAMED template each
// text-like parameter carries its variable's name.
func outParams(ps []flows.TemplateParam, named bool, vars []string) ([]whatsapp.OutParameter, error) {
	out := make([]whatsapp.OutParameter, len(ps))
	for i := range ps {
		p := &ps[i]
		o := whatsapp.OutParameter{Type: p.Kind()}
		switch o.Type {
		case flows.ParamText:
			o.Text = p.Text
		case flows.ParamCurrency:
			amount, err := strconv.ParseInt(strings.TrimSpace(string(p.Currency.Amount1000)), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("parameter %d: amount_1000 %q is not a whole number", i+1, p.Currency.Amount1000)
			}
			o.Currency = &whatsapp.OutCurrency{Code: p.Currency.Code, Amount1000: amount, FallbackValue: p.Currency.FallbackValue}
		case flows.ParamDateTime:
			o.DateTime = &whatsapp.OutDateTime{FallbackValue: p.DateTime.FallbackValue}
		case flows.ParamImage, flows.ParamVideo, flows.ParamDocument:
			m := p.Media()
			md := &whatsapp.OutMedia{ID: m.ID, Link: m.Link, Filename: m.Filename}
			switch o.Type {
			case flows.ParamImage:
				o.Image = md
			case flows.ParamVideo:
				o.Video = md
			default:
				o.Document = md
			}
			out[i] = o
			continue
		case flows.ParamLocation:
			l := p.Location
			o.Location = &whatsapp.OutLocation{Latitude: l.Latitude, Longitude: l.Longitude, Name: l.Name, Address: l.Address}
			out[i] = o
			continue
		default:
			return nil, fmt.Errorf("parameter %d gives more than one kind of value", i+1)
		}
		if named {
			o.ParameterName = p.Name
			if o.ParameterName == "" && i < len(vars) {
				o.ParameterName = vars[i]
			}
		}
		out[i] = o
	}
	return out, nil
}

// outButtons writes the button components, each at its position.
func outButtons(shape []model.ShapeButton, bs []flows.TemplateButton, known bool) []whatsapp.OutTemplateComponent {
	var out []whatsapp.OutTemplateComponent
	for _, b := range bs {
		pos, typ := b.Index, b.Type
		if b.Legacy() {
			typ = flows.ButtonQuickReply
			if known {
				if p, _, ok := resolveButton(shape, b); ok {
					pos = p
				}
			}
		}
		switch typ {
		case flows.ButtonURL:
			out = append(out, whatsapp.URLButton(pos, b.Text))
		case flows.ButtonCopyCode:
			out = append(out, whatsapp.CopyCodeButton(pos, b.Code))
		case flows.ButtonOTP:
			out = append(out, whatsapp.OTPButton(pos, b.Code))
		default:
			out = append(out, whatsapp.QuickReplyButton(pos, b.Payload))
		}
	}
	return out
}

// ShapeOf is the shape of the template a send names, or nil.
func ShapeOf(reg Lookup, ts *flows.TemplateSend) (model.TemplateInfo, bool) {
	if reg == nil {
		return model.TemplateInfo{}, false
	}
	return reg.Template(ts.Name, ts.Language)
}

// ProblemsOf joins the problems of the given kinds into one reason, or "".
func ProblemsOf(ps []Problem, kinds ...string) string {
	var out []string
	for _, p := range ps {
		for _, k := range kinds {
			if p.Kind == k {
				out = append(out, p.String())
			}
		}
	}
	return strings.Join(out, "; ")
}

// ShapeOfSend is the shape of a template that a send fits exactly: what
// `parley simulate` assumes of templates no registry tells it about.
func ShapeOfSend(ts *flows.TemplateSend) *model.TemplateShape {
	s := &model.TemplateShape{ParameterFormat: whatsapp.ParamsPositional, OfferExpires: ts.OfferExpiresAt != ""}
	s.LimitedTimeOffer = s.OfferExpires
	vars := func(ps []flows.TemplateParam) string {
		var b strings.Builder
		for i, p := range ps {
			if p.Name != "" {
				s.ParameterFormat = whatsapp.ParamsNamed
				fmt.Fprintf(&b, " {{%s}}.", p.Name)
			} else {
				fmt.Fprintf(&b, " {{%d}}.", i+1)
			}
		}
		return strings.TrimSpace(b.String())
	}
	headerFormat := func(ps []flows.TemplateParam) string {
		if len(ps) == 0 {
			return ""
		}
		if k := ps[0].Kind(); k != flows.ParamText && k != flows.ParamCurrency && k != flows.ParamDateTime {
			return strings.ToUpper(k)
		}
		return "TEXT"
	}
	buttons := func(bs []flows.TemplateButton) []model.ShapeButton {
		var out []model.ShapeButton
		put := func(pos int, b model.ShapeButton) {
			for len(out) <= pos {
				out = append(out, model.ShapeButton{Type: "QUICK_REPLY"})
			}
			out[pos] = b
		}
		for _, b := range bs {
			typ := b.Type
			if b.Legacy() {
				typ = flows.ButtonQuickReply
			}
			put(b.Index, model.ShapeButton{Type: metaButtonType[typ], Dynamic: typ == flows.ButtonURL})
		}
		return out
	}
	s.HeaderFormat = headerFormat(ts.Header)
	if s.HeaderFormat == "TEXT" {
		s.HeaderText = vars(ts.Header)
	}
	s.BodyText = vars(ts.Body)
	s.Buttons = buttons(ts.Buttons)
	for _, c := range ts.Cards {
		s.Cards = append(s.Cards, model.CardShape{HeaderFormat: headerFormat(c.Header), BodyText: vars(c.Body), Buttons: buttons(c.Buttons)})
	}
	return s
}
