// Starts the real basalt binary (BASALT_BIN, default target/debug/basalt) on an
// ephemeral port with a fresh temp data dir, and reads the one-time install URL it
// prints on first run.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { distProxy } from './dist-proxy.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BIN = path.resolve(process.env.BASALT_BIN ?? path.join(here, '../../../target/debug/basalt'));

/** @returns {Promise<{url: string, installUrl: string, logs: string[], stop: () => Promise<void>}>} */
export async function startServer() {
  if (!fs.existsSync(BIN)) throw new Error(`basalt binary not found: ${BIN} (cargo build -p basalt)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'basalt-admin-e2e-'));
  const child = spawn(BIN, ['serve', '--http', '127.0.0.1:0', '--dir', path.join(dir, 'data')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BASALT_LOG: 'warn' },
  });
  const logs = [];
  child.stdout.on('data', (d) => logs.push(String(d)));
  let installUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no install URL within 20 s:\n${logs.join('')}`)), 20000);
    let buf = '';
    child.stderr.on('data', (d) => {
      logs.push(String(d));
      buf += String(d);
      const m = /(http:\/\/\S+\/_\/#\/install\/\S+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`basalt exited (${code}):\n${logs.join('')}`));
    });
  });
  let url = new URL(installUrl).origin;
  const proxy = process.env.BASALT_UI_DIST ? await distProxy(path.resolve(process.env.BASALT_UI_DIST), url) : null;
  if (proxy) {
    installUrl = installUrl.replace(url, proxy.url);
    url = proxy.url;
  }
  process.on('exit', () => child.kill('SIGKILL'));
  return {
    url,
    installUrl,
    logs,
    async stop() {
      await proxy?.close();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One JSON request to the API: `{status, body}` (`body` parsed, `null` when empty). */
export async function apiCall(url, method, path, body, token) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...(token ? { Authorization: token } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
