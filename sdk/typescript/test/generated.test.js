// The generated TypeScript client against a live server: generate it for the fixture
// schema (sdk/fixture/collections.json), type-check it with `tsc --strict`, compile and
// run the example app (sdk/typescript/example/app.ts) on it, then remove a field the
// app uses, regenerate, and prove that the app no longer compiles.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EMAIL, PASSWORD, admin, runBasalt, startServer } from '../lib/server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.resolve(here, '..');
const repo = path.resolve(pkg, '../..');
const fixtureDir = path.join(repo, 'sdk/fixture');
const tscBin = path.join(pkg, 'node_modules/typescript/bin/tsc');
const TSC = ['--strict', '--target', 'es2022', '--module', 'nodenext', '--skipLibCheck', '--pretty', 'false'];
// The app runs on node: it sees node's types too (the client alone is checked without them).
const APP = ['--types', 'node'];

function tsc(args) {
  const out = spawnSync(process.execPath, [tscBin, ...TSC, ...args], { cwd: pkg, encoding: 'utf8', timeout: 120000 });
  return { status: out.status, output: `${out.stdout}${out.stderr}` };
}

function generate(server, out, extra = []) {
  return runBasalt(['sdk', 'generate', '--lang', 'typescript', '--out', out, '--url', server.url, ...extra], {
    BASALT_SUPERUSER_EMAIL: EMAIL,
    BASALT_SUPERUSER_PASSWORD: PASSWORD,
  });
}

const read = (dir) => Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));

describe('generated TypeScript SDK', () => {
  let server;
  let work;
  let gen;

  before(async () => {
    fs.mkdirSync(path.join(pkg, '.work'), { recursive: true });
    work = fs.mkdtempSync(path.join(pkg, '.work', 'run-'));
    gen = path.join(work, 'gen');
    fs.writeFileSync(path.join(work, 'package.json'), '{"type": "module"}\n');
    fs.copyFileSync(path.join(pkg, 'example/app.ts'), path.join(work, 'app.ts'));
    server = await startServer();
    for (const def of JSON.parse(fs.readFileSync(path.join(fixtureDir, 'collections.json'), 'utf8'))) {
      await admin(server, 'POST', '/api/collections', def);
    }
    await admin(server, 'PATCH', '/api/settings', { batch: { enabled: true, maxRequests: 50, timeout: 3 } });
  });

  after(async () => {
    await server?.stop();
    server?.remove();
    if (work && !process.env.SDK_TEST_KEEP) fs.rmSync(work, { recursive: true, force: true });
  });

  it('generates from a running server, identical to the committed fixture output', () => {
    const out = generate(server, gen);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /Generated a TypeScript client for 4 collections/);
    assert.deepEqual(read(gen), read(path.join(fixtureDir, 'generated/typescript')));
    // Regenerating an unchanged schema gives byte-identical files.
    const again = path.join(work, 'again');
    assert.equal(generate(server, again).status, 0);
    assert.deepEqual(read(again), read(gen));
  });

  it('type-checks in strict mode with zero errors', () => {
    const out = tsc(['--noEmit', path.join(gen, 'client.ts'), path.join(gen, 'runtime.ts')]);
    assert.equal(out.output, '');
    assert.equal(out.status, 0);
  });

  it('runs the example app: sign-up, sign-in, CRUD, filter, expand, search, realtime, files, batch', () => {
    const compiled = tsc([...APP, '--outDir', path.join(work, 'out'), path.join(work, 'app.ts')]);
    assert.equal(compiled.output, '');
    assert.equal(compiled.status, 0);
    const run = spawnSync(process.execPath, [path.join(work, 'out/app.js')], {
      encoding: 'utf8',
      timeout: 60000,
      env: { ...process.env, BASALT_URL: server.url },
    });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    const report = JSON.parse(run.stdout.trim());
    assert.equal(report.wrongPasswordStatus, 400);
    assert.equal(report.realtimeAction, 'create');
    assert.equal(report.batch, 2);
    assert.equal(report.deleted, true);
    assert.ok(report.searchHits >= 1);
    assert.match(report.cover, /\.txt$/);
  });

  it('explains bad input: unknown language, wrong or missing credentials, unreachable server, locked or missing data dir', () => {
    const lang = runBasalt(['sdk', 'generate', '--lang', 'cobol', '--out', gen, '--dir', server.dir]);
    assert.notEqual(lang.status, 0);
    assert.match(lang.stderr, /unknown language "cobol"/);
    const creds = generate(server, gen, ['--password', 'not-the-password']);
    assert.notEqual(creds.status, 0);
    assert.match(creds.stderr, /superuser sign-in at .* failed \(400/);
    const down = runBasalt(['sdk', 'generate', '--lang', 'typescript', '--out', gen, '--url', 'http://127.0.0.1:9', '--email', EMAIL, '--password', PASSWORD]);
    assert.notEqual(down.status, 0);
    assert.match(down.stderr, /cannot reach the server at http:\/\/127\.0\.0\.1:9/);
    const locked = runBasalt(['sdk', 'generate', '--lang', 'typescript', '--out', gen, '--dir', server.dir]);
    assert.notEqual(locked.status, 0);
    assert.match(locked.stderr, /in use by a running server: read the schema from it with --url/);
    const missing = runBasalt(['sdk', 'generate', '--lang', 'rust', '--out', gen, '--dir', path.join(work, 'no-such-dir')]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /no Basalt data directory at .*no-such-dir/);
    assert.equal(fs.existsSync(path.join(work, 'no-such-dir')), false);
    const anonymous = runBasalt(['sdk', 'generate', '--lang', 'rust', '--out', gen, '--url', server.url], {
      BASALT_SUPERUSER_EMAIL: '',
      BASALT_SUPERUSER_PASSWORD: '',
    });
    assert.notEqual(anonymous.status, 0);
    assert.match(anonymous.stderr, /--url needs superuser credentials/);
    for (const r of [lang, creds, down, locked, missing, anonymous]) assert.doesNotMatch(r.stderr, /panicked/);
  });

  it('a removed field breaks the compile of the app that uses it', async () => {
    const posts = await admin(server, 'GET', '/api/collections/posts');
    const fields = posts.fields.filter((f) => f.name !== 'views');
    await admin(server, 'PATCH', '/api/collections/posts', { fields });
    const out = generate(server, gen);
    assert.equal(out.status, 0, out.stderr);
    assert.doesNotMatch(fs.readFileSync(path.join(gen, 'client.ts'), 'utf8'), /\bviews\b/);
    // The client alone still type-checks …
    assert.equal(tsc(['--noEmit', path.join(gen, 'client.ts')]).status, 0);
    // … but the app, which reads and writes `views`, does not.
    const broken = tsc([...APP, '--noEmit', path.join(work, 'app.ts')]);
    assert.notEqual(broken.status, 0);
    const errors = broken.output.split('\n').filter((l) => l.includes('error TS'));
    assert.ok(errors.length > 0, broken.output);
    for (const line of errors) {
      assert.match(line, /app\.ts\(\d+,\d+\): error TS(2339|2353): .*'views'/, line);
    }
  });

  it('generates the same files from the stopped data directory as from the server', async () => {
    await server.stop();
    const fromDir = path.join(work, 'from-dir');
    const out = runBasalt(['sdk', 'generate', '--lang', 'typescript', '--out', fromDir, '--dir', server.dir]);
    assert.equal(out.status, 0, out.stderr);
    assert.deepEqual(read(fromDir), read(gen));
  });
});
