package ui_test

import (
	"net/http"
	"net/url"
	"testing"
)

// The templates an agent may send, for a conversation, say which would be
// refused (engine.TemplateRefusal, tested in the engine): the conversation
// must be one the caller may see.
func TestInboxTemplatesForAConversation(t *testing.T) {
	f, _ := inboxFixture(t)
	f.say(ann, "my parcel is late")
	conv := url.QueryEscape(convID(ann, 1))
	f.expect("GET", "/api/v1/inbox/templates?conversation="+conv, "", agentAnn, http.StatusOK)
	f.expect("GET", "/api/v1/inbox/templates?conversation="+conv, "", fixtureAdmin, http.StatusOK)
	f.expect("GET", "/api/v1/inbox/templates?conversation="+conv, "", agentCy, http.StatusNotFound)
	f.expect("GET", "/api/v1/inbox/templates?conversation=nope", "", agentAnn, http.StatusNotFound)
}
