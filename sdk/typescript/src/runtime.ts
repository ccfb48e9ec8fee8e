// Basalt client runtime: the untyped half of a generated SDK. `basalt sdk generate
// --lang typescript` copies this file next to the generated `client.ts`, which adds
// one typed service per collection. No dependencies: it needs `fetch`, `FormData`,
// `Blob` and, for realtime, an `EventSource` (browsers and node >= 22 have one; on
// older node pass an implementation such as the `eventsource` package's).

/** Any JSON value, as `json` fields hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The error envelope of a failed request: `{status, message, data}` (+ Basalt's `code`). */
export interface ErrorEnvelope {
  status: number;
  message: string;
  data: Record<string, { code: string; message: string } | undefined>;
  code?: string;
}

/** A request that failed: an error response (status >= 400), a network failure (status 0) or an abort. */
export class ClientResponseError extends Error {
  readonly url: string;
  readonly status: number;
  readonly response: ErrorEnvelope;
  readonly isAbort: boolean;
  readonly originalError: unknown;

  constructor(url: string, status: number, response: Partial<ErrorEnvelope> | null, cause?: unknown) {
    const message =
      response?.message ||
      (cause instanceof Error ? cause.message : status ? `request failed with status ${status}` : 'request failed');
    super(message);
    this.name = 'ClientResponseError';
    this.url = url;
    this.status = status;
    this.response = {
      status: response?.status ?? status,
      message,
      data: response?.data ?? {},
      ...(response?.code ? { code: response.code } : {}),
    };
    this.isAbort = cause instanceof Error && cause.name === 'AbortError';
    this.originalError = cause;
  }

  /** Field errors, keyed by field name. */
  get data(): ErrorEnvelope['data'] {
    return this.response.data;
  }
}

/** A page of records. */
export interface ListResult<T> {
  page: number;
  perPage: number;
  totalItems: number;
  totalPages: number;
  items: T[];
}

/** Options every request takes. */
export interface RequestOptions {
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Extra query parameters. */
  query?: Record<string, string | number | boolean | undefined>;
}

/** `expand` and `fields` of the record endpoints. */
export interface ViewOptions<Expand extends string = string> extends RequestOptions {
  /** Relations to expand, comma-separated (`author,tags.owner`). */
  expand?: Expand | (string & {});
  /** The keys to return, comma-separated. */
  fields?: string;
}

/** The list parameters of `GET /api/collections/{c}/records`. */
export interface ListOptions<Sort extends string = string, Expand extends string = string>
  extends ViewOptions<Expand> {
  /** A filter expression, e.g. `published = true && views > 10`. */
  filter?: string;
  /** Sort keys, comma-separated, `-` for descending, or `@random`. */
  sort?: Sort | (string & {});
  /** Full-text search over the collection's searchable fields (Basalt). */
  search?: string;
  /** Adds `@search` (score and highlights) to each item of a search. */
  searchHighlight?: boolean;
  /** Skips counting: totalItems and totalPages are -1. */
  skipTotal?: boolean;
}

/** A page request: ListOptions plus `page` and `perPage`. */
export interface PageOptions<Sort extends string = string, Expand extends string = string>
  extends ListOptions<Sort, Expand> {
  page?: number;
  perPage?: number;
}

/** A realtime event of one record. */
export interface RecordEvent<R> {
  action: 'create' | 'update' | 'delete';
  record: R;
}

/** `{token, record}` of a successful authentication. */
export interface AuthResult<R> {
  token: string;
  record: R;
  meta?: Record<string, unknown>;
}

/** Where the client keeps its auth token; replace it to persist sessions. */
export interface AuthStore {
  readonly token: string;
  readonly record: unknown;
  save(token: string, record: unknown): void;
  clear(): void;
}

/** An auth store in memory (the default). */
export class MemoryAuthStore implements AuthStore {
  token = '';
  record: unknown = null;
  private listeners: Array<(token: string, record: unknown) => void> = [];

  save(token: string, record: unknown): void {
    this.token = token;
    this.record = record;
    for (const l of this.listeners) l(token, record);
  }

  clear(): void {
    this.save('', null);
  }

  /** Whether a token is stored and its `exp` is in the future. */
  get isValid(): boolean {
    const exp = tokenExpiry(this.token);
    return exp !== null && exp * 1000 > Date.now();
  }

