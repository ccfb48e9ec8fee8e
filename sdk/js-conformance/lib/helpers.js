import assert from 'node:assert/strict';
import PocketBase, { ClientResponseError } from 'pocketbase';
import { startServer } from './server.js';

export { PocketBase, ClientResponseError };

/** `YYYY-MM-DD HH:MM:SS.sssZ`, the one datetime format PocketBase emits. */
export const DATETIME_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const ID_RE = /^[a-z0-9]{15}$/;

/**
 * A fresh SDK client (no shared auth store, no auto-cancellation). The HTTP
 * status of the last response is kept in `pb.lastStatus` (the SDK itself
 * hides it on success), so tests can assert e.g. 200 on create, 204 on delete.
 */
export function client(url) {
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  pb.lastStatus = 0;
  pb.afterSend = (response, data) => {
    pb.lastStatus = response.status;
    // Basalt adds a stable machine `code` to its error envelope (see DESIGN.md); the
    // rest of the envelope must match PocketBase's exactly, so compare without it.
    if (response.status >= 400 && data && typeof data.code === 'string') {
      const { code: _code, ...rest } = data;
      return rest;
    }
    return data;
  };
  return pb;
}

/** CRC-32 (IEEE), as PocketBase uses for deterministic collection/field ids. */
export function crc32(str) {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(str, 'utf8')) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) {
      crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
    }
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** PocketBase's default collection id: `pbc_` + crc32(type + name). */
export const collectionId = (type, name) => `pbc_${crc32(type + name)}`;

/** PocketBase's default field id: type + crc32(name). */
export const fieldId = (type, name) => `${type}${crc32(name)}`;

/** Starts the server and returns it with a superuser-authenticated client. */
export async function setup() {
  const server = await startServer();
  const pb = client(server.url);
  await pb.collection('_superusers').authWithPassword(server.email, server.password);
  return { server, pb };
}

/**
 * Awaits a promise that must reject with a ClientResponseError of `status`;
 * returns the error for further assertions.
 */
export async function rejects(promise, status) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a ${status} error, but the call succeeded`);
  assert.ok(err instanceof ClientResponseError, `expected ClientResponseError, got ${err}`);
  assert.equal(err.status, status, `expected status ${status}, got ${err.status}: ${JSON.stringify(err.response)}`);
  return err;
}

/** The `{field: code}` map of a validation error's `data`. */
export function codes(err) {
  const out = {};
  for (const [k, v] of Object.entries(err.response.data ?? {})) {
    out[k] = v?.code;
  }
  return out;
}

/** A client-chosen record id: prefix + n, zero-padded to 15 chars. */
export function rid(prefix, n) {
  const s = String(n);
  return prefix + '0'.repeat(15 - prefix.length - s.length) + s;
}

/** Sorted copy. */
export const sorted = (xs) => [...xs].sort();
