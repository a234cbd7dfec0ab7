// The test chat's customer and templates, as the panel edits and shows
// them: a profile typed as text (tags by commas, fields one "key: value"
// a line) and a template's text with the parameters the flow gave.
import type { Json } from '../types';

export interface ProfileForm {
  name: string;
  language: string;
  tags: string;
  fields: string;
  optedIn: boolean;
}

export const defaultProfile: ProfileForm = { name: 'Alex', language: '', tags: '', fields: '', optedIn: true };

export interface Profile {
  name: string;
  language?: string;
  tags: string[];
  fields: Record<string, Json>;
  opted_in: boolean;
}

/**
 * profileOf reads the form into what the API takes, or an error naming
 * the line at fault. A field's value is a number or true/false when it
 * reads as one, else text.
 */
export function profileOf(f: ProfileForm): { profile?: Profile; error?: string } {
  const fields: Record<string, Json> = {};
  for (const raw of f.fields.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const i = line.indexOf(':');
    if (i <= 0) return { error: `"${line}": write a field as name: value.` };
    const key = line.slice(0, i).trim();
    const v = line.slice(i + 1).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return { error: `"${key}" is not a field name (letters, digits and _).` };
    fields[key] = v === 'true' ? true : v === 'false' ? false : v !== '' && !isNaN(Number(v)) ? Number(v) : v;
  }
  const tags = f.tags
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const p: Profile = { name: f.name.trim(), tags, fields, opted_in: f.optedIn };
  if (f.language.trim()) p.language = f.language.trim();
  return { profile: p };
}

/**
 * fillTemplate puts a template's parameters into its text: {{1}}, {{2}}…
 * by number, named ones ({{name}}) in the order they first appear. A
 * parameter not given stays as it is.
 */
export function fillTemplate(text: string, params: string[]): string {
  const named: string[] = [];
  return text.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, (whole, key: string) => {
    let i: number;
    if (/^\d+$/.test(key)) i = Number(key) - 1;
    else {
      if (!named.includes(key)) named.push(key);
      i = named.indexOf(key);
    }
    return i >= 0 && i < params.length ? params[i] : whole;
  });
}