  /** Calls `listener` on every change; returns a function that removes it. */
  onChange(listener: (token: string, record: unknown) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
}

/** The `exp` claim (seconds) of a JWT, or null. */
export function tokenExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const exp: unknown = JSON.parse(json).exp;
    return typeof exp === 'number' ? exp : null;
  } catch {
    return null;
  }
}

/** The constructor shape of an EventSource implementation. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  close(): void;
  onerror: ((event: Event) => void) | null;
}
export type EventSourceConstructor = new (url: string) => EventSourceLike;

export interface ClientOptions {
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** An EventSource implementation for realtime (default: the global one). */
  EventSource?: EventSourceConstructor;
  authStore?: AuthStore;
}

/** The transport: base URL, auth store, JSON and multipart requests, realtime. */
export class BaseClient {
  readonly baseUrl: string;
  readonly authStore: AuthStore;
  readonly realtime: Realtime;
  private readonly fetchImpl: typeof fetch;

  constructor(baseUrl: string, options: ClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.authStore = options.authStore ?? new MemoryAuthStore();
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.realtime = new Realtime(this, options.EventSource);
  }

  /** The absolute URL of `path` with `query` (undefined values are left out). */
  buildUrl(path: string, query: RequestOptions['query'] = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') params.append(key, String(value));
    }
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Sends a request with the stored token; resolves to the decoded JSON (null for 204). */
  async send<T>(
    path: string,
    init: { method?: string; body?: unknown } & RequestOptions = {},
  ): Promise<T> {
    const url = this.buildUrl(path, init.query);
    const headers: Record<string, string> = { ...init.headers };
    if (this.authStore.token && !('Authorization' in headers)) {
      headers['Authorization'] = this.authStore.token;
    }
    let body: BodyInit | undefined;
    if (init.body instanceof FormData) {
      body = init.body;
    } else if (init.body !== undefined) {
      body = toBody(init.body, headers);
    }
    let response: Response;
    try {
      response = await this.fetchImpl(url, { method: init.method ?? 'GET', headers, body, signal: init.signal });
    } catch (e) {
      throw new ClientResponseError(url, 0, null, e);
    }
    const text = await response.text();
    let data: unknown = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { message: text };
      }
    }
    if (response.status >= 400) {
      throw new ClientResponseError(url, response.status, (data ?? null) as Partial<ErrorEnvelope> | null);
    }
    return data as T;
  }

  /** The URL of a stored file of `record`. */
  fileUrl(
    record: { id: string; collectionName?: string; collectionId?: string },
    filename: string,
    options: { thumb?: string; token?: string; download?: boolean } = {},
  ): string {
    if (!filename || !record.id) return '';
    const collection = record.collectionName || record.collectionId || '';
    const path = `/api/files/${encodeURIComponent(collection)}/${encodeURIComponent(record.id)}/${encodeURIComponent(filename)}`;
    return this.buildUrl(path, {
      thumb: options.thumb,
      token: options.token,
      download: options.download ? 1 : undefined,
    });
  }

  /** A short-lived token for protected files. */
  async fileToken(options: RequestOptions = {}): Promise<string> {
    const out = await this.send<{ token: string }>('/api/files/token', { ...options, method: 'POST' });
    return out.token;
  }

  /** `GET /api/health`. */
  health(options: RequestOptions = {}): Promise<{ code: number; message: string; data: Record<string, unknown> }> {
    return this.send('/api/health', options);
  }
}

/** Whether `v` is a file to upload. */
function isFile(v: unknown): v is Blob {
  return typeof Blob !== 'undefined' && v instanceof Blob;
}

function hasFiles(body: unknown): boolean {
  if (body === null || typeof body !== 'object') return false;
  return Object.values(body).some((v) => isFile(v) || (Array.isArray(v) && v.some(isFile)));
}

/**
 * JSON for plain bodies; multipart when a value is a File/Blob: file parts under
 * their key, everything else in one `@jsonPayload` part.
 */
function toBody(body: unknown, headers: Record<string, string>): BodyInit {
  if (!hasFiles(body)) {
    headers['Content-Type'] = 'application/json';
    return JSON.stringify(body);
  }
  const form = new FormData();
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    appendValue(form, rest, key, key, value);
  }
  form.append('@jsonPayload', JSON.stringify(rest));
  return form;
}

function appendValue(form: FormData, rest: Record<string, unknown>, key: string, part: string, value: unknown): void {
  if (isFile(value)) {
    form.append(part, value, fileName(value));
  } else if (Array.isArray(value) && value.some(isFile)) {
    for (const v of value) {
      if (isFile(v)) form.append(part, v, fileName(v));
      else form.append(part, String(v));
    }
  } else if (value !== undefined) {
    rest[key] = value;
  }
}

