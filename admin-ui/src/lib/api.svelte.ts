// A small fetch wrapper over the public REST API: the stored superuser token, the
// error envelope, and the few endpoints the dashboard uses.

import type {
  AuthResponse, BackupInfo, Collection, ErrorBody, ErrorData, Explain, FieldError, ListResult, LogEntry, LogStat,
  PersonalExport, Policy, PolicyAction, RecordModel, Role, RoleLink, Settings,
} from './types';

const STORAGE_KEY = 'basalt_admin_auth';

export class ApiError extends Error {
  status: number;
  data: ErrorData;
  constructor(body: ErrorBody) {
    super(body.message || `Request failed (${body.status})`);
    this.status = body.status;
    this.data = body.data ?? {};
  }
  /** The message at a dotted path of `data` (`fields.0.name`), if any. */
  at(path: string): string | undefined {
    return errorAt(this.data, path);
  }
}

export function errorAt(data: ErrorData | undefined, path: string): string | undefined {
  let node: FieldError | ErrorData | undefined = data;
  for (const key of path.split('.')) {
    if (!node || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as ErrorData)[key];
  }
  return node && typeof (node as FieldError).message === 'string' ? (node as FieldError).message : undefined;
}

/** Every message in `data`, flattened to `path: message` lines (for a summary). */
export function allErrors(data: ErrorData | undefined, prefix = ''): string[] {
  if (!data) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(data)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v && typeof (v as FieldError).message === 'string') out.push(`${path}: ${(v as FieldError).message}`);
    else out.push(...allErrors(v as ErrorData, path));
  }
  return out;
}

interface Session { token: string; record: RecordModel }

function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

class Auth {
  session = $state<Session | null>(loadSession());

  get token(): string {
    return this.session?.token ?? '';
  }
  save(s: Session | null) {
    this.session = s;
    if (s) localStorage.setItem(STORAGE_KEY, JSON.stringify(s));
    else localStorage.removeItem(STORAGE_KEY);
  }
  /** Seconds until the token expires (from its `exp` claim), or 0 when unknown. */
  expiresIn(): number {
    try {
      const payload = JSON.parse(atob(this.token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      return payload.exp - Date.now() / 1000;
    } catch {
      return 0;
    }
  }
}

export const auth = new Auth();

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  const token = opts.token ?? auth.token;
  if (token) headers.Authorization = token;
  // FormData (file uploads) sets its own multipart content type; a Blob is sent raw.
  const raw = body instanceof FormData || body instanceof Blob;
  if (body instanceof Blob) headers['Content-Type'] = body.type || 'application/octet-stream';
  else if (body !== undefined && !raw) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : raw ? (body as BodyInit) : JSON.stringify(body),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError({ status: 0, message: 'The server cannot be reached.', data: {} });
  }
  if (!res.ok) throw await failure(res, !opts.token);
  const text = await res.text();
  return (text ? safeJson(text) : null) as T;
}

async function failure(res: Response, ownSession: boolean): Promise<ApiError> {
  const text = await res.text();
  const env = (text ? safeJson(text) : {}) as Partial<ErrorBody>;
  // An expired or revoked session: back to the sign-in screen.
  if (res.status === 401 && ownSession && auth.session) auth.save(null);
  return new ApiError({ status: res.status, message: env.message ?? `${res.status} ${res.statusText}`, data: env.data ?? {} });
}

