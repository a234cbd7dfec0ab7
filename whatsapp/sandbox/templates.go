package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Template is a message template as the management API shows it.
type Template struct {
	ID              string              `json:"id"`
	Name            string              `json:"name"`
	Language        string              `json:"language"`
	Category        string              `json:"category"`
	Status          string              `json:"status"`
	ParameterFormat string              `json:"parameter_format,omitempty"`
	Components      []TemplateComponent `json:"components"`
	QualityScore    *QualityScore       `json:"quality_score,omitempty"`
	RejectedReason  string              `json:"rejected_reason,omitempty"`
}

// TemplateComponent is a HEADER, BODY, FOOTER, BUTTONS, CAROUSEL (with
// Cards) or LIMITED_TIME_OFFER component.
type TemplateComponent struct {
	Type             string            `json:"type"`
	Format           string            `json:"format,omitempty"`
	Text             string            `json:"text,omitempty"`
	Example          json.RawMessage   `json:"example,omitempty"`
	Buttons          []TemplateButton  `json:"buttons,omitempty"`
	Cards            []TemplateCard    `json:"cards,omitempty"`
	LimitedTimeOffer *LimitedTimeOffer `json:"limited_time_offer,omitempty"`
}

// TemplateCard is one card of a CAROUSEL component.
type TemplateCard struct {
	Components []TemplateComponent `json:"components"`
}

// LimitedTimeOffer is a LIMITED_TIME_OFFER component's definition.
type LimitedTimeOffer struct {
	Text          string `json:"text,omitempty"`
	HasExpiration bool   `json:"has_expiration,omitempty"`
}

// TemplateButton is one button of a BUTTONS component.
type TemplateButton struct {
	Type        string   `json:"type"`
	Text        string   `json:"text,omitempty"`
	URL         string   `json:"url,omitempty"`
	PhoneNumber string   `json:"phone_number,omitempty"`
	Example     []string `json:"example,omitempty"`
	OTPType     string   `json:"otp_type,omitempty"`
}

// QualityScore is a template's quality rating.
type QualityScore struct {
	Score string `json:"score"`
}

type template struct {
	Template
	created         time.Time
	rejectionDetail string
	// autoReview is set on templates created through the API: only they
	// are reviewed when TemplateReviewDelay has passed.
	autoReview bool
}

// Review rules (docs/whatsapp.md §4.5).
var (
	templateName = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	variable     = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)
	adjacentVars = regexp.MustCompile(`\}\}\s*\{\{`)
)

const maxTemplateBody = 1024

// variables returns the distinct variable names of a text, in order.
func variables(text string) []string {
	var names []string
	seen := map[string]bool{}
	for _, m := range variable.FindAllStringSubmatch(text, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			names = append(names, m[1])
		}
	}
	return names
}

func (t *template) component(typ string) *TemplateComponent {
	for i := range t.Components {
		if strings.EqualFold(t.Components[i].Type, typ) {
			return &t.Components[i]
		}
	}
	return nil
}

// AddTemplate adds a template as it is (APPROVED when Status is empty) and
// returns it with its id. No webhook is posted, and it is never reviewed
// automatically: a PENDING one stays so until SetTemplateStatus.
func (s *Sandbox) AddTemplate(t Template) Template {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.Status == "" {
		t.Status = "APPROVED"
	}
	if t.Category == "" {
		t.Category = "UTILITY"
	}
	if t.ParameterFormat == "" {
		t.ParameterFormat = "POSITIONAL"
	}
	t.ID = strconv.FormatInt(1_000_000_000_000_000+s.nextID(), 10)
	s.templates = append(s.templates, &template{Template: t, created: s.clock.Now()})
	return t
}

// Templates returns every template.
func (s *Sandbox) Templates() []Template {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Template, len(s.templates))
	for i, t := range s.templates {
		out[i] = t.Template
	}
	return out
}

// ApproveTemplate approves the template id, posting the status webhook.
func (s *Sandbox) ApproveTemplate(id string) error {
	return s.SetTemplateStatus(id, "APPROVED", "NONE")
}

// RejectTemplate rejects the template id for reason (e.g.
// "INVALID_FORMAT", "PROMOTIONAL"), posting the status webhook.
func (s *Sandbox) RejectTemplate(id, reason string) error {
	return s.SetTemplateStatus(id, "REJECTED", reason)
}

