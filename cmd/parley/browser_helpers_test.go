package main

// Helpers of the browser tests: a real `parley serve` (the e2e harness of
// serve_e2e_test.go) driven through headless Chromium with chromedp. They
// are shared by every browser test (the editor's, the inbox's): start the
// server, open a browser, sign in, act on elements by data-testid, wait for
// conditions, take screenshots.
//
// Chromium is Debian's (/usr/bin/chromium; PARLEY_CHROMIUM names another).
// Without it the tests skip, except in CI (CI=true), where they fail.
// Screenshots go to $PARLEY_ARTIFACTS/<test name>/, else to the test's
// temporary directory, and their paths are logged.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browserTimeout bounds one wait in the browser: generous, for CI's two
// shared cores.
const browserTimeout = 90 * time.Second

// chromiumPath finds Chromium, or skips the test (fails it in CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("PARLEY_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is missing: the browser tests must run in CI (apt-get install -y chromium)")
	}
	t.Skip("browser test skipped: Chromium not found (apt-get install -y chromium, or set PARLEY_CHROMIUM)")
	return ""
}

// browser is one Chromium tab on a running Parley.
type browser struct {
	t     *testing.T
	ctx   context.Context
	base  string // http://host:port
	shots string // screenshot directory
	n     int    // screenshots taken, for their order in file names
}

// newBrowser starts a fresh headless Chromium (its own profile) for base,
// closed when the test ends.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser now, so that a failure to start is reported as such.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	// The page's errors go to the test's log.
	if err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg = d.Exception.Description
			}
			t.Logf("page exception: %s", msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range e.Args {
					if a.Description != "" {
						parts = append(parts, a.Description)
					} else {
						parts = append(parts, string(a.Value))
					}
				}
				t.Logf("page console.%s: %s", e.Type, strings.Join(parts, " "))
			}
		}
	}); err != nil {
		t.Fatalf("listening to the page: %v", err)
	}
	return &browser{t: t, ctx: ctx, base: base, shots: artifactDir(t)}
}

// artifactDir is where a test keeps its screenshots.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if root := os.Getenv("PARLEY_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// do runs chromedp actions, failing the test on an error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.shot("failed")
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open navigates to a path of the app and waits for the app to render.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
	b.waitJS(`document.querySelector('#root') && document.querySelector('#root').children.length > 0`, "the app rendering "+path)
}

// js evaluates a JavaScript expression (awaiting a promise) and decodes
// its value into T. The page's helpers (pageHelpers) are in scope.
func js[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](pageHelpers+"\n"+expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.shot("failed")
		b.t.Fatalf("evaluating %.300s: %v", expr, err)
	}
	return v
}

// pageHelpers are small functions every evaluated expression may use.
// fill sets a React-controlled field as typing does: through the native
// value setter, then an input (and change) event. apiFetch calls the REST
// API as the signed-in user (with the CSRF token).
const pageHelpers = `
var $t = (id) => document.querySelector('[data-testid="' + id + '"]');
var $$t = (id) => Array.from(document.querySelectorAll('[data-testid="' + id + '"]'));
var fill = (el, v) => {
  if (!el) throw new Error('no element to fill');
  const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, v);
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
};
var apiFetch = async (method, path, body) => {
  const me = await (await fetch('/api/v1/auth/me')).json();
  const r = await fetch('/api/v1' + path, { method, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token || '' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
};`

