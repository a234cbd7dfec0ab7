package storetest

import (
	"testing"
	"time"

	"github.com/parleyhq/parley/engine/model"
)

// template is a record with every field set, history included.
func template(name, language, status string) model.TemplateRecord {
	return model.TemplateRecord{
		TemplateInfo: model.TemplateInfo{
			Name: name, Language: language, Category: "UTILITY", Status: status,
			HeaderParams: 1, BodyParams: 2, QuickReplies: 2,
		},
		ID:              "1689556908129832",
		ParameterFormat: "POSITIONAL",
		Buttons:         []model.TemplateButtonInfo{{Type: "QUICK_REPLY", Text: "Yes"}, {Type: "QUICK_REPLY", Text: "No"}, {Type: "URL", Text: "Track"}},
		Quality:         "GREEN",
		UpdatedAt:       at(time.Hour),
		WebhookAt:       at(time.Hour).Truncate(time.Second),
		History: []model.TemplateChange{
			{At: at(0), Kind: model.ChangeStatus, To: "PENDING", Detail: "created through Parley by ana", Source: model.SourceLocal},
			{At: at(time.Hour).Truncate(time.Second), Kind: model.ChangeStatus, From: "PENDING", To: status, Event: status, Source: model.SourceWebhook},
			{At: at(2 * time.Hour), Kind: model.ChangeQuality, From: "UNKNOWN", To: "GREEN", Source: model.SourceSync},
		},
	}
}

// Template records round-trip exactly, list by name then language, are
// replaced by name and language (the others kept), and survive reopening.
func testTemplates(t *testing.T, s *suite) {
	st, path := s.fresh(t)
	ctx := ctxOf(t)
	if recs, err := st.Templates(ctx); len(recs) != 0 || err != nil {
		t.Fatalf("Templates of an empty store: %d, %v", len(recs), err)
	}
	must(t, st.SaveTemplates(ctx, nil))

	// "order" and "order_update" share a prefix; a name's languages sort
	// after the name itself.
	orderEN, orderDE := template("order", "en_US", "APPROVED"), template("order", "de", "REJECTED")
	orderDE.RejectedReason = "INVALID_FORMAT"
	update := template("order_update", "en_US", "PAUSED")
	must(t, st.SaveTemplates(ctx, []model.TemplateRecord{update, orderEN}))
	must(t, st.SaveTemplates(ctx, []model.TemplateRecord{orderDE}))
	want := []model.TemplateRecord{orderDE, orderEN, update}
	got, err := st.Templates(ctx)
	must(t, err)
	sameJSON(t, "templates", got, want)

	// Saving replaces one name and language, and only it.
	orderEN.Status = "DISABLED"
	orderEN.History = append(orderEN.History, model.TemplateChange{At: at(3 * time.Hour), Kind: model.ChangeStatus, From: "APPROVED", To: "DISABLED", Event: "132016", Source: model.SourceSend})
	must(t, st.SaveTemplates(ctx, []model.TemplateRecord{orderEN}))
	want[1] = orderEN
	got, err = st.Templates(ctx)
	must(t, err)
	sameJSON(t, "templates after replacing one", got, want)

	// What the caller keeps is not the store's: changing it changes nothing.
	got[0].Status, got[0].History[0].To = "changed", "changed"
	again, err := st.Templates(ctx)
	must(t, err)
	sameJSON(t, "templates after changing a read copy", again, want)

	// A record without a name or language is refused, and so is the whole
	// call: nothing of it is stored.
	for _, bad := range []model.TemplateRecord{template("", "en_US", "APPROVED"), template("welcome", "", "APPROVED")} {
		if err := st.SaveTemplates(ctx, []model.TemplateRecord{template("welcome", "fr", "APPROVED"), bad}); err == nil {
			t.Errorf("a template named %q in %q was stored", bad.Name, bad.Language)
		}
	}
	got, err = st.Templates(ctx)
	must(t, err)
	sameJSON(t, "templates after refused saves", got, want)

	must(t, st.Close())
	st = s.reopen(t, path)
	got, err = st.Templates(ctx)
	must(t, err)
	sameJSON(t, "templates after reopening", got, want)
}
