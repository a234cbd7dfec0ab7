package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// templateReq is the sandbox's own reading of a send's "template" object.
type templateReq struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	Components []componentReq `json:"components"`
}

type componentReq struct {
	Type       string     `json:"type"`
	SubType    string     `json:"sub_type"`
	Index      any        `json:"index"` // Meta's examples send a string; accept a number too
	Parameters []paramReq `json:"parameters"`
	Cards      []struct {
		CardIndex  *int           `json:"card_index"`
		Components []componentReq `json:"components"`
	} `json:"cards"`
}

type paramReq struct {
	Type          string    `json:"type"`
	ParameterName string    `json:"parameter_name"`
	Text          string    `json:"text"`
	Payload       string    `json:"payload"`
	CouponCode    string    `json:"coupon_code"`
	Image         *mediaReq `json:"image"`
	Video         *mediaReq `json:"video"`
	Document      *mediaReq `json:"document"`
	Location      *struct {
		Latitude  *float64 `json:"latitude"`
		Longitude *float64 `json:"longitude"`
	} `json:"location"`
	Currency *struct {
		FallbackValue string `json:"fallback_value"`
		Code          string `json:"code"`
		Amount1000    *int64 `json:"amount_1000"`
	} `json:"currency"`
	DateTime *struct {
		FallbackValue string `json:"fallback_value"`
	} `json:"date_time"`
	LimitedTimeOffer *struct {
		ExpirationTimeMS *int64 `json:"expiration_time_ms"`
	} `json:"limited_time_offer"`
	Action map[string]any `json:"action"`
}

// Meta's limits on a template once filled in (docs/whatsapp.md §4.5).
const (
	maxTemplateHeader = 60
	maxCardBody       = 160
	maxParamSpaces    = 4
	maxCouponCode     = 15
)

func tooLongTemplate(details string) *metaErr {
	return newErr(132005, "Translated text too long", details)
}

func paramMismatch(details string) *metaErr {
	return newErr(132000, "Number of parameters does not match the expected number of params", details)
}

func formatMismatch(details string) *metaErr {
	return newErr(132012, "Parameter format does not match format in the created template", details)
}

// checkTemplateSendLocked checks a template send against the template as
// Meta does: 132001 unknown (in that language) or not approved, 132015
// paused, 132016 disabled; 132000 parameters not matching the variables
// (in number, or by name); 132012 a media header or a parameter of the
// wrong kind; 131008 an empty parameter or a button that needs one
// without it; 100 a text parameter with a newline, a tab or more than four
// spaces in a row; 132005 a header over 60 or a body over 1024 characters
// once filled in; 131009 a button that is not there or not of that kind.
// Carousel cards and limited-time offers are checked the same way.
func (s *Sandbox) checkTemplateSendLocked(req *templateReq) (*template, *metaErr) {
	var t *template
	for _, x := range s.templates {
		if x.Name == req.Name && x.Language == req.Language.Code {
			t = x
		}
	}
	if t == nil {
		return nil, newErr(132001, "Template name does not exist in the translation",
			fmt.Sprintf("template name (%s) does not exist in %s", req.Name, req.Language.Code))
	}
	switch t.Status {
	case "APPROVED":
	case "PAUSED":
		return nil, newErr(132015, "Template is Paused", fmt.Sprintf("Template %s is paused due to low quality", t.Name))
	case "DISABLED":
		return nil, newErr(132016, "Template is disabled", fmt.Sprintf("Template %s has been disabled", t.Name))
	default:
		return nil, newErr(132001, "Template name does not exist in the translation",
			fmt.Sprintf("template name (%s) is %s in %s, not APPROVED", t.Name, t.Status, t.Language))
	}
	named := t.ParameterFormat == "NAMED"
	var carousel *componentReq
	var offer *componentReq
	var rest []componentReq
	for i := range req.Components {
		c := &req.Components[i]
		switch strings.ToLower(c.Type) {
		case "carousel":
			carousel = c
		case "limited_time_offer":
			offer = c
		default:
			rest = append(rest, *c)
		}
	}
	if e := checkParts(t.Name, t.Components, rest, named, maxTemplateBody); e != nil {
		return nil, e
	}
	lto := t.component("LIMITED_TIME_OFFER")
	switch {
	case offer != nil && lto == nil:
		return nil, invalid(fmt.Sprintf("template %s is not a limited-time offer", t.Name))
	case offer == nil && lto != nil && lto.LimitedTimeOffer != nil && lto.LimitedTimeOffer.HasExpiration:
		return nil, missing(fmt.Sprintf("template %s needs a limited_time_offer component with its expiration_time_ms", t.Name))
	case offer != nil:
		if len(offer.Parameters) != 1 || offer.Parameters[0].Type != "limited_time_offer" ||
			offer.Parameters[0].LimitedTimeOffer == nil || offer.Parameters[0].LimitedTimeOffer.ExpirationTimeMS == nil {
			return nil, missing("limited_time_offer needs one parameter of type limited_time_offer with expiration_time_ms")
		}
	}
	tc := t.component("CAROUSEL")
	switch {
	case carousel != nil && tc == nil:
		return nil, invalid(fmt.Sprintf("template %s is not a carousel", t.Name))
	case carousel == nil && tc != nil:
		return nil, missing(fmt.Sprintf("template %s is a carousel: its cards must be filled", t.Name))
	case carousel != nil:
		if len(carousel.Cards) != len(tc.Cards) {
			return nil, paramMismatch(fmt.Sprintf("carousel: %d cards given, the template has %d", len(carousel.Cards), len(tc.Cards)))
		}
		for i, card := range carousel.Cards {
			if card.CardIndex == nil || *card.CardIndex != i {
				return nil, invalid(fmt.Sprintf("carousel card %d needs card_index %d", i, i))
			}
			if e := checkParts(fmt.Sprintf("%s card %d", t.Name, i), tc.Cards[i].Components, card.Components, named, maxCardBody); e != nil {
				return nil, e
			}
		}
	}
	return t, nil
}