// SetTemplateStatus moves the template id to status (APPROVED, REJECTED,
// PAUSED, DISABLED, …) and posts a message_template_status_update webhook
// with that event and reason.
func (s *Sandbox) SetTemplateStatus(id, status, reason string) error {
	s.mu.Lock()
	var t *template
	for _, x := range s.templates {
		if x.ID == id {
			t = x
		}
	}
	if t == nil {
		s.mu.Unlock()
		return fmt.Errorf("sandbox: no template %q", id)
	}
	payload := s.setTemplateStatusLocked(t, status, reason)
	s.mu.Unlock()
	s.hooks.push(payload)
	return nil
}

func (s *Sandbox) setTemplateStatusLocked(t *template, status, reason string) []byte {
	if reason == "" {
		reason = "NONE"
	}
	t.Status = status
	t.RejectedReason = ""
	if status == "REJECTED" {
		t.RejectedReason = reason
	}
	if status == "APPROVED" && t.QualityScore == nil {
		t.QualityScore = &QualityScore{Score: "UNKNOWN"}
	}
	now := s.clock.Now()
	s.recordLocked(Entry{Kind: KindTemplate, Body: t.Name, Status: status, Reason: reason})
	return s.templateWebhook(t, reason, now)
}

// Tick applies what is due at the clock's time: templates whose review
// delay has passed are reviewed. Any request to the sandbox ticks too.
func (s *Sandbox) Tick() { s.reviewDue() }

func (s *Sandbox) reviewDue() {
	if s.cfg.ManualTemplateReview {
		return
	}
	s.mu.Lock()
	now := s.clock.Now()
	var payloads [][]byte
	for _, t := range s.templates {
		if t.autoReview && t.Status == "PENDING" && !now.Before(t.created.Add(s.cfg.TemplateReviewDelay)) {
			status, reason := review(t)
			payloads = append(payloads, s.setTemplateStatusLocked(t, status, reason))
		}
	}
	s.mu.Unlock()
	for _, p := range payloads {
		s.hooks.push(p)
	}
}

// review decides a template as Meta's review would on format alone.
func review(t *template) (status, reason string) {
	reject := func(detail string) (string, string) {
		t.rejectionDetail = detail
		return "REJECTED", "INVALID_FORMAT"
	}
	if !templateName.MatchString(t.Name) {
		return reject("Template names may only contain lowercase letters, numbers and underscores.")
	}
	for _, c := range t.Components {
		if adjacentVars.MatchString(c.Text) {
			return reject("Your template has parameters placed next to each other (like {{1}}{{2}}) without text or punctuation between them.")
		}
		if strings.EqualFold(c.Type, "BODY") && utf8.RuneCountInString(c.Text) > maxTemplateBody {
			return reject(fmt.Sprintf("The body is %d characters long; at most %d are allowed.", utf8.RuneCountInString(c.Text), maxTemplateBody))
		}
		vars := variables(c.Text)
		for i, v := range vars {
			if t.ParameterFormat != "NAMED" && v != strconv.Itoa(i+1) {
				return reject("Positional parameters must be numbered {{1}}, {{2}}, … in order.")
			}
			if t.ParameterFormat == "NAMED" && strings.ToLower(v) != v {
				return reject("Named parameters may only contain lowercase letters, numbers and underscores.")
			}
		}
	}
	return "APPROVED", "NONE"
}

