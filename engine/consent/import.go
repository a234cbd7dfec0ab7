package consent

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// CSV import of contacts with their consent (issue 4 §2, issue 7 §5).
//
// The first row names the columns, in any order, case-insensitive:
//
//	phone (or wa_id)   the customer's number; or
//	user_id            their WhatsApp user id (BSUID)
//	phone_number_id    the business number (else the import's default)
//	name, language     profile
//	tags               separated by ';' or '|'
//	field:<name>       one contact field per column (a number stays a number)
//	opted_in           true/false (yes/no, 1/0); empty: consent unchanged
//	opted_in_at        when the customer opted in (RFC 3339, or YYYY-MM-DD)
//	source             where they did (web_form, sms, in_chat, api, import)
//	purpose            the text they were shown
//
// Every row is validated before anything is stored, and one problem per
// cell is reported with its row (the header is row 1), column and reason:
// a file with any problem imports nothing. A valid file is then stored
// contact by contact; the consent history records each opt-in with source
// "import", by the importing user, and the row's own source in its detail.
// A repeated import records nothing twice, so re-running a file after a
// storage failure (the error names the row it stopped at) is safe.

// Limits of an import.
const (
	// MaxImportBytes caps the file (below the API's body cap).
	MaxImportBytes = 4 << 20
	// MaxImportRows caps the contacts of one file: beyond, split it.
	MaxImportRows = 20_000
	// MaxImportProblems caps the problems reported: past it, the report
	// says how many more there were.
	MaxImportProblems = 200
)

// ErrImportInvalid is returned by ImportContacts when the file has
// problems (ImportResult.Problems lists them); nothing was stored.
var ErrImportInvalid = errors.New("the import has problems; nothing was imported")

// ImportProblem is one bad cell, or row, of an import.
type ImportProblem struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

func (p ImportProblem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("row %d: %s", p.Row, p.Message)
	}
	return fmt.Sprintf("row %d, column %s: %s", p.Row, p.Column, p.Message)
}

// ImportOptions say how to import.
type ImportOptions struct {
	// PhoneNumberID is the business number of rows without one.
	PhoneNumberID string
	// By is who imports (recorded in the consent history).
	By string
	// DryRun validates and counts, and stores nothing.
	DryRun bool
}

// ImportResult is what an import did, or would do (DryRun).
type ImportResult struct {
	DryRun  bool `json:"dry_run"`
	Rows    int  `json:"rows"`
	Created int  `json:"created"`
	Updated int  `json:"updated"`
	// OptIns and OptOuts count the consent events recorded.
	OptIns   int             `json:"opt_ins"`
	OptOuts  int             `json:"opt_outs"`
	Problems []ImportProblem `json:"problems,omitempty"`
	// MoreProblems counts the problems past MaxImportProblems.
	MoreProblems int `json:"more_problems,omitempty"`
}

var importColumns = map[string]bool{
	"phone": true, "wa_id": true, "user_id": true, "phone_number_id": true, "name": true, "language": true,
	"tags": true, "opted_in": true, "opted_in_at": true, "source": true, "purpose": true,
}

// ImportRow is a parsed, valid row.
type ImportRow struct {
	Row    int // its number in the file, the header's being 1
	Input  ContactInput
	Detail string // the consent's detail: the source the file gave
}