// checkParts checks the header, body and button components sent for a
// template (or a carousel card) against its definition.
func checkParts(name string, def []TemplateComponent, sent []componentReq, named bool, maxBody int) *metaErr {
	find := func(typ string) *TemplateComponent {
		for i := range def {
			if strings.EqualFold(def[i].Type, typ) {
				return &def[i]
			}
		}
		return nil
	}
	params := map[string][]paramReq{}
	var btns []TemplateButton
	if b := find("BUTTONS"); b != nil {
		btns = b.Buttons
	}
	filled := map[int]bool{}
	for _, c := range sent {
		typ := strings.ToLower(c.Type)
		switch typ {
		case "header", "body":
			params[typ] = append(params[typ], c.Parameters...)
		case "button":
			idx, ok := buttonIndex(c.Index)
			if !ok || idx >= len(btns) {
				return invalid(fmt.Sprintf("template %s has no button at index %v", name, c.Index))
			}
			if filled[idx] {
				return invalid(fmt.Sprintf("template %s: button %d is filled twice", name, idx))
			}
			filled[idx] = true
			if e := checkButton(name, idx, btns[idx], c); e != nil {
				return e
			}
		default:
			return invalid(fmt.Sprintf("component type %q is not header, body, button, limited_time_offer or carousel", c.Type))
		}
	}
	for _, typ := range []string{"header", "body"} {
		tc := find(typ)
		given := params[typ]
		if typ == "header" && tc != nil && tc.Format != "" && !strings.EqualFold(tc.Format, "TEXT") {
			want := strings.ToLower(tc.Format)
			if len(given) != 1 || given[0].Type != want {
				return formatMismatch(fmt.Sprintf("header: template %s needs one %s parameter", name, want))
			}
			p := given[0]
			if want == "location" {
				if p.Location == nil || p.Location.Latitude == nil || p.Location.Longitude == nil {
					return missing("header location needs latitude and longitude")
				}
				continue
			}
			m := map[string]*mediaReq{"image": p.Image, "video": p.Video, "document": p.Document}[want]
			if m == nil || (m.ID == "") == (m.Link == "") {
				return missing(fmt.Sprintf("header %s needs exactly one of id and link", want))
			}
			continue
		}
		var text string
		if tc != nil {
			text = tc.Text
		}
		vars := variables(text)
		if len(given) != len(vars) {
			return paramMismatch(fmt.Sprintf("%s: number of localizable_params (%d) does not match the expected number of params (%d)", typ, len(given), len(vars)))
		}
		values := map[string]string{}
		for i, p := range given {
			v, e := paramValue(typ, i, p)
			if e != nil {
				return e
			}
			key := vars[i]
			switch {
			case named && p.ParameterName == "":
				return paramMismatch(fmt.Sprintf("%s: template %s is NAMED: parameter %d needs a parameter_name", typ, name, i+1))
			case named:
				if _, dup := values[p.ParameterName]; dup || !contains(vars, p.ParameterName) {
					return paramMismatch(fmt.Sprintf("%s: parameter_name %q is not a parameter of template %s", typ, p.ParameterName, name))
				}
				key = p.ParameterName
			case p.ParameterName != "":
				return paramMismatch(fmt.Sprintf("%s: template %s is POSITIONAL: parameter_name is not expected", typ, name))
			}
			values[key] = v
		}
		filledText := variable.ReplaceAllStringFunc(text, func(m string) string {
			return values[variable.FindStringSubmatch(m)[1]]
		})
		limit := maxBody
		if typ == "header" {
			limit = maxTemplateHeader
		}
		if n := utf8.RuneCountInString(filledText); n > limit {
			return tooLongTemplate(fmt.Sprintf("%s is %d characters once filled in; at most %d are allowed", typ, n, limit))
		}
	}
	for i, b := range btns {
		if filled[i] {
			continue
		}
		if b.Type == "COPY_CODE" || b.Type == "OTP" || (b.Type == "URL" && len(variables(b.URL)) > 0) {
			return missing(fmt.Sprintf("template %s: button %d (%s) needs its parameter", name, i, b.Type))
		}
	}
	return nil
}

