// What the dashboard knows about field types: labels, defaults for a new field, which
// options exist, and example values generated from a schema.

import type { Collection, Field, FieldType, RuleName } from './types';

export const FIELD_TYPES: { type: FieldType; label: string; icon: string }[] = [
  { type: 'text', label: 'Plain text', icon: 'T' },
  { type: 'editor', label: 'Rich editor', icon: '¶' },
  { type: 'number', label: 'Number', icon: '#' },
  { type: 'bool', label: 'Bool', icon: '◑' },
  { type: 'email', label: 'Email', icon: '@' },
  { type: 'url', label: 'URL', icon: '⇗' },
  { type: 'date', label: 'Date/time', icon: '◷' },
  { type: 'autodate', label: 'Autodate', icon: '⟳' },
  { type: 'select', label: 'Select', icon: '☰' },
  { type: 'json', label: 'JSON', icon: '{}' },
  { type: 'relation', label: 'Relation', icon: '⇄' },
  { type: 'file', label: 'File', icon: '⎘' },
  { type: 'password', label: 'Password', icon: '•' },
];

export function typeInfo(t: FieldType) {
  return FIELD_TYPES.find((x) => x.type === t) ?? { type: t, label: t, icon: '?' };
}

/** Types whose values can go into the full-text index (`searchable`). */
export const SEARCHABLE_TYPES: FieldType[] = ['text', 'editor', 'email', 'url', 'select', 'json'];

export function isSearchable(c: Collection | undefined): boolean {
  return !!c?.fields.some((f) => SEARCHABLE_TYPES.includes(f.type) && (f as { searchable?: boolean }).searchable);
}

export function newField(type: FieldType, name: string): Field {
  const base = { name, hidden: false, presentable: false, system: false };
  switch (type) {
    case 'text': return { ...base, type, required: false, min: 0, max: 0, pattern: '' };
    case 'number': return { ...base, type, required: false, min: null, max: null, onlyInt: false };
    case 'bool': return { ...base, type, required: false };
    case 'email': case 'url': return { ...base, type, required: false, onlyDomains: null, exceptDomains: null };
    case 'editor': return { ...base, type, required: false, maxSize: 0, convertURLs: false };
    case 'date': return { ...base, type, required: false, min: '', max: '' };
    case 'autodate': return { ...base, type, onCreate: true, onUpdate: false };
    case 'select': return { ...base, type, required: false, maxSelect: 1, values: [] };
    case 'json': return { ...base, type, required: false, maxSize: 0 };
    case 'relation': return { ...base, type, required: false, collectionId: '', cascadeDelete: false, minSelect: 0, maxSelect: 1 };
    case 'file': return { ...base, type, required: false, maxSelect: 1, maxSize: 0, mimeTypes: [], thumbs: [], protected: false };
    case 'password': return { ...base, type, required: false, min: 8, max: 0, pattern: '', cost: 0 };
  }
}

/** A new collection as the dashboard drafts it: the id primary key and timestamps. */
export function newCollection(type: 'base' | 'auth' = 'base'): Collection {
  return {
    name: '',
    type,
    fields: [
      {
        name: 'id', type: 'text', system: true, primaryKey: true, required: true, min: 15, max: 15,
        pattern: '^[a-z0-9]+$', autogeneratePattern: '[a-z0-9]{15}', hidden: false, presentable: false,
      },
      { ...newField('autodate', 'created'), onCreate: true, onUpdate: false } as Field,
      { ...newField('autodate', 'updated'), onCreate: true, onUpdate: true } as Field,
    ],
    indexes: [],
    listRule: null, viewRule: null, createRule: null, updateRule: null, deleteRule: null,
  };
}

export function ruleNames(c: Collection): RuleName[] {
  const base: RuleName[] = ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule'];
  return c.type === 'auth' ? [...base, 'authRule', 'manageRule'] : base;
}

export const RULE_LABELS: Record<RuleName, string> = {
  listRule: 'List/Search', viewRule: 'View', createRule: 'Create', updateRule: 'Update',
  deleteRule: 'Delete', authRule: 'Authentication', manageRule: 'Manage',
};

/** A plausible value of a field, for examples. */
export function exampleValue(f: Field, all: Collection[]): unknown {
  switch (f.type) {
    case 'text': return f.name === 'id' ? 'abc123def456ghi' : `example ${f.name}`;
    case 'editor': return '<p>Some <strong>rich</strong> text</p>';
    case 'number': return f.onlyInt ? 42 : 12.5;
    case 'bool': return true;
    case 'email': return 'someone@example.com';
    case 'url': return 'https://example.com';
    case 'date': case 'autodate': return '2026-01-31 10:00:00.000Z';
    case 'select': {
      const v = f.values?.[0] ?? 'option';
      return (f.maxSelect ?? 1) > 1 ? [v] : v;
    }
    case 'json': return { any: 'json' };
    case 'relation': {
      const target = all.find((c) => c.id === f.collectionId)?.name ?? 'target';
      const id = `RELATION_TO_${target.toUpperCase()}`;
      return (f.maxSelect ?? 1) > 1 ? [id] : id;
    }
    case 'file': return (f.maxSelect ?? 1) > 1 ? ['photo_abc123.png'] : 'photo_abc123.png';
    case 'password': return undefined;
  }
}

export function exampleRecord(c: Collection, all: Collection[]): Record<string, unknown> {
  const out: Record<string, unknown> = { collectionId: c.id ?? '', collectionName: c.name };
  for (const f of c.fields) {
    if (f.hidden || f.type === 'password') continue;
    out[f.name] = exampleValue(f, all);
  }
  return out;
}

/** A deep copy that Svelte's proxies do not leak into. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** A PocketBase-style index statement. */
export function indexSql(name: string, collection: string, columns: string[], unique: boolean): string {
  return `CREATE ${unique ? 'UNIQUE ' : ''}INDEX \`${name}\` ON \`${collection}\` (${columns.map((c) => `\`${c}\``).join(', ')})`;
}

export interface ParsedIndex { unique: boolean; name: string; columns: string[] }

export function parseIndex(sql: string): ParsedIndex | null {
  const m = /^\s*create\s+(unique\s+)?index\s+(?:if\s+not\s+exists\s+)?[`"']?([\w]+)[`"']?\s+on\s+[`"']?[\w]+[`"']?\s*\(([^)]*)\)/i.exec(sql);
  if (!m) return null;
  return {
    unique: !!m[1],
    name: m[2],
    columns: m[3].split(',').map((s) => s.trim().replace(/[`"']/g, '')).filter(Boolean),
  };
}
