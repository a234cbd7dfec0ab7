// Secrets (issue 12 §2): the rules the server applies to a name and a
// value (engine/secrets), checked as the admin types, and the REST calls.
// A value goes to the server and never comes back: nothing here keeps it.
import { del, enc, get, put } from '../api';

/** SecretInfo is what the server shows of a secret: never its value. */
export interface SecretInfo {
  name: string;
  fingerprint: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

export const maxNameLen = 64;
export const maxValueBytes = 8 << 10;

/** nameProblem says what is wrong with a name, or '' (the server's rule: [a-z][a-z0-9_]*, 1–64). */
export function nameProblem(name: string): string {
  if (!name) return 'A name is required.';
  if (name.length > maxNameLen) return `At most ${maxNameLen} characters.`;
  if (!/^[a-z][a-z0-9_]*$/.test(name)) return 'A lowercase letter first, then lowercase letters, digits and _.';
  return '';
}

/** valueProblem says what is wrong with a value, or '' (1 byte to 8 KiB, as UTF-8). */
export function valueProblem(value: string): string {
  if (!value) return 'A value is required.';
  const n = new TextEncoder().encode(value).length;
  if (n > maxValueBytes) return `At most ${maxValueBytes} bytes; this is ${n}.`;
  return '';
}

/** usage is how a flow writes the secret. */
export const usage = (name: string) => `{{ secrets.${name} }}`;

export const listSecrets = async () => (await get<{ secrets: SecretInfo[] }>('/secrets')).secrets;
export const putSecret = (name: string, value: string) => put<SecretInfo>('/secrets/' + enc(name), { value });
export const deleteSecret = (name: string) => del<null>('/secrets/' + enc(name));