function fileName(b: Blob): string {
  return typeof File !== 'undefined' && b instanceof File && b.name ? b.name : 'blob';
}

function listQuery(options: PageOptions): RequestOptions['query'] {
  return {
    ...options.query,
    page: options.page,
    perPage: options.perPage,
    sort: options.sort,
    filter: options.filter,
    expand: options.expand,
    fields: options.fields,
    search: options.search,
    searchHighlight: options.searchHighlight ? 1 : undefined,
    skipTotal: options.skipTotal ? 1 : undefined,
  };
}

function viewQuery(options: ViewOptions): RequestOptions['query'] {
  return { ...options.query, expand: options.expand, fields: options.fields };
}

/** The record API of one collection: R read shape, C create shape, U update shape. */
export class RecordService<R, C, U, Sort extends string = string, Expand extends string = string> {
  constructor(
    readonly client: BaseClient,
    readonly collectionName: string,
  ) {}

  protected path(id?: string): string {
    const base = `/api/collections/${encodeURIComponent(this.collectionName)}/records`;
    return id === undefined ? base : `${base}/${encodeURIComponent(id)}`;
  }

  /** One page; `page` and `perPage` (default 1 and 30) in the options. */
  list(options: PageOptions<Sort, Expand> = {}): Promise<ListResult<R>> {
    return this.client.send(this.path(), { ...options, query: listQuery(options) });
  }

  /** One page, PocketBase style. */
  getList(page = 1, perPage = 30, options: ListOptions<Sort, Expand> = {}): Promise<ListResult<R>> {
    return this.list({ ...options, page, perPage });
  }

  /** Every matching record, fetched `batch` (default 500) at a time. */
  async getFullList(options: ListOptions<Sort, Expand> & { batch?: number } = {}): Promise<R[]> {
    const perPage = options.batch ?? 500;
    const out: R[] = [];
    for (let page = 1; ; page++) {
      const res = await this.list({ ...options, page, perPage, skipTotal: true });
      out.push(...res.items);
      if (res.items.length < perPage) return out;
    }
  }

  /** The first record matching `filter`; a 404 ClientResponseError when there is none. */
  async getFirst(filter: string, options: ListOptions<Sort, Expand> = {}): Promise<R> {
    const res = await this.list({ ...options, filter, page: 1, perPage: 1, skipTotal: true });
    const first = res.items[0];
    if (first === undefined) {
      throw new ClientResponseError(this.client.buildUrl(this.path()), 404, {
        status: 404,
        message: "The requested resource wasn't found.",
        data: {},
      });
    }
    return first;
  }

  getOne(id: string, options: ViewOptions<Expand> = {}): Promise<R> {
    return this.client.send(this.path(id), { ...options, query: viewQuery(options) });
  }

  /** Creates a record; File/Blob values are uploaded as multipart. */
  create(body: C, options: ViewOptions<Expand> = {}): Promise<R> {
    return this.client.send(this.path(), { ...options, method: 'POST', body, query: viewQuery(options) });
  }

  update(id: string, body: U, options: ViewOptions<Expand> = {}): Promise<R> {
    return this.client.send(this.path(id), { ...options, method: 'PATCH', body, query: viewQuery(options) });
  }

  async delete(id: string, options: RequestOptions = {}): Promise<void> {
    await this.client.send<null>(this.path(id), { ...options, method: 'DELETE' });
  }

  /**
   * Subscribes to `'*'` (every record) or one record id; resolves once the server
   * accepted the subscription, to a function that ends it.
   */
  subscribe(
    topic: '*' | (string & {}),
    callback: (event: RecordEvent<R>) => void,
    options: { filter?: string; expand?: Expand | (string & {}); fields?: string; headers?: Record<string, string> } = {},
  ): Promise<() => Promise<void>> {
    const query: Record<string, string> = {};
    if (options.filter) query.filter = options.filter;
    if (options.expand) query.expand = options.expand;
    if (options.fields) query.fields = options.fields;
    let name = `${this.collectionName}/${topic}`;
    if (Object.keys(query).length || options.headers) {
      name += `?options=${encodeURIComponent(JSON.stringify({ query, headers: options.headers ?? {} }))}`;
    }
    return this.client.realtime.subscribe(name, (data) => callback(data as RecordEvent<R>));
  }
}

