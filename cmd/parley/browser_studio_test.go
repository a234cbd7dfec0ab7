package main

// Browser tests of the studio for analysts (issue 15): building a flow
// with per-choice exits by drag and drop, publishing with a diff and a
// note, two analysts saving one flow (the 409 path), finding a node,
// sticky notes, the phone preview, the level of detail at the zoom "Fit"
// picks, undo after a paste, and the editor on a phone-sized screen.

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// publish publishes the draft through the confirmation dialog, with an
// optional note, and waits for the dialog to close.
func (b *browser) publish(note string) {
	b.t.Helper()
	b.click("publish")
	b.wait("publish-dialog")
	if note != "" {
		b.fill("publish-note", note)
	}
	b.click("publish-confirm")
	b.waitJS(`!$t('publish-dialog')`, "the publish dialog closed")
}

// dragExit connects a node's exit to another node by dragging from the
// exit's handle onto the node, as a person does.
func (b *browser) dragExit(node, handle, target string) {
	b.t.Helper()
	b.drag(sel("handle-"+node+"-"+handle)+" .react-flow__handle", sel("node-"+target)+" .react-flow__handle.in")
	b.waitJS(`document.querySelector('[data-testid="rf__edge-`+node+`::`+handle+`"]')`, "the edge "+node+" "+handle+" → "+target)
}

