// The dashboard end to end in a real browser against the real binary: first-run
// install, sign in, schema editing, records, filter, search, rules.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, shot } from './lib/browser.js';
import { startServer } from './lib/server.js';

const EMAIL = 'admin@example.com';
const PASSWORD = 'e2e-admin-password';

let server;
let browser;
let page;
const consoleErrors = [];

before(async () => {
  server = await startServer();
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1366, height: 800 }, colorScheme: 'light' });
  page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Adds a field of `type` named `name` in the open collection editor; returns its card. */
async function addField(type, name) {
  await page.locator('#add-field').selectOption(type);
  const input = page.locator('input[placeholder="field name"]:focus');
  await input.waitFor();
  const id = await input.getAttribute('id');
  await input.fill(name);
  return page.locator('.fe', { has: page.locator(`#${id}`) });
}

async function anonymousList(collection) {
  const res = await fetch(`${server.url}/api/collections/${collection}/records?perPage=100`);
  return { status: res.status, body: await res.json() };
}

test('serves the dashboard with the right caching', async () => {
  const index = await fetch(`${server.url}/_/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  const asset = /\/_\/(assets\/[^"]+\.js)/.exec(html)?.[1];
  assert.ok(asset, html);
  const js = await fetch(`${server.url}/_/${asset}`);
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.match(js.headers.get('content-type'), /javascript/);
  const redirect = await fetch(`${server.url}/_`, { redirect: 'manual' });
  assert.equal(redirect.headers.get('location'), '/_/');
  const fallback = await fetch(`${server.url}/_/some/client/route`);
  assert.equal(fallback.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal((await fetch(`${server.url}/_/assets/missing-123.js`)).status, 404);
});

test('first run: the printed install URL creates the superuser', async () => {
  await page.goto(server.installUrl);
  await page.getByRole('heading', { name: 'Create the first superuser' }).waitFor();
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Confirm password').fill('mismatch-password');
  await page.getByRole('button', { name: /Create superuser/ }).click();
  await page.locator('.error-text').first().waitFor();
  await shot(page, '01-install-error');
  await page.getByLabel('Confirm password').fill(PASSWORD);
  await page.getByRole('button', { name: /Create superuser/ }).click();
  await page.getByRole('heading', { name: 'Welcome to Basalt' }).waitFor();
  await shot(page, '02-welcome');
  // The link works once.
  const again = await fetch(`${server.url}/api/collections/_superusers/records`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: server.installUrl.split('/install/')[1] },
    body: JSON.stringify({ email: 'x@example.com', password: PASSWORD, passwordConfirm: PASSWORD }),
  });
  assert.equal(again.status, 403);
});

test('sign out and sign in', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  await shot(page, '03-login-error');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Welcome to Basalt' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Welcome to Basalt' }).waitFor();
});

// Opens the new-collection form and waits for it: the schema page being left has a
// name field too, and filling that one loses the name.
async function openNewCollection() {
  await page.getByRole('link', { name: '+ New collection' }).click();
  await page.getByRole('navigation', { name: 'Breadcrumb' }).getByText('New collection').waitFor();
}

test('create collections with several field types', async () => {
  await openNewCollection();
  await page.locator('#collection-name').fill('authors');
  const name = await addField('text', 'name');
  await name.getByLabel('Presentable').check();
  await page.getByRole('button', { name: 'Create collection' }).click();
  await page.getByRole('link', { name: 'authors' }).first().waitFor();
  await page.waitForURL(/#\/c\/authors\/schema/);

  await openNewCollection();
  await page.locator('#collection-name').fill('posts');
  const title = await addField('text', 'title');
  await title.getByLabel('Required').check();
  await title.getByLabel('Searchable').check();
  await addField('number', 'views');
  await addField('bool', 'published');
  const status = await addField('select', 'status');
  await status.getByLabel('Values').fill('draft, live');
  await status.getByLabel('Values').blur();
  await addField('json', 'meta');
  const author = await addField('relation', 'author');
  await author.getByLabel('Related collection').selectOption({ label: 'authors' });
  // A bad field name comes back inline from the API.
  const bad = await addField('text', 'bad name!');
  await page.getByRole('button', { name: 'Create collection' }).click();
  await bad.locator('.error-text').first().waitFor();
  await shot(page, '04-schema-error');
  await bad.getByRole('button', { name: /Remove/ }).click();
  await page.locator('.tabs').getByRole('tab', { name: /Indexes/ }).click();
  await page.getByRole('group', { name: 'Columns, in order' }).getByLabel('title').check();
  await page.getByLabel('Unique').check();
  await page.getByRole('button', { name: '+ Add index' }).click();
  await page.getByRole('button', { name: 'Create collection' }).click();
  await page.waitForURL(/#\/c\/posts\/schema/);
  await page.locator('.tabs').getByRole('tab', { name: /Fields/ }).click();
  await shot(page, '05-schema-posts');

  const res = await fetch(`${server.url}/api/collections/posts`, {
    headers: { Authorization: await page.evaluate(() => JSON.parse(localStorage.basalt_admin_auth).token) },
  });
  const posts = await res.json();
  assert.deepEqual(
    posts.fields.map((f) => `${f.name}:${f.type}`),
    ['id:text', 'title:text', 'views:number', 'published:bool', 'status:select', 'meta:json', 'author:relation', 'created:autodate', 'updated:autodate'],
  );
  assert.equal(posts.fields[1].searchable, true);
  assert.deepEqual(posts.fields[4].values, ['draft', 'live']);
  assert.match(posts.indexes[0], /CREATE UNIQUE INDEX/);
});

test('rename a field safely', async () => {
  await page.locator('#f2-name').fill('view_count');
  await page.getByText('Renamed from').waitFor();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Saved posts').waitFor();
  await page.locator('#f2-name').fill('views');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Saved posts').first().waitFor();
});

test('add, edit and delete records', async () => {
  await page.getByRole('link', { name: 'authors' }).first().click();
  await page.getByRole('link', { name: 'Records' }).click();
  await page.getByRole('button', { name: '+ New record' }).click();
  await page.locator('#rf-name').fill('Ada Lovelace');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('cell', { name: 'Ada Lovelace' }).waitFor();

  await page.getByRole('link', { name: 'posts' }).first().click();
  for (const [t, views, published] of [['Hello world', 42, true], ['Draft notes', 3, false], ['Third post', 7, false]]) {
    await page.getByRole('button', { name: '+ New record' }).click();
    await page.locator('#rf-title').fill(t);
    await page.locator('#rf-views').fill(String(views));
    if (published) await page.getByLabel('published').check();
    await page.locator('#rf-status').selectOption(published ? 'live' : 'draft');
    await page.locator('#rf-meta').fill('{"tags": [1, 2');
    await page.locator('#record-form .error-text').first().waitFor();
    await page.locator('#rf-meta').fill('{"tags": [1, 2]}');
    await page.locator('#rf-author').fill('Ada');
    await page.getByRole('button', { name: /Ada Lovelace/ }).click();
    if (t === 'Hello world') await shot(page, '06-record-form');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('cell', { name: t }).waitFor();
  }
  // Edit.
  await page.getByRole('cell', { name: 'Draft notes' }).click();
  await page.locator('#rf-title').fill('Draft notes, edited');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('cell', { name: 'Draft notes, edited' }).waitFor();
  // A required field left empty is reported inline.
  await page.getByRole('button', { name: '+ New record' }).click();
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('#record-form .error-text').first().waitFor();
  await page.keyboard.press('Escape');
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
  // Bulk delete.
  await page.getByRole('row', { name: /Third post/ }).getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Delete selected' }).click();
  await page.locator('dialog[open]').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('cell', { name: 'Third post' }).waitFor({ state: 'detached' });
  await page.getByText('1–2 of 2').waitFor();
  await shot(page, '07-records');
});

test('live updates: records changed elsewhere appear without a reload', async () => {
  const login = await fetch(`${server.url}/api/collections/_superusers/auth-with-password`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ identity: EMAIL, password: PASSWORD }),
  });
  const { token } = await login.json();
  const call = async (method, path, body) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { Authorization: token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  await page.getByText('● live').waitFor();
  const [existing] = (await call('GET', '/api/collections/posts/records?perPage=1')).items;
  const created = await call('POST', '/api/collections/posts/records', { ...existing, id: undefined, title: 'From elsewhere' });
  await page.getByRole('cell', { name: 'From elsewhere' }).waitFor();
  await page.getByText('1–3 of 3').waitFor();
  await call('PATCH', `/api/collections/posts/records/${created.id}`, { title: 'Changed elsewhere' });
  await page.getByRole('cell', { name: 'Changed elsewhere' }).waitFor();
  await shot(page, '07b-records-live');
  await call('DELETE', `/api/collections/posts/records/${created.id}`);
  await page.getByRole('cell', { name: 'Changed elsewhere' }).waitFor({ state: 'detached' });
  await page.getByText('1–2 of 2').waitFor();
});

test('file fields: upload with previews, download, remove', async () => {
  const login = await fetch(`${server.url}/api/collections/_superusers/auth-with-password`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ identity: EMAIL, password: PASSWORD }),
  });
  const { token } = await login.json();
  const res = await fetch(`${server.url}/api/collections`, {
    method: 'POST',
    headers: { Authorization: token, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      name: 'docs',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'attachments', type: 'file', maxSelect: 2, maxSize: 1 << 20, thumbs: ['100x100'] },
      ],
    }),
  });
  assert.equal(res.status, 200, await res.text());
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
  const text = Buffer.from('plain notes\n');
  await page.reload();
  await page.getByRole('link', { name: 'docs' }).first().click();
  // The records page being left has a "+ New record" button too.
  await page.locator('th button', { hasText: 'attachments' }).waitFor();
  await page.getByRole('button', { name: '+ New record' }).click();
  await page.locator('#rf-title').fill('With files');
  await page.locator('#rf-attachments').setInputFiles([
    { name: 'pixel.png', mimeType: 'image/png', buffer: png },
    { name: 'notes.txt', mimeType: 'text/plain', buffer: text },
  ]);
  await page.locator('.files li.new img').waitFor();
  await shot(page, '07c-record-files');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByRole('cell', { name: 'With files' }).waitFor();
  const api = async (path) => (await fetch(`${server.url}${path}`, { headers: { Authorization: token } })).json();
  let [rec] = (await api('/api/collections/docs/records')).items;
  assert.equal(rec.attachments.length, 2);
  const stored = await fetch(`${server.url}/api/files/docs/${rec.id}/${rec.attachments[0]}`);
  assert.deepEqual(Buffer.from(await stored.arrayBuffer()), png);

  // Edit: the stored image shows as a thumbnail; remove the text file.
  await page.getByRole('cell', { name: 'With files' }).click();
  const thumb = page.locator('.files img').first();
  await thumb.waitFor();
  assert.match(await thumb.getAttribute('src'), /thumb=100x100/);
  await page.getByRole('button', { name: `Remove ${rec.attachments[1]}` }).click();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
  [rec] = (await api('/api/collections/docs/records')).items;
  assert.equal(rec.attachments.length, 1);
  assert.match(rec.attachments[0], /^pixel_[a-z0-9]{10}\.png$/);
  await page.getByRole('link', { name: 'posts' }).first().click();
});

test('sort, filter with inline errors, and search', async () => {
  await page.locator('th button', { hasText: 'views' }).click();
  await page.locator('th button', { hasText: 'views' }).click();
  await page.locator('tbody tr').first().getByText('Hello world').waitFor();
  await page.locator('#record-filter').fill('views >');
  await page.keyboard.press('Enter');
  await page.locator('#filter-error').waitFor();
  await shot(page, '08-filter-error');
  await page.locator('#record-filter').fill('views > 10');
  await page.keyboard.press('Enter');
  await page.locator('#filter-error').waitFor({ state: 'detached' });
  await page.getByText('1–1 of 1').waitFor();
  await page.locator('#record-filter').fill('');
  // The search box exists because `title` is searchable; it sends `search=`.
  const sent = page.waitForRequest((r) => r.url().includes('search=hello'));
  await page.locator('#record-search').fill('hello');
  await page.keyboard.press('Enter');
  await sent;
  await page.locator('#record-search').fill('');
  await page.keyboard.press('Enter');
});

test('rules: syntax errors inline, completion, effect on anonymous callers', async () => {
  assert.equal((await anonymousList('posts')).status, 403);
  await page.getByRole('link', { name: 'Schema & rules' }).click();
  await page.getByRole('tab', { name: /API rules/ }).click();
  await page.locator('.rule').first().getByRole('button', { name: /Superusers only/ }).click();
  const rule = page.locator('#rule-listRule');
  await rule.fill('published =');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('.rule .error-text').first().waitFor();
  await shot(page, '09-rule-error');
  await rule.fill('');
  await rule.pressSequentially('publ');
  await page.getByRole('listbox', { name: 'Suggestions' }).waitFor();
  await shot(page, '10-rule-autocomplete');
  await page.keyboard.press('Enter');
  await rule.pressSequentially(' = true');
  assert.equal(await rule.inputValue(), 'published = true');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Saved posts').first().waitFor();
  const anon = await anonymousList('posts');
  assert.equal(anon.status, 200);
  assert.deepEqual(anon.body.items.map((r) => r.title), ['Hello world']);
});

test('API preview, import/export and dark mode', async () => {
  await page.getByRole('link', { name: 'API preview' }).click();
  await page.getByText('/api/collections/posts/records/:id').first().waitFor();
  await shot(page, '11-api-preview');
  await page.getByRole('link', { name: 'Import / export' }).click();
  await page.waitForFunction(() => document.querySelector('#schema-json')?.value.includes('"posts"'));
  await shot(page, '12-import-export');
  await page.getByRole('link', { name: 'posts' }).first().click();
  await page.getByRole('button', { name: /Color theme/ }).click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.getByRole('cell', { name: 'Hello world' }).waitFor();
  await shot(page, '13-records-dark');
  await page.getByRole('cell', { name: 'Hello world' }).click();
  await shot(page, '14-record-form-dark');
  await page.keyboard.press('Escape');
  await page.getByRole('link', { name: 'Schema & rules' }).click();
  await page.locator('#f1-name').waitFor();
  await page.getByRole('button', { name: 'Options' }).nth(1).click();
  await shot(page, '15-schema-dark');
});

test('no console errors', () => {
  assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), []);
});
