package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Template statuses and categories of the template management API
// (docs/whatsapp.md §4.4). Only TemplateApproved templates can be sent.
const (
	TemplateApproved = "APPROVED"
	TemplatePending  = "PENDING"
	TemplateRejected = "REJECTED"
	TemplatePaused   = "PAUSED"
	TemplateDisabled = "DISABLED"

	CategoryMarketing      = "MARKETING"
	CategoryUtility        = "UTILITY"
	CategoryAuthentication = "AUTHENTICATION"

	ParamsPositional = "POSITIONAL" // {{1}}, {{2}}, … in order
	ParamsNamed      = "NAMED"      // {{first_name}}; sends carry parameter_name
)

// Template is a message template as the management API lists and creates
// it. IDs are strings here (the status webhook's message_template_id is a
// number).
type Template struct {
	ID              string              `json:"id,omitempty"`
	Name            string              `json:"name"`
	Language        string              `json:"language"`
	Category        string              `json:"category,omitempty"`
	Status          string              `json:"status,omitempty"`
	ParameterFormat string              `json:"parameter_format,omitempty"`
	Components      []TemplateComponent `json:"components,omitempty"`
	QualityScore    *TemplateQuality    `json:"quality_score,omitempty"`
	RejectedReason  string              `json:"rejected_reason,omitempty"`
}

// TemplateComponent is one of HEADER (Format TEXT, IMAGE, VIDEO, DOCUMENT,
// LOCATION), BODY, FOOTER, BUTTONS, CAROUSEL (Cards, each with its own
// HEADER, BODY and BUTTONS) or LIMITED_TIME_OFFER.
type TemplateComponent struct {
	Type             string                `json:"type"`
	Format           string                `json:"format,omitempty"`
	Text             string                `json:"text,omitempty"`
	Example          *TemplateExample      `json:"example,omitempty"`
	Buttons          []TemplateButton      `json:"buttons,omitempty"`
	Cards            []TemplateCard        `json:"cards,omitempty"`
	LimitedTimeOffer *TemplateLimitedOffer `json:"limited_time_offer,omitempty"`
}

// TemplateCard is one card of a CAROUSEL component.
type TemplateCard struct {
	Components []TemplateComponent `json:"components"`
}

// TemplateLimitedOffer is a LIMITED_TIME_OFFER component: a headline and,
// with HasExpiration, a countdown whose end each send gives.
type TemplateLimitedOffer struct {
	Text          string `json:"text,omitempty"`
	HasExpiration bool   `json:"has_expiration,omitempty"`
}

// TemplateExample holds the sample values Meta requires at creation for
// every variable: positional (HeaderText, BodyText) or named.
type TemplateExample struct {
	HeaderText            []string            `json:"header_text,omitempty"`
	BodyText              [][]string          `json:"body_text,omitempty"`
	HeaderTextNamedParams []NamedParamExample `json:"header_text_named_params,omitempty"`
	BodyTextNamedParams   []NamedParamExample `json:"body_text_named_params,omitempty"`
	HeaderHandle          []string            `json:"header_handle,omitempty"`
}

// NamedParamExample is the sample value of one named variable.
type NamedParamExample struct {
	ParamName string `json:"param_name"`
	Example   string `json:"example"`
}

// TemplateButton is one button of a BUTTONS component: QUICK_REPLY, URL,
// PHONE_NUMBER, COPY_CODE, FLOW, …
type TemplateButton struct {
	Type        string   `json:"type"`
	Text        string   `json:"text,omitempty"`
	URL         string   `json:"url,omitempty"`
	PhoneNumber string   `json:"phone_number,omitempty"`
	Example     []string `json:"example,omitempty"`
	FlowID      string   `json:"flow_id,omitempty"`
	// OTPType is an OTP button's kind (authentication templates):
	// COPY_CODE, ONE_TAP or ZERO_TAP.
	OTPType string `json:"otp_type,omitempty"`
}

// TemplateQuality is a template's quality rating: GREEN, YELLOW, RED or
// UNKNOWN (new templates).
type TemplateQuality struct {
	Score string `json:"score"`
	Date  int64  `json:"date,omitempty"`
}

// templateFields are the fields Parley asks for when listing.
const templateFields = "id,name,language,category,status,parameter_format,components,quality_score,rejected_reason"

// maxTemplatePages bounds ListTemplates against a server that pages forever.
const maxTemplatePages = 1000

// TemplateQuery narrows ListTemplates.
type TemplateQuery struct {
	// Status keeps only templates in that status (e.g. TemplateApproved).
	Status string
	// Name keeps templates whose name contains it.
	Name string
	// Limit is the page size (Meta's default applies when 0).
	Limit int
}

type templatePage struct {
	Data   []Template `json:"data"`
	Paging struct {
		Cursors struct {
			Before string `json:"before"`
			After  string `json:"after"`
		} `json:"cursors"`
		Next string `json:"next"`
	} `json:"paging"`
}

// ListTemplates returns every template of the WhatsApp Business Account
// wabaID, following the pages (paging.cursors.after while paging.next is
// present).
func (c *Client) ListTemplates(ctx context.Context, wabaID string, q TemplateQuery) ([]Template, error) {
	var all []Template
	after := ""
	for page := 0; ; page++ {
		if page == maxTemplatePages {
			return all, fmt.Errorf("whatsapp: template list exceeds %d pages", maxTemplatePages)
		}
		v := url.Values{"fields": {templateFields}}
		if q.Limit > 0 {
			v.Set("limit", strconv.Itoa(q.Limit))
		}
		if q.Status != "" {
			v.Set("status", q.Status)
		}
		if q.Name != "" {
			v.Set("name", q.Name)
		}
		if after != "" {
			v.Set("after", after)
		}
		data, err := c.do(ctx, http.MethodGet, "/"+url.PathEscape(wabaID)+"/message_templates?"+v.Encode(), "", nil)
		if err != nil {
			return all, err
		}
		var p templatePage
		if err := json.Unmarshal(data, &p); err != nil {
			return all, fmt.Errorf("whatsapp: unexpected template page: %w", err)
		}
		all = append(all, p.Data...)
		// Meta omits paging.next on the last page; cursors.after is still set.
		next := p.Paging.Cursors.After
		if p.Paging.Next == "" || next == "" || next == after || len(p.Data) == 0 {
			return all, nil
		}
		after = next
	}
}

// CreatedTemplate is Meta's answer to a template creation.
type CreatedTemplate struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Category string `json:"category"`
}

// CreateTemplate submits t (Name, Language, Category, Components, and
// ParameterFormat for named variables) for review. The template starts
// PENDING; the verdict arrives as a message_template_status_update webhook.
func (c *Client) CreateTemplate(ctx context.Context, wabaID string, t Template) (CreatedTemplate, error) {
	t.ID, t.Status, t.QualityScore, t.RejectedReason = "", "", nil, ""
	if strings.TrimSpace(t.Name) == "" || t.Language == "" || t.Category == "" {
		return CreatedTemplate{}, fmt.Errorf("whatsapp: template needs name, language and category")
	}
	body, err := json.Marshal(t)
	if err != nil {
		return CreatedTemplate{}, err
	}
	data, err := c.do(ctx, http.MethodPost, "/"+url.PathEscape(wabaID)+"/message_templates", "application/json", body)
	if err != nil {
		return CreatedTemplate{}, err
	}
	var ct CreatedTemplate
	if err := json.Unmarshal(data, &ct); err != nil || ct.ID == "" {
		return CreatedTemplate{}, fmt.Errorf("whatsapp: unexpected create answer %q", truncate(data, 200))
	}
	return ct, nil
}