func TestBrowserStudio(t *testing.T) {
	h := startUI(t, e2eOptions{})
	b := newBrowser(t, h.url(""))
	b.signIn(e2eAdmin, e2ePassword)
	b.waitText("nav", "Flows")

	b.click("new-flow")
	b.fill("new-flow-id", "pizza")
	b.fill("new-flow-name", "Pizza")
	b.click("new-flow-create")
	b.wait("palette")

	// A menu of buttons, each leading its own way.
	b.addNode("send", "greet")
	b.fill("field-message/text", "Hi {{ contact.name }}! Welcome to Pizza Roma.")
	b.addNode("wait_reply", "menu")
	b.click("toggle-prompt")
	b.fill("field-prompt/type", "buttons")
	b.fill("field-prompt/text", "What would you like?")
	b.fill("field-prompt/buttons/0/id", "order")
	b.fill("field-prompt/buttons/0/title", "Order")
	b.click("add-button")
	b.fill("field-prompt/buttons/1/id", "track")
	b.fill("field-prompt/buttons/1/title", "Track my order")
	b.fill("field-accept", "button")
	// One handle per button, labelled with its title, before "other".
	b.waitJS(`$t('handle-menu-prompt/buttons/0/next') && $t('handle-menu-prompt/buttons/0/next').innerText.includes('Order')
		&& $t('handle-menu-prompt/buttons/1/next').innerText.includes('Track my order') && $t('handle-menu-next').innerText.includes('other')`, "a handle per button")
	// The phone preview shows the question and its buttons.
	b.waitJS(`$t('phone-preview') && $t('phone-bubble').innerText.includes('What would you like?') && $$t('phone-button').map((x) => x.innerText).join('|') === 'Order|Track my order'`, "the phone preview")
	b.addNode("send", "order_it")
	b.fill("field-message/text", "Which pizza would you like?")
	b.addNode("send", "track_it")
	b.fill("field-message/text", "Please send your order number.")
	b.addNode("handoff", "agent")

	b.click("auto-layout")
	b.click("fit-view")
	b.waitJS(`$t('node-greet') && $t('node-agent')`, "every node in view")
	time.Sleep(400 * time.Millisecond) // the layout's and the fit's animations
	b.dragExit("greet", "next", "menu")
	b.dragExit("menu", "prompt/buttons/0/next", "order_it")
	b.dragExit("menu", "prompt/buttons/1/next", "track_it")
	b.dragExit("menu", "next", "agent")
	b.saved()
	b.shot("per-choice exits connected")
	draft := js[string](b, `(async () => JSON.stringify((await apiFetch('GET', '/flows/pizza')).body.draft.nodes.find((n) => n.id === 'menu').prompt.buttons))()`)
	if want := `[{"id":"order","title":"Order","next":"order_it"},{"id":"track","title":"Track my order","next":"track_it"}]`; draft != want {
		t.Fatalf("the buttons saved %s, want %s", draft, want)
	}
	// A button wait without a retry answers free text with silence: a
	// warning, in words, in the problems panel; the wait's badge says so.
	b.waitText("problems-count", "0 errors")
	b.click("tab-problems")
	b.waitJS(`$$t('problem').some((p) => p.dataset.node === 'menu' && p.innerText.includes('says nothing when the customer types something'))`, "the dead-end warning")
	b.wait("node-warnings-menu")
	b.shot("dead-end warning")

	// Publishing asks first, with what changes; Escape closes the dialog.
	b.click("publish")
	b.waitJS(`$t('diff-added') && $t('diff-added').innerText.includes('Added (5)') && $t('publish-warnings')`, "the diff of a first version")
	b.shot("publish dialog first version")
	b.key(kb.Escape)
	b.waitJS(`!$t('publish-dialog')`, "Escape closing the dialog")
	b.publish("First menu")
	b.waitText("flow-status", "published v1")

	// A tap on a button follows that button's exit.
	b.click("tab-test")
	b.click("chat-start")
	b.wait("chat-button-track")
	b.click("chat-button-track")
	b.waitJS(`$$t('chat-out').some((m) => m.innerText.includes('Please send your order number.'))`, "the track button's way")
	b.shot("test chat followed the button")
	b.click("chat-stop")

	// A change, then publish: the dialog lists the changed node; the note is in the history.
	b.selectNode("greet")
	b.fill("field-message/text", "Ciao {{ contact.name }}! Welcome to Pizza Roma.")
	b.saved()
	b.click("publish")
	b.waitJS(`$t('diff-changed') && $t('diff-changed').innerText.includes('greet') && $t('diff-changed').innerText.includes('message') && !$t('diff-added')`, "the diff lists greet as changed")
	b.fill("publish-note", "Warmer greeting")
	b.shot("publish dialog with diff")
	b.click("publish-confirm")
	b.waitText("flow-status", "published v2")
	b.click("tab-versions")
	b.waitText("version-note-2", "Warmer greeting")
	b.waitText("version-note-1", "First menu")
	b.shot("history with notes")
	// An unchanged draft makes no version.
	if got := js[string](b, `(async () => JSON.stringify((await apiFetch('POST', '/flows/pizza/publish', {})).body))()`); !strings.Contains(got, `"unchanged":true`) || !strings.Contains(got, `"version":2`) {
		t.Errorf("publishing an unchanged draft: %s", got)
	}

	// Find a node: by a word of its message, then jump to it.
	b.fill("node-search", "order number")
	b.wait("search-hit-track_it")
	b.shot("search")
	js[bool](b, `$t('search-hit-track_it').dispatchEvent(new MouseEvent('mousedown', { bubbles: true })), true`)
	b.waitJS(`$t('field-id') && $t('field-id').value === 'track_it'`, "the found node selected")

	// Two analysts: someone else saves the draft while this editor has it
	// open; this editor's next save meets a 409 and asks.
	other := func(text string) {
		t.Helper()
		ok := js[bool](b, `(async () => {
			const f = (await apiFetch('GET', '/flows/pizza')).body;
			const d = f.draft; d.nodes.find((n) => n.id === 'greet').message.text = `+quote(text)+`;
			const r = await apiFetch('PUT', '/flows/pizza?base=' + f.draft_rev, d);
			return r.status === 200;
		})()`)
		if !ok {
			t.Fatal("the other analyst's save failed")
		}
	}
	other("Other analyst's greeting")
	b.selectNode("order_it")
	b.fill("field-message/text", "Which pizza? We have 12.")
	b.wait("conflict-dialog")
	b.waitText("save-state", "someone else changed the draft")
	b.shot("conflict dialog")
	b.click("conflict-reload")
	b.waitJS(`!$t('conflict-dialog')`, "the conflict answered")
	b.waitText("notice", "Reloaded the draft")
	b.click("fit-view")
	time.Sleep(300 * time.Millisecond) // the fit's animation
	b.waitText("node-greet", "Other analyst's greeting")
	b.saved()
	// Again, and this time keep mine.
	other("A third greeting")
	b.selectNode("order_it")
	b.fill("field-message/text", "Which pizza? We have 14.")
	b.wait("conflict-dialog")
	b.click("conflict-overwrite")
	b.saved()
	if got := js[string](b, `(async () => (await apiFetch('GET', '/flows/pizza')).body.draft.nodes.find((n) => n.id === 'order_it').message.text)()`); got != "Which pizza? We have 14." {
		t.Errorf("after keeping mine the draft says %q", got)
	}

	// A sticky note, kept in the flow's meta.
	b.click("palette-note")
	b.wait("sticky-text-n1")
	b.fill("sticky-text-n1", "Ask Maria about gluten-free")
	b.saved()
	if got := js[string](b, `(async () => JSON.stringify((await apiFetch('GET', '/flows/pizza')).body.draft.meta.notes.map((n) => n.text)))()`); got != `["Ask Maria about gluten-free"]` {
		t.Errorf("notes saved: %s", got)
	}
	b.shot("sticky note")

	// Delete right after a paste deletes the copy; undo says what it undoes.
	// The keyboard was last in a properties field: a click on the canvas
	// takes it back for the flow.
	js[bool](b, `$t('field-id').focus(), document.activeElement === $t('field-id')`)
	b.selectNode("track_it")
	b.waitJS(`!['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement.tagName)`, "the field left by the click on the canvas")
	b.key("c", chromedp.ModifierCtrl)
	b.key("v", chromedp.ModifierCtrl)
	b.wait("node-track_it_2")
	b.waitJS(`$t('field-id') && $t('field-id').value === 'track_it_2'`, "the copy selected")
	b.key(kb.Delete)
	b.waitJS(`!$t('node-track_it_2')`, "the copy deleted")
	b.waitJS(`$t('undo').title.startsWith('Undo delete track_it_2')`, "undo naming the deletion")
	b.key("z", chromedp.ModifierCtrl)
	b.wait("node-track_it_2")
	b.waitText("notice", "Undone: delete track_it_2")
	b.key("z", chromedp.ModifierCtrl)
	b.waitJS(`!$t('node-track_it_2')`, "the paste undone")
	b.waitText("notice", "Undone: paste 1 node")
	b.waitText("node-order_it", "We have 14") // the earlier edit stays
	b.saved()
	// An edit undone at once leaves nothing to save: "Editing…" does not stick.
	b.selectNode("track_it")
	b.fill("field-message/text", "Changed and taken back")
	b.click("undo")
	b.waitText("node-track_it", "Please send your order number.")
	b.saved()

	// On a phone the editor says it needs a wider screen, and does not scroll sideways.
	b.do("phone-sized viewport", chromedp.EmulateViewport(390, 844))
	b.waitJS(`getComputedStyle($t('narrow-screen')).display !== 'none'`, "the wider-screen notice")
	// (The app's navigation bar is the admin pages' to fit.)
	if w := js[int](b, `Math.max($t('editor').scrollWidth, $t('editor').getBoundingClientRect().width)`); w > 390 {
		t.Errorf("the editor at 390 px is %d px wide", w)
	}
	b.shot("editor on a phone")
}