/** The record API of an auth collection, plus its auth endpoints. */
export class AuthRecordService<R, C, U, Sort extends string = string, Expand extends string = string> extends RecordService<
  R,
  C,
  U,
  Sort,
  Expand
> {
  protected authPath(action: string): string {
    return `/api/collections/${encodeURIComponent(this.collectionName)}/${action}`;
  }

  private async authenticate(action: string, body: unknown, options: ViewOptions<Expand>): Promise<AuthResult<R>> {
    const out = await this.client.send<AuthResult<R>>(this.authPath(action), {
      ...options,
      method: 'POST',
      body,
      query: viewQuery(options),
    });
    this.client.authStore.save(out.token, out.record);
    return out;
  }

  /** Signs in with an identity (e.g. the email) and a password; stores the token. */
  authWithPassword(identity: string, password: string, options: ViewOptions<Expand> = {}): Promise<AuthResult<R>> {
    return this.authenticate('auth-with-password', { identity, password }, options);
  }

  /** Exchanges the stored token for a fresh one. */
  authRefresh(options: ViewOptions<Expand> = {}): Promise<AuthResult<R>> {
    return this.authenticate('auth-refresh', undefined, options);
  }

  /** Signs in with a one-time password sent by `requestOtp`. */
  authWithOtp(otpId: string, password: string, options: ViewOptions<Expand> = {}): Promise<AuthResult<R>> {
    return this.authenticate('auth-with-otp', { otpId, password }, options);
  }

  /** The auth methods the collection offers. */
  authMethods(options: RequestOptions = {}): Promise<Record<string, unknown>> {
    return this.client.send(this.authPath('auth-methods'), options);
  }

  private async post(action: string, body: unknown, options: RequestOptions): Promise<void> {
    await this.client.send<null>(this.authPath(action), { ...options, method: 'POST', body });
  }

  requestVerification(email: string, options: RequestOptions = {}): Promise<void> {
    return this.post('request-verification', { email }, options);
  }

  confirmVerification(token: string, options: RequestOptions = {}): Promise<void> {
    return this.post('confirm-verification', { token }, options);
  }

  requestPasswordReset(email: string, options: RequestOptions = {}): Promise<void> {
    return this.post('request-password-reset', { email }, options);
  }

  confirmPasswordReset(token: string, password: string, passwordConfirm: string, options: RequestOptions = {}): Promise<void> {
    return this.post('confirm-password-reset', { token, password, passwordConfirm }, options);
  }

  requestEmailChange(newEmail: string, options: RequestOptions = {}): Promise<void> {
    return this.post('request-email-change', { newEmail }, options);
  }

  confirmEmailChange(token: string, password: string, options: RequestOptions = {}): Promise<void> {
    return this.post('confirm-email-change', { token, password }, options);
  }

  async requestOtp(email: string, options: RequestOptions = {}): Promise<{ otpId: string }> {
    return this.client.send(this.authPath('request-otp'), { ...options, method: 'POST', body: { email } });
  }
}

/** One request of a batch. */
interface BatchRequest {
  method: 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  url: string;
  body?: unknown;
}

/** The writes one batch may make to one collection. */
export class BatchCollection<C, U> {
  constructor(
    private readonly requests: BatchRequest[],
    private readonly collectionName: string,
  ) {}

  private url(id?: string, options: ViewOptions = {}): string {
    const base = `/api/collections/${encodeURIComponent(this.collectionName)}/records`;
    const params = new URLSearchParams();
    if (options.expand) params.set('expand', options.expand);
    if (options.fields) params.set('fields', options.fields);
    const qs = params.toString();
    return `${id === undefined ? base : `${base}/${encodeURIComponent(id)}`}${qs ? `?${qs}` : ''}`;
  }

  create(body: C, options: ViewOptions = {}): void {
    this.requests.push({ method: 'POST', url: this.url(undefined, options), body });
  }

  update(id: string, body: U, options: ViewOptions = {}): void {
    this.requests.push({ method: 'PATCH', url: this.url(id, options), body });
  }

  /** Updates the record named by `body.id` when it exists, creates it otherwise. */
  upsert(body: C & { id: string }, options: ViewOptions = {}): void {
    this.requests.push({ method: 'PUT', url: this.url(undefined, options), body });
  }

  delete(id: string): void {
    this.requests.push({ method: 'DELETE', url: this.url(id) });
  }
}