// paramValue is what a header or body parameter puts in the text, or why
// Meta refuses it.
func paramValue(part string, i int, p paramReq) (string, *metaErr) {
	where := fmt.Sprintf("%s parameter %d", part, i+1)
	switch p.Type {
	case "text":
		if strings.TrimSpace(p.Text) == "" {
			return "", missing(where + ": text is empty")
		}
		if strings.ContainsAny(p.Text, "\n\r\t") || strings.Contains(p.Text, strings.Repeat(" ", maxParamSpaces+1)) {
			return "", &metaErr{http: 400, code: 100, msg: "(#100) Invalid parameter",
				details: where + ": Param text cannot have new-line/tab characters or more than 4 consecutive spaces"}
		}
		return p.Text, nil
	case "currency":
		if p.Currency == nil || p.Currency.Code == "" || p.Currency.Amount1000 == nil || p.Currency.FallbackValue == "" {
			return "", missing(where + ": currency needs fallback_value, code and amount_1000")
		}
		return p.Currency.FallbackValue, nil
	case "date_time":
		if p.DateTime == nil || p.DateTime.FallbackValue == "" {
			return "", missing(where + ": date_time needs fallback_value")
		}
		return p.DateTime.FallbackValue, nil
	}
	return "", formatMismatch(fmt.Sprintf("%s: a %q parameter cannot fill a text variable", where, p.Type))
}

// checkButton checks one button component against the template's button.
func checkButton(name string, idx int, b TemplateButton, c componentReq) *metaErr {
	want := map[string][]string{
		"quick_reply": {"QUICK_REPLY"}, "url": {"URL", "OTP"}, "copy_code": {"COPY_CODE"},
		"flow": {"FLOW"}, "catalog": {"CATALOG"}, "mpm": {"MPM"},
	}[c.SubType]
	if !contains(want, b.Type) {
		return invalid(fmt.Sprintf("button %d of template %s is %s, not %s", idx, name, b.Type, c.SubType))
	}
	one := func(typ string) (paramReq, *metaErr) {
		if len(c.Parameters) != 1 || c.Parameters[0].Type != typ {
			return paramReq{}, missing(fmt.Sprintf("template %s button %d (%s) takes one %s parameter", name, idx, c.SubType, typ))
		}
		return c.Parameters[0], nil
	}
	switch c.SubType {
	case "quick_reply":
		for _, p := range c.Parameters {
			if p.Type != "payload" {
				return invalid(fmt.Sprintf("template %s button %d: a quick reply takes a payload", name, idx))
			}
		}
	case "url":
		if b.Type == "URL" && len(variables(b.URL)) == 0 {
			return invalid(fmt.Sprintf("template %s button %d: its URL has no variable to fill", name, idx))
		}
		p, e := one("text")
		if e != nil {
			return e
		}
		if strings.TrimSpace(p.Text) == "" {
			return missing(fmt.Sprintf("template %s button %d: the URL parameter is empty", name, idx))
		}
		if b.Type == "OTP" && utf8.RuneCountInString(p.Text) > maxCouponCode {
			return invalid(fmt.Sprintf("template %s button %d: a one-time password holds at most %d characters", name, idx, maxCouponCode))
		}
	case "copy_code":
		p, e := one("coupon_code")
		if e != nil {
			return e
		}
		if p.CouponCode == "" || utf8.RuneCountInString(p.CouponCode) > maxCouponCode {
			return invalid(fmt.Sprintf("template %s button %d: coupon_code holds 1 to %d characters", name, idx, maxCouponCode))
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func buttonIndex(v any) (int, bool) {
	switch x := v.(type) {
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil && n >= 0
	case float64:
		return int(x), x >= 0 && x == float64(int(x))
	}
	return 0, false
}
