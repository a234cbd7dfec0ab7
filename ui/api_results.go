package ui

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine/model"
)

// MaxResultRows bounds one results export: a flow's conversations beyond
// it are left out, and the answer says so (X-Parley-Truncated). A bigger
// export belongs to a narrower date range.
const MaxResultRows = 50_000

// resultColumns are the columns of every results export, before the
// flow's variables.
var resultColumns = []string{"conversation", "contact", "version", "status", "node", "started_at", "ended_at"}

// flowResults answers GET /flows/:id/results.csv: one row per conversation
// of the flow (newest activity first), the variables it saved as columns
// (sorted by name, one column each; a value that is not text is written
// as JSON). from= and to= narrow to the UTC days the conversations
// started; version= to one version.
//
// A cell that a spreadsheet would read as a formula (=, +, -, @, tab,
// carriage return first) is written with a ' before it: variables hold
// what customers typed.
func (s *Server) flowResults(c *fiber.Ctx) error {
	rec, err := s.flowRecord(c)
	if err != nil {
		return err
	}
	lf, err := parseLogFilter(c)
	if err != nil {
		return err
	}
	version := 0
	if q := c.Query("version"); q != "" {
		if version, err = strconv.Atoi(q); err != nil || version < 1 {
			return fiber.NewError(fiber.StatusBadRequest, "version must be a version number (1, 2, …)")
		}
	}
	var rows []*model.Conversation
	truncated := false
	err = eachConversation(c.UserContext(), s.cfg.Engine.Store(), model.ConversationFilter{Flow: rec.ID}, func(conv *model.Conversation) bool {
		if (version == 0 || conv.Version == version) && lf.match(conv) {
			if len(rows) == MaxResultRows {
				truncated = true
				return false
			}
			rows = append(rows, conv)
		}
		return true
	})
	if err != nil {
		return err
	}
	vars := map[string]bool{}
	for _, conv := range rows {
		for k := range conv.Vars {
			vars[k] = true
		}
	}
	names := slices.Sorted(maps.Keys(vars))

	var b strings.Builder
	w := csv.NewWriter(&b)
	head := append(slices.Clone(resultColumns), names...)
	if err := w.Write(head); err != nil {
		return err
	}
	for _, conv := range rows {
		row := []string{conv.ID, string(conv.Contact), strconv.Itoa(conv.Version), string(conv.Status), conv.Node, csvTime(conv.StartedAt), csvTime(conv.EndedAt)}
		for _, n := range names {
			row = append(row, csvCell(conv.Vars[n]))
		}
		if err := w.Write(row); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if truncated {
		c.Set("X-Parley-Truncated", strconv.Itoa(MaxResultRows))
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-results.csv"`, rec.ID))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString(b.String())
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// csvCell writes a variable's value: nothing as empty, text guarded
// against formula injection, anything else as JSON.
func csvCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			return "'" + x
		}
		return x
	}
	j, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(j) // a number, true/false, a list or an object: no formula
}
