// Escape closes the topmost dialog, wherever it was opened: the dialog's
// element marked data-close, else its Cancel or Close button, is clicked,
// so that closing by keyboard does exactly what closing by mouse does.

/** closeTopDialog clicks the close control of the last open .modal; false when there is none. */
export function closeTopDialog(doc: Document = document): boolean {
  const modals = doc.querySelectorAll<HTMLElement>('.modal');
  const top = modals[modals.length - 1];
  if (!top) return false;
  let close = top.querySelector<HTMLElement>('[data-close]');
  if (!close) {
    close =
      Array.from(top.querySelectorAll<HTMLButtonElement>('button')).find((b) => /^(cancel|close)$/i.test(b.textContent?.trim() ?? '')) ?? null;
  }
  if (!close) return false;
  close.click();
  return true;
}

/** installEscape closes dialogs on Escape, once per page. */
export function installEscape(win: Window = window): void {
  win.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    if (closeTopDialog(win.document)) e.preventDefault();
  });
}
