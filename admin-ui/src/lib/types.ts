// The JSON shapes the API returns, mirrored from the server's schema model
// (basalt-core `schema::Collection`, `schema::field::FieldKind` and its options).
// One place to update until the runtime OpenAPI document can generate them.

export type FieldType =
  | 'text' | 'number' | 'bool' | 'email' | 'url' | 'editor' | 'date'
  | 'autodate' | 'select' | 'json' | 'relation' | 'file' | 'password';

interface FieldBase {
  id?: string;
  name: string;
  system?: boolean;
  hidden?: boolean;
  presentable?: boolean;
  help?: string;
}

export interface TextField extends FieldBase {
  type: 'text'; required?: boolean; primaryKey?: boolean; min?: number; max?: number;
  pattern?: string; autogeneratePattern?: string; searchable?: boolean;
}
export interface NumberField extends FieldBase {
  type: 'number'; required?: boolean; min?: number | null; max?: number | null; onlyInt?: boolean;
}
export interface BoolField extends FieldBase { type: 'bool'; required?: boolean }
export interface DomainField extends FieldBase {
  type: 'email' | 'url'; required?: boolean; onlyDomains?: string[] | null;
  exceptDomains?: string[] | null; searchable?: boolean;
}
export interface EditorField extends FieldBase {
  type: 'editor'; required?: boolean; maxSize?: number; convertURLs?: boolean; searchable?: boolean;
}
export interface DateField extends FieldBase { type: 'date'; required?: boolean; min?: string; max?: string }
export interface AutodateField extends FieldBase { type: 'autodate'; onCreate?: boolean; onUpdate?: boolean }
export interface SelectField extends FieldBase {
  type: 'select'; required?: boolean; maxSelect?: number; values?: string[]; searchable?: boolean;
}
export interface JsonField extends FieldBase { type: 'json'; required?: boolean; maxSize?: number; searchable?: boolean }
export interface RelationField extends FieldBase {
  type: 'relation'; required?: boolean; collectionId?: string; cascadeDelete?: boolean;
  minSelect?: number; maxSelect?: number;
}
export interface FileField extends FieldBase {
  type: 'file'; required?: boolean; maxSelect?: number; maxSize?: number; mimeTypes?: string[];
  thumbs?: string[]; protected?: boolean;
}
export interface PasswordField extends FieldBase {
  type: 'password'; required?: boolean; min?: number; max?: number; pattern?: string; cost?: number;
}

export type Field =
  | TextField | NumberField | BoolField | DomainField | EditorField | DateField | AutodateField
  | SelectField | JsonField | RelationField | FileField | PasswordField;

export type RuleName =
  | 'listRule' | 'viewRule' | 'createRule' | 'updateRule' | 'deleteRule' | 'authRule' | 'manageRule';

export interface Collection {
  id?: string;
  name: string;
  type: 'base' | 'auth' | 'view';
  system?: boolean;
  fields: Field[];
  indexes: string[];
  listRule: string | null;
  viewRule: string | null;
  createRule: string | null;
  updateRule: string | null;
  deleteRule: string | null;
  authRule?: string | null;
  manageRule?: string | null;
  created?: string;
  updated?: string;
  // Auth options (passwordAuth, authToken, …) pass through untouched.
  [option: string]: unknown;
}

export interface RecordModel {
  id: string;
  collectionId: string;
  collectionName: string;
  [field: string]: unknown;
}

export interface ListResult<T> {
  page: number;
  perPage: number;
  totalItems: number;
  totalPages: number;
  items: T[];
}

/** A per-field error: `{code, message}`, nested like the request body. */
export interface FieldError { code: string; message: string }
export type ErrorData = { [key: string]: FieldError | ErrorData };

/** The error envelope. */
export interface ErrorBody {
  status: number;
  message: string;
  data: ErrorData;
  code?: string;
}

export interface AuthResponse { token: string; record: RecordModel }

// Roles and policies (`/api/roles`, `/api/policies`, superusers only).

export type PolicyAction = 'list' | 'view' | 'create' | 'update' | 'delete';
export const POLICY_ACTIONS: PolicyAction[] = ['list', 'view', 'create', 'update', 'delete'];

export interface Role { name: string; builtin: boolean; parents: string[]; members: number; policies: number }

/** An assignment (`subject` = `collectionId/recordId`) or inheritance (`subject` inherits `role`). */
export interface RoleLink {
  id: string; subject: string; role: string;
  collectionId?: string; collectionName?: string | null; record?: string; parent?: string;
}

export interface Policy {
  id: string; role: string; collection: string; collectionName: string | null;
  action: PolicyAction; condition: string;
}

export interface Grant { role: string; source: 'rule' | 'policy'; id?: string; condition: string }
export interface Explain { collection: string; collectionName: string; actions: Record<PolicyAction, Grant[]> }

// App settings (`/api/settings`); secrets come back as "" and "" keeps them.

export interface RateLimitRule { label: string; audience: '' | '@guest' | '@auth'; duration: number; maxRequests: number }

export interface Settings {
  meta: { appName: string; appURL: string; senderName: string; senderAddress: string; hideControls: boolean };
  smtp: {
    enabled: boolean; host: string; port: number; username: string; password: string;
    authMethod: string; tls: boolean; localName: string;
  };
  batch: { enabled: boolean; maxRequests: number; timeout: number; maxBodySize: number };
  rateLimits: { enabled: boolean; rules: RateLimitRule[] };
  /** PocketBase names it `useLeftmostIP`; this server currently sends `useLeftmostIp`. */
  trustedProxy: { headers: string[]; useLeftmostIP?: boolean; useLeftmostIp?: boolean };
  logs: LogsSettings;
  /** File storage: uploads go to this bucket when enabled, else to `<dir>/storage`. */
  s3: S3Config;
  backups: { cron: string; cronMaxKeep: number; s3: S3Config };
  [section: string]: unknown;
}

/** `minLevel`: 0 info, 4 warn, 8 error; `maxDays` 0 turns request logging off. */
export interface LogsSettings { maxDays: number; minLevel: number; logIP: boolean; logAuthId: boolean }

/** An S3-compatible bucket; `secret` is write-only (sent back as "", and "" keeps it). */
export interface S3Config {
  enabled: boolean; bucket: string; region: string; endpoint: string;
  accessKey: string; secret: string; forcePathStyle: boolean;
}

// Request logs (`/api/logs`, superusers).

export interface LogData {
  type?: string; method: string; url: string; status: number; execTime: number; auth: string;
  authId?: string; userIP?: string; remoteIP?: string; userAgent?: string; referer?: string;
  [key: string]: unknown;
}
export interface LogEntry { id: string; created: string; updated?: string; level: number; message: string; data: LogData }
/** One hour of `/api/logs/stats`: `date` is the start of the hour. */
export interface LogStat { total: number; date: string }

// Backups (`/api/backups`, superusers).

export interface BackupInfo { key: string; size: number; modified: string }

// Personal data (`…/records/{id}/export` and `…/purge`).

export interface PersonalExport {
  exported: string;
  collection: { id: string; name: string };
  record: RecordModel;
  /** By collection name; each record marked with what a purge does to it. */
  related: Record<string, (RecordModel & { '@purge'?: 'delete' | 'unlink' | string })[]>;
  files: unknown[];
}