/** A GET whose answer is a file (zip, JSON attachment), with the session's token. */
export async function fetchFile(path: string, fallbackName: string): Promise<{ blob: Blob; name: string }> {
  let res: Response;
  try {
    res = await fetch(path, { headers: auth.token ? { Authorization: auth.token } : {} });
  } catch {
    throw new ApiError({ status: 0, message: 'The server cannot be reached.', data: {} });
  }
  if (!res.ok) throw await failure(res, true);
  const disposition = res.headers.get('Content-Disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  return { blob: await res.blob(), name };
}

/** Hands a blob to the browser as a download named `name`. */
export function saveBlob(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  return q.size ? `?${q}` : '';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

const enc = encodeURIComponent;

export const api = {
  login: (identity: string, password: string) =>
    request<AuthResponse>('POST', '/api/collections/_superusers/auth-with-password', { identity, password }),
  refresh: () => request<AuthResponse>('POST', '/api/collections/_superusers/auth-refresh'),
  install: (installToken: string, email: string, password: string, passwordConfirm: string) =>
    request<RecordModel>('POST', '/api/collections/_superusers/records', { email, password, passwordConfirm }, { token: installToken }),

  collections: async (): Promise<Collection[]> =>
    (await request<ListResult<Collection>>('GET', '/api/collections?perPage=1000&sort=name')).items,
  createCollection: (c: Partial<Collection>) => request<Collection>('POST', '/api/collections', c),
  updateCollection: (id: string, c: Partial<Collection>) => request<Collection>('PATCH', `/api/collections/${enc(id)}`, c),
  deleteCollection: (id: string) => request<null>('DELETE', `/api/collections/${enc(id)}`),
  importCollections: (collections: Collection[], deleteMissing: boolean) =>
    request<null>('PUT', '/api/collections/import', { collections, deleteMissing }),

  records: (c: string, params: Record<string, string | number | undefined>, signal?: AbortSignal) =>
    request<ListResult<RecordModel>>('GET', `/api/collections/${enc(c)}/records${query(params)}`, undefined, { signal }),
  createRecord: (c: string, body: Record<string, unknown> | FormData) =>
    request<RecordModel>('POST', `/api/collections/${enc(c)}/records`, body),
  updateRecord: (c: string, id: string, body: Record<string, unknown> | FormData) =>
    request<RecordModel>('PATCH', `/api/collections/${enc(c)}/records/${enc(id)}`, body),
  /** A short-lived token for protected files. */
  fileToken: async () => (await request<{ token: string }>('POST', '/api/files/token')).token,
  /** The URL of a stored file (`thumb` e.g. `100x100`, `token` for protected files). */
  fileUrl: (c: string, id: string, name: string, q: { thumb?: string; token?: string } = {}) => {
    const params = new URLSearchParams(Object.entries(q).filter(([, v]) => v) as [string, string][]);
    return `/api/files/${enc(c)}/${enc(id)}/${enc(name)}${params.size ? `?${params}` : ''}`;
  },
  deleteRecord: (c: string, id: string) => request<null>('DELETE', `/api/collections/${enc(c)}/records/${enc(id)}`),
  impersonate: (c: string, id: string, duration: number) =>
    request<AuthResponse>('POST', `/api/collections/${enc(c)}/impersonate/${enc(id)}`, { duration }),

  roles: async (): Promise<Role[]> => (await request<{ items: Role[] }>('GET', '/api/roles')).items,
  roleLinks: async (filter: { role?: string; subject?: string } = {}): Promise<RoleLink[]> =>
    (await request<{ items: RoleLink[] }>('GET', `/api/roles/links?${new URLSearchParams(filter)}`)).items,
  /** Assigns `role` to an auth record. */
  assignRole: (role: string, collection: string, record: string) =>
    request<RoleLink>('POST', '/api/roles/links', { role, collection, record }),
  /** Makes role `subject` inherit `role`. */
  inheritRole: (subject: string, role: string) => request<RoleLink>('POST', '/api/roles/links', { role, subject }),
  deleteRoleLink: (id: string) => request<null>('DELETE', `/api/roles/links/${enc(id)}`),
  recordRoles: async (c: string, id: string): Promise<string[]> =>
    (await request<{ roles: string[] }>('GET', `/api/roles/records/${enc(c)}/${enc(id)}`)).roles,

  policies: async (filter: { collection?: string; role?: string } = {}): Promise<Policy[]> =>
    (await request<{ items: Policy[] }>('GET', `/api/policies?${new URLSearchParams(filter)}`)).items,
  createPolicy: (p: { role: string; collection: string; action: PolicyAction; condition: string }) =>
    request<Policy>('POST', '/api/policies', p),
  deletePolicy: (id: string) => request<null>('DELETE', `/api/policies/${enc(id)}`),
  explain: (c: string) => request<Explain>('GET', `/api/policies/explain/${enc(c)}`),

  settings: () => request<Settings>('GET', '/api/settings'),
  updateSettings: (patch: Partial<Settings>) => request<Settings>('PATCH', '/api/settings', patch),
  testEmail: (email: string) => request<null>('POST', '/api/settings/test/email', { email }),

  logs: (params: { page: number; perPage: number; sort?: string; filter?: string; skipTotal?: number }, signal?: AbortSignal) =>
    request<ListResult<LogEntry>>('GET', `/api/logs${query(params)}`, undefined, { signal }),
  log: (id: string) => request<LogEntry>('GET', `/api/logs/${enc(id)}`),
  logStats: (filter: string, signal?: AbortSignal) => request<LogStat[]>('GET', `/api/logs/stats${query({ filter })}`, undefined, { signal }),

  backups: () => request<BackupInfo[]>('GET', '/api/backups'),
  /** 204; a 503 means it was saved locally but the S3 copy failed. */
  createBackup: (name?: string) => request<null>('POST', '/api/backups', name ? { name } : {}),
  /** The server takes the archive as the raw body, named by `?name=`. */
  uploadBackup: (file: File) =>
    request<null>('POST', `/api/backups/upload${query({ name: file.name })}`, new Blob([file], { type: 'application/zip' })),
  deleteBackup: (key: string) => request<null>('DELETE', `/api/backups/${enc(key)}`),
  /** Verified first; on 204 the server restarts itself on the restored data. */
  restoreBackup: (key: string) => request<null>('POST', `/api/backups/${enc(key)}/restore`),
  /** A download link: browsers cannot send headers, so it carries a file token. */
  backupUrl: (key: string, token: string) => `/api/backups/${enc(key)}${query({ token })}`,
  health: () => request<{ message: string }>('GET', '/api/health', undefined, { token: '' }),

  /** The generated client of the live schema, as a zip. */
  sdk: (lang: 'typescript' | 'rust') => fetchFile(`/api/sdk/${lang}`, `basalt-sdk-${lang}.zip`),
  exportUser: (c: string, id: string) => fetchFile(`/api/collections/${enc(c)}/records/${enc(id)}/export`, `${c}-${id}.json`),
  /** Deletes the user and what hangs on them; answers the export of what was erased. */
  purgeUser: (c: string, id: string) => request<PersonalExport>('POST', `/api/collections/${enc(c)}/records/${enc(id)}/purge`),
};
