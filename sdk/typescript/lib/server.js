// Starts the Basalt binary under test (env BASALT_BIN) on a free loopback port with a
// fresh temp data dir and a superuser; `stop()` ends the process (by its pid) and keeps
// the dir until `remove()`.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const EMAIL = 'sdk@example.com';
export const PASSWORD = 'Sdk-Pass-123456';

export function basaltBin() {
  const bin = process.env.BASALT_BIN;
  if (!bin) throw new Error('set BASALT_BIN=/path/to/basalt');
  return path.resolve(bin);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs the binary to completion: {status, stdout, stderr}. */
export function runBasalt(args, env = {}) {
  const out = spawnSync(basaltBin(), args, { encoding: 'utf8', timeout: 60000, env: { ...process.env, ...env } });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

export async function startServer() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'basalt-sdk-'));
  const dir = path.join(root, 'data');
  const up = runBasalt(['superuser', 'upsert', EMAIL, PASSWORD, '--dir', dir]);
  if (up.status !== 0) throw new Error(`superuser upsert failed: ${up.stdout}${up.stderr}`);
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const logs = [];
    const child = spawn(basaltBin(), ['serve', '--http', `127.0.0.1:${port}`, '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => logs.push(String(d)));
    child.stderr.on('data', (d) => logs.push(String(d)));
    const deadline = Date.now() + 20000;
    let healthy = false;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const res = await fetch(`${url}/api/health`);
        await res.arrayBuffer();
        if (res.status === 200) {
          healthy = true;
          break;
        }
      } catch {
        /* not up yet */
      }
      await sleep(50);
    }
    if (!healthy) {
      child.kill('SIGKILL');
      if (attempt === 5) throw new Error(`server did not start:\n${logs.join('')}`);
      continue;
    }
    return {
      url,
      dir,
      logs,
      stop: () =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
      remove: () => fs.rmSync(root, { recursive: true, force: true }),
    };
  }
  throw new Error('unreachable');
}

/** A superuser request to the server: the decoded JSON body (throws on >= 400). */
export async function admin(server, method, p, body) {
  if (!server.token) {
    const res = await fetch(`${server.url}/api/collections/_superusers/auth-with-password`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ identity: EMAIL, password: PASSWORD }),
    });
    server.token = (await res.json()).token;
  }
  const res = await fetch(`${server.url}${p}`, {
    method,
    headers: { Authorization: server.token, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
