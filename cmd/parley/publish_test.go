package main

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/boltstore"
	"github.com/parleyhq/parley/engine/templates"
)

// TestPublishAllListsProblems: a flow file that cannot be published at
// start — here it names a template the registry does not have, which the
// schema alone does not catch — stops the start with each problem logged
// at ERROR with its file, JSON pointer and message, and no file of the
// folder is published: flows in git do not half-deploy.
func TestPublishAllListsProblems(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "parley.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := engine.New(t.Context(), engine.Options{Store: st, Templates: templates.NewSet(),
		Logger: slog.New(slog.DiscardHandler), CheckTemplatesOnPublish: true})
	if err != nil {
		t.Fatal(err)
	}
	good := flowDoc{"a_echo.json", []byte(crashEchoFlow)}
	bad := flowDoc{"b_nudge.json", []byte(`{"format": "parley/flow@1", "id": "nudge", "start": "t",
 "nodes": [{"id": "t", "type": "template", "template": {"name": "no_such_template", "language": "en_US"}}]}`)}
	log := &e2eLogBuffer{}
	err = publishAll(t.Context(), eng, []flowDoc{good, bad}, slog.New(slog.NewTextHandler(log, nil)))
	if err == nil || !strings.Contains(err.Error(), "b_nudge.json") || !strings.Contains(err.Error(), "/nodes/0/template") {
		t.Errorf("publishAll: %v, want an error naming the file and the problem's pointer", err)
	}
	want := `level=ERROR msg="flow file has an error" file=b_nudge.json pointer=/nodes/0/template problem=`
	if !strings.Contains(log.String(), want) || !strings.Contains(log.String(), "no_such_template") {
		t.Errorf("log:\n%s\nwant a line with %q naming the template", log.String(), want)
	}
	if _, err := st.Flow(t.Context(), "echo"); err == nil {
		t.Error("the valid file was published although its folder has an invalid one")
	}
}