/** A transactional batch (`POST /api/batch`): all of its writes commit, or none. */
export class Batch {
  protected readonly requests: BatchRequest[] = [];

  constructor(protected readonly client: BaseClient) {}

  collection<C, U>(name: string): BatchCollection<C, U> {
    return new BatchCollection<C, U>(this.requests, name);
  }

  /** Sends the batch; one `{status, body}` per request, in order. */
  send(options: RequestOptions = {}): Promise<Array<{ status: number; body: unknown }>> {
    const files: Array<[string, Blob]> = [];
    const requests = this.requests.map((r, i) => {
      if (r.body === null || typeof r.body !== 'object') return r;
      const body: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(r.body)) {
        const list: unknown[] = Array.isArray(value) ? value : [value];
        if (list.length > 0 && list.every(isFile)) {
          for (const f of list as Blob[]) files.push([`requests.${i}.${key}`, f]);
        } else {
          body[key] = value;
        }
      }
      return { ...r, body };
    });
    if (files.length === 0) {
      return this.client.send('/api/batch', { ...options, method: 'POST', body: { requests } });
    }
    const form = new FormData();
    form.append('@jsonPayload', JSON.stringify({ requests }));
    for (const [name, file] of files) form.append(name, file, fileName(file));
    return this.client.send('/api/batch', { ...options, method: 'POST', body: form });
  }
}

/**
 * Realtime over SSE (`/api/realtime`): one EventSource per client, opened on the first
 * subscription; after each `PB_CONNECT` (also on reconnects) the subscription set is
 * posted again.
 */
export class Realtime {
  private source: EventSourceLike | null = null;
  private clientId = '';
  private connected: Promise<void> | null = null;
  private readonly listeners = new Map<string, Set<(data: unknown) => void>>();
  private readonly attached = new Set<string>();

  constructor(
    private readonly client: BaseClient,
    private readonly EventSourceImpl?: EventSourceConstructor,
  ) {}

  /** Whether a stream is open. */
  get isConnected(): boolean {
    return this.source !== null && this.clientId !== '';
  }

  /** Subscribes `listener` to the raw subscription string `name`. */
  async subscribe(name: string, listener: (data: unknown) => void): Promise<() => Promise<void>> {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener);
    try {
      await this.connect();
      this.attach(name);
      await this.submit();
    } catch (e) {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(name);
      throw e;
    }
    return async () => {
      const current = this.listeners.get(name);
      current?.delete(listener);
      if (current && current.size === 0) this.listeners.delete(name);
      if (this.listeners.size === 0) {
        this.disconnect();
      } else {
        await this.submit();
      }
    };
  }

  /** Closes the stream and forgets every subscription. */
  disconnect(): void {
    this.source?.close();
    this.source = null;
    this.clientId = '';
    this.connected = null;
    this.listeners.clear();
    this.attached.clear();
  }

  private connect(): Promise<void> {
    if (this.connected) return this.connected;
    const Impl = this.EventSourceImpl ?? (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
    if (!Impl) {
      return Promise.reject(
        new Error('realtime needs an EventSource: pass one as the EventSource client option (e.g. from the eventsource package)'),
      );
    }
    const source = new Impl(this.client.buildUrl('/api/realtime'));
    this.source = source;
    this.connected = new Promise<void>((resolve, reject) => {
      let first = true;
      source.addEventListener('PB_CONNECT', (e) => {
        this.clientId = e.lastEventId || (JSON.parse(String(e.data)) as { clientId: string }).clientId;
        if (first) {
          first = false;
          resolve();
        } else {
          // A reconnect: the server forgot our subscriptions.
          this.submit().catch(() => undefined);
        }
      });
      source.onerror = () => {
        if (first) {
          first = false;
          this.disconnect();
          reject(new ClientResponseError(this.client.buildUrl('/api/realtime'), 0, { message: 'realtime connection failed' }));
        }
      };
    });
    return this.connected;
  }

  private attach(name: string): void {
    if (!this.source || this.attached.has(name)) return;
    this.attached.add(name);
    this.source.addEventListener(name, (e) => {
      let data: unknown;
      try {
        data = JSON.parse(String(e.data));
      } catch {
        return;
      }
      for (const l of this.listeners.get(name) ?? []) l(data);
    });
  }

  private async submit(): Promise<void> {
    if (!this.clientId) return;
    await this.client.send<null>('/api/realtime', {
      method: 'POST',
      body: { clientId: this.clientId, subscriptions: [...this.listeners.keys()] },
    });
  }
}