// handleCreateTemplate serves POST /{waba_id}/message_templates.
func (s *Sandbox) handleCreateTemplate(w http.ResponseWriter, r *http.Request, body []byte) *metaErr {
	if r.PathValue("id") != s.cfg.WABAID {
		return unknownObject("post", r.PathValue("id"))
	}
	var t Template
	if err := json.Unmarshal(body, &t); err != nil {
		return &metaErr{http: 400, code: 100, msg: "Invalid parameter", details: "request body is not valid JSON: " + err.Error()}
	}
	badParam := func(details string) *metaErr {
		return &metaErr{http: 400, code: 100, msg: "Invalid parameter", details: details}
	}
	switch {
	case t.Name == "" || t.Language == "" || t.Category == "":
		return badParam("name, language and category are required")
	case t.Category != "MARKETING" && t.Category != "UTILITY" && t.Category != "AUTHENTICATION":
		return badParam("category must be MARKETING, UTILITY or AUTHENTICATION")
	case t.ParameterFormat != "" && t.ParameterFormat != "NAMED" && t.ParameterFormat != "POSITIONAL":
		return badParam("parameter_format must be NAMED or POSITIONAL")
	}
	hasBody := false
	for _, c := range t.Components {
		hasBody = hasBody || strings.EqualFold(c.Type, "BODY")
	}
	if !hasBody {
		return badParam("components must include a BODY")
	}
	if t.ParameterFormat == "" {
		t.ParameterFormat = "POSITIONAL"
	}
	s.mu.Lock()
	for _, x := range s.templates {
		if x.Name == t.Name && x.Language == t.Language {
			s.mu.Unlock()
			return &metaErr{http: 400, code: 100, subcode: 2388024, msg: "Invalid parameter",
				details: "Content in this language already exists for template " + t.Name}
		}
	}
	t.ID = strconv.FormatInt(1_000_000_000_000_000+s.nextID(), 10)
	t.Status, t.QualityScore, t.RejectedReason = "PENDING", nil, ""
	s.templates = append(s.templates, &template{Template: t, created: s.clock.Now(), autoReview: true})
	s.recordLocked(Entry{Kind: KindTemplate, Body: t.Name, Status: "PENDING", Raw: json.RawMessage(body)})
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"id": t.ID, "status": "PENDING", "category": t.Category})
	if !s.cfg.ManualTemplateReview {
		s.after(s.cfg.TemplateReviewDelay, s.reviewDue)
	}
	return nil
}

// defaultTemplatePage is Meta's default page size for template lists.
const defaultTemplatePage = 25

// handleListTemplates serves GET /{waba_id}/message_templates with Meta's
// cursor paging: paging.cursors.{before,after}, and paging.next only when
// another page exists.
func (s *Sandbox) handleListTemplates(w http.ResponseWriter, r *http.Request, _ []byte) *metaErr {
	if r.PathValue("id") != s.cfg.WABAID {
		return unknownObject("get", r.PathValue("id"))
	}
	q := r.URL.Query()
	limit := defaultTemplatePage
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return &metaErr{http: 400, code: 100, msg: "(#100) Param limit must be a positive integer"}
		}
		limit = min(n, 1000)
	}
	start := 0
	if a := q.Get("after"); a != "" {
		n, ok := decodeCursor(a)
		if !ok {
			return &metaErr{http: 400, code: 100, msg: "(#100) Invalid parameter", details: "invalid after cursor"}
		}
		start = n + 1
	}
	var fields map[string]bool
	if f := q.Get("fields"); f != "" {
		fields = map[string]bool{"id": true}
		for _, x := range strings.Split(f, ",") {
			fields[strings.TrimSpace(x)] = true
		}
	}
	s.mu.Lock()
	var matched []Template
	for _, t := range s.templates {
		if st := q.Get("status"); st != "" && t.Status != st {
			continue
		}
		if n := q.Get("name"); n != "" && !strings.Contains(t.Name, n) {
			continue
		}
		matched = append(matched, t.Template)
	}
	s.mu.Unlock()
	data := []map[string]any{}
	end := min(start+limit, len(matched))
	for i := start; i < end; i++ {
		data = append(data, selectFields(matched[i], fields))
	}
	resp := map[string]any{"data": data}
	if end > start {
		paging := map[string]any{"cursors": map[string]string{"before": encodeCursor(start), "after": encodeCursor(end - 1)}}
		if end < len(matched) {
			next := *r.URL
			nq := next.Query()
			nq.Set("after", encodeCursor(end-1))
			nq.Set("limit", strconv.Itoa(limit))
			next.RawQuery = nq.Encode()
			paging["next"] = baseURL(r) + next.RequestURI()
		}
		resp["paging"] = paging
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func selectFields(t Template, fields map[string]bool) map[string]any {
	b, _ := json.Marshal(t)
	var m map[string]any
	json.Unmarshal(b, &m) //nolint:errcheck // just marshalled
	if fields != nil {
		for k := range m {
			if !fields[k] {
				delete(m, k)
			}
		}
	}
	return m
}

// Cursors are opaque to clients, as Meta's are.
func encodeCursor(i int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("sbx:" + strconv.Itoa(i)))
}

func decodeCursor(c string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "sbx:"))
	return n, err == nil && strings.HasPrefix(string(b), "sbx:") && n >= 0
}

// baseURL is the scheme and host the request reached the sandbox at.
func baseURL(r *http.Request) string {
	u := url.URL{Scheme: "http", Host: r.Host}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	return u.String()
}
