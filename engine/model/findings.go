package model

import "fmt"

// MaxFindings caps the problems, and the notes, that Findings list; past
// it they are only counted.
const MaxFindings = 50

// Findings are what an integrity check of a store (`parley check`)
// found. Problems are inconsistencies Parley does not repair by itself:
// restore a backup, or report them. Notes are harmless, or settled by a
// running Parley or its next start.
type Findings struct {
	Problems, Notes []string
	// MoreProblems and MoreNotes count those left out past MaxFindings.
	MoreProblems, MoreNotes int
}

// OK reports whether no problem was found.
func (f *Findings) OK() bool { return len(f.Problems) == 0 && f.MoreProblems == 0 }

// Problem records a problem.
func (f *Findings) Problem(format string, args ...any) {
	if len(f.Problems) < MaxFindings {
		f.Problems = append(f.Problems, fmt.Sprintf(format, args...))
	} else {
		f.MoreProblems++
	}
}

// Note records a note.
func (f *Findings) Note(format string, args ...any) {
	if len(f.Notes) < MaxFindings {
		f.Notes = append(f.Notes, fmt.Sprintf(format, args...))
	} else {
		f.MoreNotes++
	}
}
