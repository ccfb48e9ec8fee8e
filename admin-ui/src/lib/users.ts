// Auth records as the role screens show them: which collections hold users, how to
// search them, and their labels.

import { api } from './api.svelte';
import { recordLabel } from './format';
import type { Collection, RecordModel } from './types';

/** Auth collections whose records can hold roles (superusers bypass policies). */
export function userCollections(all: Collection[]): Collection[] {
  return all.filter((c) => c.type === 'auth' && c.name !== '_superusers');
}

export function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Records of `c` whose email, text fields or id contain `term`. */
export function searchFilter(c: Collection, term: string): string {
  const t = term.trim();
  if (!t) return '';
  const names = c.fields
    .filter((f) => ['text', 'email'].includes(f.type) && !f.hidden && f.name !== 'id')
    .map((f) => f.name);
  return [...names, 'id'].map((n) => `${n} ~ ${quote(t)}`).join(' || ');
}

/** Labels of the given records of `c`, by id (the id itself when not found). */
export async function labelsOf(c: Collection, ids: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (!ids.length) return out;
  try {
    const filter = ids.map((id) => `id = ${quote(id)}`).join(' || ');
    const res = await api.records(c.name, { filter, perPage: ids.length, skipTotal: 1 });
    for (const r of res.items) out[r.id] = userLabel(c, r);
  } catch {
    /* the ids stand in */
  }
  for (const id of ids) out[id] ??= id;
  return out;
}

export function userLabel(c: Collection, r: RecordModel): string {
  const label = recordLabel(c.fields, r);
  return typeof r.email === 'string' && r.email && label !== r.email ? `${label} <${r.email}>` : label;
}
