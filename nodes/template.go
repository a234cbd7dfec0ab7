package nodes

import "github.com/parleyhq/parley/flows"

// template sends an approved message template; it may go out with the
// window closed.
//
//	{"id": "reengage_tpl", "type": "template",
//	 "template": {"name": "order_followup", "language": "en_US",
//	              "body": ["{{ contact.name }}"],
//	              "buttons": [{"type": "quick_reply", "index": 0, "payload": "yes"}]},
//	 "next": "await", "on_blocked": "bye"}
//
// Every kind of template parameter may be given (flows.TemplateRef: media
// and location headers, named variables, currency and dates, URL,
// copy-code and OTP buttons, carousel cards, an offer's end). The engine
// checks that the template is approved and takes these parameters
// (templates.CheckTemplateSend) and, for a business-initiated send, that the
// contact opted in; when it cannot be sent the flow takes on_blocked, else
// the conversation fails.
func init() { Register(flows.TypeTemplate, TypeFunc(stepTemplate)) }

func stepTemplate(n *flows.Node, v *View, ev Event) Effects {
	var eff Effects
	if ev.Kind == Arrive && n.Template != nil {
		t, err := v.Flow.RenderTemplate(n.Template, v.Env)
		if err != nil {
			eff.Problems = append(eff.Problems, err.Error())
		}
		eff.Sends = []Send{{Template: &t}}
	}
	eff.Next, eff.Exit = n.Next, ExitNext
	return eff
}
