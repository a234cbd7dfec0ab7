/** download saves text as a file in the browser. */
export function download(name: string, text: string, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** flowJSON is how a flow is exported: stable, indented JSON. */
export function flowJSON(doc: unknown): string {
  return JSON.stringify(doc, null, 2) + '\n';
}
