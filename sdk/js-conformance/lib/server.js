// Launches the server under test: Basalt (env BASALT_BIN) or PocketBase
// (env POCKETBASE_BIN). Each call gets a free loopback port, a fresh temp data
// dir and a superuser created through the CLI (`superuser upsert`), and waits
// until GET /api/health answers. `stop()` kills the process and removes the dir.
//
// Both binaries share one CLI shape:
//   BIN superuser upsert EMAIL PASSWORD --dir DIR
//   BIN serve --http 127.0.0.1:PORT --dir DIR

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const SUPERUSER_EMAIL = 'conformance@example.com';
export const SUPERUSER_PASSWORD = 'Conformance-Pass-123';

const STARTUP_TIMEOUT_MS = Number(process.env.SERVER_STARTUP_TIMEOUT_MS || 20000);

/** Which server the suite targets: { kind: 'basalt'|'pocketbase', bin }. */
export function target() {
  if (process.env.BASALT_BIN) {
    return { kind: 'basalt', bin: path.resolve(process.env.BASALT_BIN) };
  }
  if (process.env.POCKETBASE_BIN) {
    return { kind: 'pocketbase', bin: path.resolve(process.env.POCKETBASE_BIN) };
  }
  throw new Error(
    'No server under test: set BASALT_BIN=/path/to/basalt or POCKETBASE_BIN=/path/to/pocketbase',
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Children still alive when the test process exits are killed synchronously.
const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

async function waitHealthy(url, child, logs) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      return false;
    }
    try {
      const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) {
        await res.arrayBuffer();
        return true;
      }
    } catch {
      /* not up yet */
    }
    await sleep(50);
  }
  throw new Error(`server did not become healthy within ${STARTUP_TIMEOUT_MS}ms\n${logs.join('')}`);
}

function killChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      live.delete(child);
      resolve();
      return;
    }
    const hard = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(hard);
      live.delete(child);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts the server under test.
 * @returns {Promise<{url: string, kind: string, email: string, password: string, dir: string, stop: () => Promise<void>}>}
 */
export async function startServer() {
  const { kind, bin } = target();
  if (!fs.existsSync(bin)) {
    throw new Error(`${kind} binary not found: ${bin}`);
  }
  // PocketBase writes pb_migrations/ and pb_hooks/ *next to* --dir (in its
  // parent), so the data dir is nested inside a private temp root.
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `conformance-${kind}-`));
  const dir = path.join(root, 'data');
  fs.mkdirSync(dir);

  const up = spawnSync(bin, ['superuser', 'upsert', SUPERUSER_EMAIL, SUPERUSER_PASSWORD, '--dir', dir], {
    encoding: 'utf8',
    timeout: 30000,
  });
  if (up.status !== 0) {
    fs.rmSync(root, { recursive: true, force: true });
    throw new Error(`superuser upsert failed (status ${up.status}): ${up.stdout}${up.stderr}${up.error ?? ''}`);
  }

  // The port is chosen by binding port 0 and releasing it; on the rare race
  // where someone else grabs it first the server exits and we retry.
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const logs = [];
    const child = spawn(bin, ['serve', '--http', `127.0.0.1:${port}`, '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(child);
    child.stdout.on('data', (d) => logs.push(String(d)));
    child.stderr.on('data', (d) => logs.push(String(d)));
    const spawnError = new Promise((resolve) => child.once('error', resolve));

    const ok = await Promise.race([
      waitHealthy(url, child, logs),
      spawnError.then((e) => {
        throw e;
      }),
    ]);
    if (!ok) {
      live.delete(child);
      if (attempt === 5) {
        fs.rmSync(root, { recursive: true, force: true });
        throw new Error(`server exited during startup:\n${logs.join('')}`);
      }
      continue;
    }
    if (process.env.CONFORMANCE_SERVER_LOGS) {
      child.stdout.pipe(process.stderr);
      child.stderr.pipe(process.stderr);
    }
    return {
      url,
      kind,
      dir,
      email: SUPERUSER_EMAIL,
      password: SUPERUSER_PASSWORD,
      logs,
      async stop() {
        await killChild(child);
        if (!process.env.CONFORMANCE_KEEP_DIR) {
          fs.rmSync(root, { recursive: true, force: true });
        }
      },
    };
  }
  throw new Error('unreachable');
}
