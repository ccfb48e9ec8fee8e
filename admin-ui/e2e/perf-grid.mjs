// Measures the records grid on a large collection: seeds N records (default 100000)
// through the API, then times the grid's first page and a page change in the
// browser. Not part of CI (seeding takes minutes); run it by hand:
//   node e2e/perf-grid.mjs [N]

import { launch, shot } from './lib/browser.js';
import { startServer } from './lib/server.js';

const N = Number(process.argv[2] ?? 100000);
const CONCURRENCY = 64;
const server = await startServer();
const token = server.installUrl.split('/install/')[1];
const post = (path, body, auth) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
    body: JSON.stringify(body),
  }).then(async (r) => {
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json();
  });

try {
  await post('/api/collections/_superusers/records', { email: 'perf@example.com', password: 'perf-password', passwordConfirm: 'perf-password' }, token);
  const { token: auth } = await post('/api/collections/_superusers/auth-with-password', { identity: 'perf@example.com', password: 'perf-password' });
  await post('/api/collections', {
    name: 'events', type: 'base',
    fields: [
      { name: 'title', type: 'text' }, { name: 'score', type: 'number' }, { name: 'ok', type: 'bool' },
      { name: 'kind', type: 'select', values: ['a', 'b', 'c'], maxSelect: 1 },
      { name: 'created', type: 'autodate', onCreate: true },
    ],
  }, auth);
  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < N) {
      const i = next++;
      await post('/api/collections/events/records', { title: `event number ${i}`, score: i % 1000, ok: i % 2 === 0, kind: 'abc'[i % 3] }, auth);
    }
  }));
  console.log(`seeded ${N} records in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const browser = await launch();
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 800 } })).newPage();
  await page.goto(`${server.url}/_/`);
  await page.evaluate((session) => localStorage.setItem('basalt_admin_auth', JSON.stringify(session)), { token: auth, record: { email: 'perf@example.com' } });
  const t0 = Date.now();
  await page.goto(`${server.url}/_/#/c/events`);
  await page.reload();
  await page.getByRole('cell', { name: 'event number 0', exact: true }).waitFor({ timeout: 60000 });
  const firstPage = Date.now() - t0;
  const t1 = Date.now();
  await page.getByRole('button', { name: /Next/ }).click();
  await page.getByRole('cell', { name: 'event number 50', exact: true }).waitFor({ timeout: 60000 });
  const nextPage = Date.now() - t1;
  const t2 = Date.now();
  const appPageMs = await page.locator('.timing').textContent();
  await page.getByText(new RegExp(`of ${N.toLocaleString('en-US')}`)).waitFor({ timeout: 120000 });
  const count = Date.now() - t2 + nextPage;
  const t3 = Date.now();
  await page.locator('th button', { hasText: 'score' }).click();
  await page.locator('tbody tr').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('.table-wrap.loading'), null, { timeout: 120000 });
  const sorted = Date.now() - t3;
  await shot(page, 'perf-100k');
  console.log(JSON.stringify({ records: N, firstPageMs: firstPage, nextPageMs: nextPage, nextPageRequest: appPageMs, totalCountVisibleAfterMs: count, sortByScoreMs: sorted }));
  await browser.close();
} finally {
  await server.stop();
}