// TestBrowserCanvasLevelOfDetail: on a 15-node flow on a laptop's screen,
// the zoom "Fit" picks still shows each node's name and first line at a
// readable size (issue 15: the cards were empty boxes).
func TestBrowserCanvasLevelOfDetail(t *testing.T) {
	h := startUI(t, e2eOptions{})
	b := newBrowser(t, h.url(""))
	b.do("a laptop's viewport", chromedp.EmulateViewport(1280, 720))
	b.signIn(e2eAdmin, e2ePassword)
	// Laid out as a flow of this size is: five columns, three rows.
	doc := bigFlow("fifteen", 15)
	if got := js[int](b, `(async () => {
		const d = `+doc+`;
		d.nodes.forEach((n, i) => { n.meta = { x: (i % 5) * 300, y: Math.floor(i / 5) * 260 }; });
		return (await apiFetch('PUT', '/flows/fifteen', d)).status;
	})()`); got != 200 {
		t.Fatalf("saving the flow: %d", got)
	}
	b.open("/flows/fifteen")
	b.wait("node-n000")
	b.click("fit-view")
	time.Sleep(400 * time.Millisecond) // the fit's animation
	b.waitJS(`document.querySelectorAll('.react-flow__node').length === 15`, "all 15 nodes drawn")
	zoom := js[float64](b, `new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a`)
	t.Logf("Fit picked zoom %.2f", zoom)
	// Every node's name and first line: visible, at 9 px or more on screen.
	small := js[string](b, `(() => {
		const z = new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a;
		const bad = [];
		for (const el of document.querySelectorAll('.fnode-id, .fnode-sum')) {
			const cs = getComputedStyle(el);
			const px = parseFloat(cs.fontSize) * z;
			if (cs.visibility === 'hidden' || px < 9) bad.push(el.closest('[data-node-id]').dataset.nodeId + ' ' + px.toFixed(1) + 'px ' + cs.visibility);
		}
		return bad.join(', ');
	})()`)
	if small != "" {
		t.Errorf("at zoom %.2f these names or first lines are not legible: %s", zoom, small)
	}
	b.shot("fit of 15 nodes")
}