// ParseImport reads and validates every row on its own; now bounds the
// opt-ins' times.
func ParseImport(r io.Reader, o ImportOptions, now time.Time, res *ImportResult) ([]ImportRow, []ImportProblem) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, []ImportProblem{{Row: 0, Message: "reading the file: " + err.Error()}}
	}
	if len(data) > MaxImportBytes {
		return nil, []ImportProblem{{Row: 0, Message: fmt.Sprintf("the file is larger than %d bytes: split it", MaxImportBytes)}}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a spreadsheet's byte order mark
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, []ImportProblem{{Row: 1, Message: "no header row: " + csvReason(err)}}
	}
	var probs []ImportProblem
	cols := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		cols[i] = h
		col := ClipText(h) // a header cell can be as long as the file
		switch {
		case h == "":
			probs = append(probs, ImportProblem{Row: 1, Column: strconv.Itoa(i + 1), Message: "a column has no name"})
		case seen[h] || (h == "wa_id" && seen["phone"]) || (h == "phone" && seen["wa_id"]):
			probs = append(probs, ImportProblem{Row: 1, Column: col, Message: "the column appears twice"})
		case strings.HasPrefix(h, "field:"):
			if !fieldNameRE.MatchString(strings.TrimPrefix(h, "field:")) {
				probs = append(probs, ImportProblem{Row: 1, Column: col, Message: "a field name is lowercase letters, digits and _, not starting with a digit"})
			}
		case !importColumns[h]:
			probs = append(probs, ImportProblem{Row: 1, Column: col, Message: "unknown column (phone, wa_id, user_id, phone_number_id, name, language, tags, field:<name>, opted_in, opted_in_at, source, purpose)"})
		}
		seen[h] = true
	}
	if !seen["phone"] && !seen["wa_id"] && !seen["user_id"] {
		probs = append(probs, ImportProblem{Row: 1, Message: "a phone (or wa_id) or user_id column is required"})
	}
	if len(probs) > 0 {
		return nil, probs
	}
	var rows []ImportRow
	keys := map[model.ContactKey]int{}
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			probs = append(probs, ImportProblem{Row: n, Message: csvReason(err)})
			if errors.Is(err, csv.ErrQuote) || errors.Is(err, csv.ErrBareQuote) {
				break // the reader cannot find the next row reliably
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		res.Rows++
		if res.Rows > MaxImportRows {
			return nil, []ImportProblem{{Row: n, Message: fmt.Sprintf("more than %d contacts: split the file", MaxImportRows)}}
		}
		if len(rec) != len(cols) {
			probs = append(probs, ImportProblem{Row: n, Message: fmt.Sprintf("%d cells, the header has %d", len(rec), len(cols))})
			continue
		}
		row, rowProbs := parseImportRow(n, cols, rec, o, now)
		if len(rowProbs) > 0 {
			probs = append(probs, rowProbs...)
			continue
		}
		k := row.Input.Key()
		if first, dup := keys[k]; dup {
			probs = append(probs, ImportProblem{Row: n, Column: "phone", Message: fmt.Sprintf("the same contact as row %d", first)})
			continue
		}
		keys[k] = n
		rows = append(rows, row)
	}
	if res.Rows == 0 && len(probs) == 0 {
		probs = append(probs, ImportProblem{Row: 2, Message: "no contacts after the header"})
	}
	return rows, probs
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// parseImportRow reads one row's cells into a validated ContactInput.
func parseImportRow(n int, cols, rec []string, o ImportOptions, now time.Time) (ImportRow, []ImportProblem) {
	row := ImportRow{Row: n, Input: ContactInput{PhoneNumberID: o.PhoneNumberID}}
	in := &row.Input
	var probs []ImportProblem
	bad := func(col, format string, args ...any) {
		probs = append(probs, ImportProblem{Row: n, Column: col, Message: fmt.Sprintf(format, args...)})
	}
	var optedIn, at, source, purpose string
	for i, col := range cols {
		v := strings.TrimSpace(rec[i])
		switch {
		case col == "phone" || col == "wa_id":
			in.WaID = v
		case col == "user_id":
			in.UserID = v
		case col == "phone_number_id":
			if v != "" {
				in.PhoneNumberID = v
			}
		case col == "name":
			in.Name = v
		case col == "language":
			in.Language = v
		case col == "tags":
			if v != "" {
				in.Tags = strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '|' })
			}
		case strings.HasPrefix(col, "field:"):
			if v != "" {
				if in.Fields == nil {
					in.Fields = map[string]any{}
				}
				in.Fields[strings.TrimPrefix(col, "field:")] = fieldValue(v)
			}
		case col == "opted_in":
			optedIn = v
		case col == "opted_in_at":
			at = v
		case col == "source":
			source = v
		case col == "purpose":
			purpose = v
		}
	}
	if optedIn != "" {
		yes, ok := parseYesNo(optedIn)
		if !ok {
			bad("opted_in", "%q is not true or false", ClipText(optedIn))
		}
		c := &Input{OptedIn: yes, Source: model.ConsentSource(strings.ToLower(source)), Purpose: purpose}
		if c.Source == "" {
			c.Source = model.SourceImport
		}
		if at != "" {
			t, err := parseImportTime(at)
			if err != nil {
				bad("opted_in_at", "%q is not a time (2026-01-05T10:00:00Z, or 2026-01-05)", ClipText(at))
			}
			c.At = t
		} else if !yes {
			c.At = now // a withdrawal without a date: as of the import
		}
		in.Consent = c
		row.Detail = "collected via " + string(c.Source)
	} else if at != "" || source != "" || purpose != "" {
		bad("opted_in", "opted_in_at, source or purpose is given but opted_in is empty")
	}
	for _, p := range in.Validate(now) {
		if p.Field == "opted_in_at" && at != "" && in.Consent != nil && in.Consent.At.IsZero() {
			continue // already reported as unreadable
		}
		bad(p.Field, "%s", p.Message)
	}
	return row, probs
}

// fieldValue keeps a number a number, if it reads back the same ("01234"
// stays text), and everything else text.
func fieldValue(v string) any {
	if f, err := strconv.ParseFloat(v, 64); err == nil && strconv.FormatFloat(f, 'f', -1, 64) == v {
		return f
	}
	return v
}

func parseYesNo(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "y", "1":
		return true, true
	case "false", "no", "n", "0":
		return false, true
	}
	return false, false
}

func parseImportTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}
