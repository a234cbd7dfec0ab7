package engine

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/parleyhq/parley/engine/consent"
	"github.com/parleyhq/parley/engine/model"
)

// CSV import of contacts with their consent (issue 4 §2, issue 7 §5): the
// file's format and its checks of each row on its own are package
// consent's (consent/import.go); what the rows say against what is stored,
// and the storing, are the engine's.

// ImportContacts reads a CSV file of contacts and, when every row is valid,
// stores them (consent/import.go). It returns consent.ErrImportInvalid
// with the problems in the result; any other error is a storage failure,
// after the rows before the one it names were stored.
func (e *Engine) ImportContacts(ctx context.Context, r io.Reader, o consent.ImportOptions) (consent.ImportResult, error) {
	res := consent.ImportResult{DryRun: o.DryRun}
	rows, probs := consent.ParseImport(r, o, e.clock.Now(), &res)
	if len(probs) == 0 {
		probs = e.checkImport(ctx, rows, &res)
	}
	if len(probs) > 0 {
		if len(probs) > consent.MaxImportProblems {
			res.MoreProblems = len(probs) - consent.MaxImportProblems
			probs = probs[:consent.MaxImportProblems]
		}
		res.Problems = probs
		return res, consent.ErrImportInvalid
	}
	if o.DryRun {
		return res, nil
	}
	for _, row := range rows {
		if _, _, err := e.saveContact(ctx, &row.Input, model.SourceImport, o.By, row.Detail); err != nil {
			return res, fmt.Errorf("storing row %d (rows before it are stored; the import can be run again): %w", row.Row, err)
		}
	}
	return res, nil
}

// checkImport checks the rows against what is stored: an opt-in must not
// override a later opt-out of the customer's own. It counts what the
// import will do.
func (e *Engine) checkImport(ctx context.Context, rows []consent.ImportRow, res *consent.ImportResult) []consent.ImportProblem {
	var probs []consent.ImportProblem
	for _, row := range rows {
		if p := e.checkNumber(row.Input.PhoneNumberID); p != nil {
			probs = append(probs, consent.ImportProblem{Row: row.Row, Column: p.Field, Message: p.Message})
			continue
		}
		key, err := e.resolveKey(ctx, row.Input.Key())
		if err != nil {
			return []consent.ImportProblem{{Row: row.Row, Message: "reading the contact: " + err.Error()}}
		}
		c, err := e.store.Contact(ctx, key)
		switch {
		case errors.Is(err, model.ErrNotFound):
			c = &model.Contact{Key: key}
			res.Created++
		case err != nil:
			return []consent.ImportProblem{{Row: row.Row, Message: "reading the contact: " + err.Error()}}
		default:
			res.Updated++
		}
		if why := consent.Conflict(c, row.Input.Consent); why != "" {
			probs = append(probs, consent.ImportProblem{Row: row.Row, Column: "opted_in", Message: why})
			continue
		}
		// What Apply will record, on a copy.
		cp := *c
		cp.Consent = append([]model.ConsentEvent(nil), c.Consent...)
		in := row.Input
		in.Fields = nil
		if consent.Apply(&cp, &in, model.SourceImport, "", row.Detail) {
			if row.Input.Consent.OptedIn {
				res.OptIns++
			} else {
				res.OptOuts++
			}
		}
	}
	return probs
}
