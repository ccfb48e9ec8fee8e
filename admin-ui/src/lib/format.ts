// How record values look in the grid.

import type { Field } from './types';

export function cellText(f: Field | undefined, v: unknown): string {
  if (v === null || v === undefined || v === '') return '';
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ');
  if (f?.type === 'json' || typeof v === 'object') return JSON.stringify(v);
  if (f?.type === 'editor') return String(v).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return String(v);
}

/** Shown columns: every field but passwords and hidden system secrets. */
export function gridFields(fields: Field[]): Field[] {
  return fields.filter((f) => f.type !== 'password' && !(f.hidden && f.system));
}

/** A human-readable label of a record: its presentable fields, else its id. */
export function recordLabel(fields: Field[], r: Record<string, unknown>): string {
  const parts = fields.filter((f) => f.presentable).map((f) => cellText(f, r[f.name])).filter(Boolean);
  if (parts.length) return parts.join(' · ');
  for (const name of ['name', 'title', 'email', 'username', 'label']) {
    if (typeof r[name] === 'string' && r[name]) return r[name] as string;
  }
  return String(r.id);
}
