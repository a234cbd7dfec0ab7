// Writes ../dist/.source-digest: a digest of the sources the build reads,
// so that a Go test (ui/static_test.go) can tell when the committed build
// is stale. Keep the file list and the format in step with sourceDigest
// in ui/static_test.go.
//
// Format: sha256 over, for each file in byte order of its slash path,
// "<path>\0<sha256 hex of content>\n"; the digest is written as hex.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const top = ['index.html', 'package.json', 'package-lock.json', 'vite.config.ts', 'tsconfig.json'];

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (!/\.test\.tsx?$/.test(name)) out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

const files = [...top, ...walk(join(root, 'src'), [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const h = createHash('sha256');
for (const f of files) {
  const sum = createHash('sha256').update(readFileSync(join(root, f))).digest('hex');
  h.update(`${f}\0${sum}\n`);
}
writeFileSync(join(root, '..', 'dist', '.source-digest'), h.digest('hex') + '\n');
