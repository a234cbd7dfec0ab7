package sandbox

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// The control API, for the UI's test chat and for tests in other
// languages: everything the Go API offers, under /_sandbox/.
//
//	POST /_sandbox/customers                    {Customer}           register a customer
//	POST /_sandbox/customers/{id}/messages      {Inbound}            the customer writes → {"id": wamid}
//	GET  /_sandbox/customers/{id}/transcript                         {"customer","window_open","turns"}
//	POST /_sandbox/messages/{wamid}/status      {"status","code"}    post a status webhook
//	GET  /_sandbox/templates                                         every template
//	POST /_sandbox/templates/{id}/status        {"status","reason"}  approve, reject, pause…
//	POST /_sandbox/inject                       {Injection}          make upcoming sends fail
//	POST /_sandbox/tick                                              apply what is due now
//	GET  /_sandbox/log?kind=&since=                                  {"entries": [...]}
//	GET  /_sandbox/media/{id}/content?exp=                           media bytes (Bearer)
//	POST /_sandbox/customers/{id}/preferences   {"value"}            marketing stop / resume
//	POST /_sandbox/account_update               {"event", …}         an account_update webhook
//	POST /_sandbox/quality_update               {"event","current_limit"} a phone_number_quality_update
func (s *Sandbox) controlRoutes(m *http.ServeMux) {
	s.moreControlRoutes(m)
	m.HandleFunc("POST /_sandbox/customers", func(w http.ResponseWriter, r *http.Request) {
		var c Customer
		if !decode(w, r, &c) {
			return
		}
		if c.WaID == "" && c.UserID == "" {
			controlError(w, http.StatusBadRequest, errors.New("wa_id or user_id is required"))
			return
		}
		writeJSON(w, http.StatusOK, s.AddCustomer(c))
	})
	m.HandleFunc("POST /_sandbox/customers/{id}/messages", func(w http.ResponseWriter, r *http.Request) {
		var in Inbound
		if !decode(w, r, &in) {
			return
		}
		wamid, err := s.CustomerSays(r.PathValue("id"), in)
		if err != nil {
			controlError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": wamid})
	})
	m.HandleFunc("GET /_sandbox/customers/{id}/transcript", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		c, ok := s.Customer(id)
		if !ok {
			controlError(w, http.StatusNotFound, errors.New("unknown customer"))
			return
		}
		turns := s.Transcript(id)
		if turns == nil {
			turns = []Turn{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"customer": c, "window_open": s.WindowOpen(id), "turns": turns})
	})
	m.HandleFunc("POST /_sandbox/messages/{wamid}/status", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Status string `json:"status"`
			Code   int    `json:"code"`
		}
		if !decode(w, r, &req) {
			return
		}
		if err := s.SetStatus(r.PathValue("wamid"), req.Status, req.Code); err != nil {
			controlError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	})
	m.HandleFunc("GET /_sandbox/templates", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"data": s.Templates()})
	})
	m.HandleFunc("POST /_sandbox/templates/{id}/status", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
		}
		if !decode(w, r, &req) {
			return
		}
		if err := s.SetTemplateStatus(r.PathValue("id"), req.Status, req.Reason); err != nil {
			controlError(w, http.StatusNotFound, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	})
	m.HandleFunc("POST /_sandbox/inject", func(w http.ResponseWriter, r *http.Request) {
		var inj Injection
		if !decode(w, r, &inj) {
			return
		}
		if inj.Code == 0 && !inj.Drop {
			controlError(w, http.StatusBadRequest, errors.New("code or drop is required"))
			return
		}
		s.Inject(inj)
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	})
	m.HandleFunc("POST /_sandbox/tick", func(w http.ResponseWriter, r *http.Request) {
		s.Tick()
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	})
	m.HandleFunc("GET /_sandbox/log", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		since, _ := strconv.Atoi(q.Get("since"))
		entries := []Entry{}
		for _, e := range s.Log() {
			if e.Seq > since && (q.Get("kind") == "" || q.Get("kind") == e.Kind) {
				entries = append(entries, e)
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
	})
	m.HandleFunc("GET /_sandbox/media/{id}/content", s.handleDownload)
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxMediaBytes))
	if err == nil && len(body) > 0 {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		controlError(w, http.StatusBadRequest, err)
		return false
	}
	return true
}

func controlError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

// moreControlRoutes are the control routes of the account, quality and
// preference webhooks (inbound_more.go).
func (s *Sandbox) moreControlRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /_sandbox/customers/{id}/preferences", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Value string `json:"value"`
		}
		if !decode(w, r, &req) {
			return
		}
		if err := s.MarketingPreference(r.PathValue("id"), req.Value); err != nil {
			controlError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	})
	m.HandleFunc("POST /_sandbox/account_update", func(w http.ResponseWriter, r *http.Request) {
		var fields map[string]any
		if !decode(w, r, &fields) {
			return
		}
		event, _ := fields["event"].(string)
		if event == "" {
			controlError(w, http.StatusBadRequest, errors.New("event is required"))
			return
		}
		s.AccountUpdate(event, fields)
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	})
	m.HandleFunc("POST /_sandbox/quality_update", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Event        string `json:"event"`
			CurrentLimit string `json:"current_limit"`
		}
		if !decode(w, r, &req) {
			return
		}
		if req.Event == "" {
			controlError(w, http.StatusBadRequest, errors.New("event is required"))
			return
		}
		s.QualityUpdate(req.Event, req.CurrentLimit)
		writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	})
}
