package consent

import (
	"strings"

	"github.com/parleyhq/parley/engine/model"
	"github.com/parleyhq/parley/flows"
)

// Default consent keywords and confirmations. A text message whose whole
// folded text is one of the keywords acts on consent, at any point of any
// flow. CANCEL, END and QUIT (SMS habits) are left out: in a chat they are
// ordinary answers ("cancel" my booking), and taking them as an opt-out
// would unsubscribe customers who meant nothing of the kind.
var (
	DefaultOptOutKeywords = []string{
		"STOP", "STOPALL", "UNSUBSCRIBE",
		"BAJA", "PARAR", "ARRET", "ARRÊT", "STOPP", "SAIR",
	}
	DefaultOptInKeywords = []string{"START", "UNSTOP", "SUBSCRIBE"}
)

// Default confirmations of a keyword opt-out and opt-in.
const (
	DefaultOptOutReply = "You're unsubscribed and won't get more messages from us. Reply START to opt back in."
	DefaultOptInReply  = "You're subscribed again. Reply STOP to unsubscribe."
)

// Keywords holds the folded keywords and the confirmations.
type Keywords struct {
	optOut, optIn map[string]bool
	// OptOutReply and OptInReply confirm a keyword opt-out and opt-in.
	OptOutReply, OptInReply string
}

// NewKeywords folds the keywords, nil for the defaults
// (DefaultOptOutKeywords, DefaultOptInKeywords; an empty list for none),
// and keeps the confirmations, "" for the defaults.
func NewKeywords(optOut, optIn []string, optOutReply, optInReply string) Keywords {
	k := Keywords{optOut: foldSet(optOut, DefaultOptOutKeywords), optIn: foldSet(optIn, DefaultOptInKeywords),
		OptOutReply: optOutReply, OptInReply: optInReply}
	if k.OptOutReply == "" {
		k.OptOutReply = DefaultOptOutReply
	}
	if k.OptInReply == "" {
		k.OptInReply = DefaultOptInReply
	}
	return k
}

func foldSet(ks, def []string) map[string]bool {
	if ks == nil {
		ks = def
	}
	m := map[string]bool{}
	for _, k := range ks {
		if f := foldKeyword(k); f != "" {
			m[f] = true
		}
	}
	return m
}

// foldKeyword folds a message's whole text for keyword matching: case,
// accents, surrounding spaces and punctuation do not count ("Stop." is
// STOP); words inside do ("stop sending" is not).
func foldKeyword(s string) string {
	return strings.Join(flows.Words(s), " ")
}

// Match says which consent kind a message's text asks for, or "".
func (k Keywords) Match(text string) model.ConsentKind {
	f := foldKeyword(text)
	switch {
	case f == "":
		return ""
	case k.optOut[f]:
		return model.ConsentOptOut
	case k.optIn[f]:
		return model.ConsentOptIn
	}
	return ""
}