// waitJS waits until a JavaScript expression is truthy.
func (b *browser) waitJS(expr, what string) {
	b.t.Helper()
	deadline := time.Now().Add(browserTimeout)
	for {
		ok := js[bool](b, "!!("+expr+")")
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.shot("timeout")
			b.t.Fatalf("timed out after %v waiting for %s (%s)", browserTimeout, what, expr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sel is a CSS selector for a data-testid.
func sel(testid string) string { return fmt.Sprintf(`[data-testid=%q]`, testid) }

// quote makes a Go string a JavaScript string literal.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// wait waits for an element with this data-testid.
func (b *browser) wait(testid string) {
	b.t.Helper()
	b.waitJS("$t("+quote(testid)+")", "element "+testid)
}

// click clicks the element with this data-testid (waiting for it, and for
// it to be enabled).
func (b *browser) click(testid string) {
	b.t.Helper()
	b.waitJS("$t("+quote(testid)+") && !$t("+quote(testid)+").disabled", "clickable "+testid)
	js[bool](b, "$t("+quote(testid)+").click(), true")
}

// fill sets the field with this data-testid to value.
func (b *browser) fill(testid, value string) {
	b.t.Helper()
	b.wait(testid)
	js[bool](b, "fill($t("+quote(testid)+"), "+quote(value)+"), true")
}

// text is the text of the element with this data-testid.
func (b *browser) text(testid string) string {
	b.t.Helper()
	b.wait(testid)
	return js[string](b, "$t("+quote(testid)+").innerText")
}

// waitText waits until the element with this data-testid holds want.
func (b *browser) waitText(testid, want string) {
	b.t.Helper()
	b.waitJS("$t("+quote(testid)+") && $t("+quote(testid)+").innerText.includes("+quote(want)+")", fmt.Sprintf("%s to show %q", testid, want))
}

// shot saves a screenshot of the page as NN-name.png and logs its path.
func (b *browser) shot(name string) string {
	b.t.Helper()
	b.n++
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.n, strings.ReplaceAll(name, " ", "-")))
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.t.Logf("screenshot: %s", p)
	return p
}

// signIn signs in through the app's sign-in page, or creates the first
// admin through its setup page when the server has no user yet.
func (b *browser) signIn(email, password string) {
	b.t.Helper()
	b.open("/")
	b.waitJS(`$t('signin-form') || $t('setup-form') || $t('nav')`, "the sign-in page")
	switch {
	case js[bool](b, `!!$t('setup-form')`):
		b.fill("setup-name", "Admin")
		b.fill("setup-email", email)
		b.fill("setup-password", password)
		b.click("setup-submit")
	case js[bool](b, `!!$t('signin-form')`):
		b.fill("signin-email", email)
		b.fill("signin-password", password)
		b.click("signin-submit")
	}
	b.wait("nav")
}

// centre is the centre of the element a CSS selector finds, in page coordinates.
func (b *browser) centre(css string) (float64, float64) {
	b.t.Helper()
	b.waitJS(`document.querySelector(`+quote(css)+`)`, css)
	p := js[[]float64](b, `(() => { const r = document.querySelector(`+quote(css)+`).getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	return p[0], p[1]
}

// mouseClick clicks the centre of the element a CSS selector finds, with
// the mouse (not element.click()): what a person does.
func (b *browser) mouseClick(css string) {
	b.t.Helper()
	x, y := b.centre(css)
	b.do("click "+css, chromedp.MouseClickXY(x, y))
}

// drag presses the left button on one element and releases it on another,
// moving in steps between, as a person's drag does.
func (b *browser) drag(fromCSS, toCSS string) {
	b.t.Helper()
	x0, y0 := b.centre(fromCSS)
	x1, y1 := b.centre(toCSS)
	steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x0, y0, leftHeld)}
	for i := 1; i <= 10; i++ {
		f := float64(i) / 10
		steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x0+(x1-x0)*f, y0+(y1-y0)*f, leftHeld))
	}
	steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x1, y1, leftHeld))
	b.do("drag "+fromCSS+" to "+toCSS, steps...)
}

// leftHeld makes a mouse event one of a drag with the left button down.
func leftHeld(p *input.DispatchMouseEventParams) {
	p.Button, p.Buttons, p.ClickCount = input.MouseButtonLeft, 1, 1
}

// key presses keys (see chromedp/kb) with modifiers on the focused page.
func (b *browser) key(keys string, mods ...chromedp.Modifier) {
	b.t.Helper()
	b.do("key "+quote(keys), chromedp.KeyEvent(keys, chromedp.KeyModifiers(mods...)))
}

// startUI starts a sandbox and `parley serve` for a browser test, with
// the admin of the e2e harness (e2eAdmin, e2ePassword) seeded.
func startUI(t *testing.T, o e2eOptions) *e2e {
	t.Helper()
	h := newE2E(t, o)
	h.start()
	return h
}

// scripts are the file names of the scripts the page has fetched: the
// entry index.html names, and the chunk of every page opened since (the
// editor, the inbox and schedules are each their own chunk, React.lazy).
func (b *browser) scripts() []string {
	b.t.Helper()
	return js[[]string](b, `(() => {
  const urls = [...document.querySelectorAll('script[src]')].map((s) => s.src)
    .concat(performance.getEntriesByType('resource').map((e) => e.name));
  return [...new Set(urls.filter((u) => u.endsWith('.js')).map((u) => u.split('/').pop()))].sort();
})()`)
}

// noEditorChunk fails the test if the page has fetched the editor's
// chunk (React Flow and dagre) or holds React Flow's elements: sign-in,
// setup, the flows list and the inbox must not need them.
func (b *browser) noEditorChunk(where string) {
	b.t.Helper()
	for _, s := range b.scripts() {
		if strings.HasPrefix(s, "EditorPage-") {
			b.t.Errorf("%s fetched the editor's chunk %s (scripts: %v)", where, s, b.scripts())
		}
	}
	if js[bool](b, `!!document.querySelector('.react-flow')`) {
		b.t.Errorf("%s shows React Flow", where)
	}
}
