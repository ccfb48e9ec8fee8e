// Autocompletion for the rule and filter language: the identifiers a rule of a
// collection can name, and the token under the cursor.

import type { Collection } from './types';

export interface Suggestion { label: string; detail: string }

const REQUEST = [
  ['@request.method', 'HTTP method'],
  ['@request.context', 'default, oauth2, otp, password, realtime, protectedFile'],
  ['@request.headers.', 'a request header (lowercase, _ for -)'],
  ['@request.query.', 'a query parameter'],
  ['@request.auth.id', 'the caller (empty for guests)'],
  ['@request.auth.collectionName', "the caller's auth collection"],
];
const MACROS = ['@now', '@second', '@minute', '@hour', '@weekday', '@day', '@month', '@year',
  '@yesterday', '@tomorrow', '@todayStart', '@todayEnd', '@monthStart', '@monthEnd', '@yearStart', '@yearEnd'];
const MODIFIERS = [
  [':isset', 'whether the body/query sent the key'],
  [':changed', 'whether the body changes the field'],
  [':length', 'number of items of a multi-value field'],
  [':each', 'applies to every item'],
  [':lower', 'lowercased value'],
];

/** Every identifier worth suggesting in a rule of `c`. */
export function identifiers(c: Collection, all: Collection[]): Suggestion[] {
  const out: Suggestion[] = [];
  const byId = (id?: string) => all.find((x) => x.id === id || x.name === id);
  for (const f of c.fields) {
    out.push({ label: f.name, detail: f.type });
    if (f.type === 'relation') {
      for (const g of byId(f.collectionId)?.fields ?? []) out.push({ label: `${f.name}.${g.name}`, detail: `${g.type} via relation` });
    }
    if (f.type !== 'autodate' && !f.system) out.push({ label: `@request.body.${f.name}`, detail: `submitted ${f.type}` });
  }
  for (const [label, detail] of REQUEST) out.push({ label, detail });
  const authFields = new Set<string>();
  for (const a of all.filter((x) => x.type === 'auth')) for (const f of a.fields) authFields.add(f.name);
  for (const n of authFields) out.push({ label: `@request.auth.${n}`, detail: 'field of the caller' });
  for (const other of all) {
    for (const f of other.fields) out.push({ label: `@collection.${other.name}.${f.name}`, detail: `${f.type} of any ${other.name}` });
  }
  for (const m of MACROS) out.push({ label: m, detail: 'datetime macro' });
  for (const [label, detail] of MODIFIERS) out.push({ label, detail: `modifier: ${detail}` });
  const seen = new Set<string>();
  return out.filter((s) => !seen.has(s.label) && seen.add(s.label));
}

/** The identifier-like token that ends at `pos`: [start, text]. */
export function tokenAt(text: string, pos: number): [number, string] {
  let start = pos;
  while (start > 0 && /[\w@.:]/.test(text[start - 1])) start--;
  return [start, text.slice(start, pos)];
}

export function complete(all: Suggestion[], prefix: string, limit = 8): Suggestion[] {
  if (!prefix) return [];
  const p = prefix.toLowerCase();
  // A modifier completes the identifier before the colon.
  const colon = p.lastIndexOf(':');
  if (colon > 0) {
    const mod = p.slice(colon);
    return all.filter((s) => s.label.startsWith(':') && s.label.startsWith(mod) && s.label !== mod).slice(0, limit);
  }
  return all.filter((s) => s.label.toLowerCase().startsWith(p) && s.label.toLowerCase() !== p).slice(0, limit);
}
