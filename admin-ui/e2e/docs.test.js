// The API viewer at /api/docs in a real browser against the real binary: it logs a
// superuser in, renders the live document (a collection created just before shows up),
// and never requests anything from another origin.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, shot } from './lib/browser.js';
import { startServer } from './lib/server.js';

const EMAIL = 'docs@example.com';
const PASSWORD = 'e2e-docs-password';

let server;
let browser;
let page;
const foreign = [];
const consoleErrors = [];

async function call(method, path, body, token = '') {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(token ? { Authorization: token } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

before(async () => {
  server = await startServer();
  const install = server.installUrl.split('/install/')[1];
  const created = await call('POST', '/api/collections/_superusers/records', { email: EMAIL, password: PASSWORD, passwordConfirm: PASSWORD }, install);
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const su = (await call('POST', '/api/collections/_superusers/auth-with-password', { identity: EMAIL, password: PASSWORD })).body.token;
  const books = await call('POST', '/api/collections', {
    name: 'books', type: 'base', listRule: '',
    fields: [{ name: 'title', type: 'text', required: true }, { name: 'genre', type: 'select', maxSelect: 1, values: ['novel', 'poetry'] }],
  }, su);
  assert.equal(books.status, 200, JSON.stringify(books.body));

  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.setDefaultTimeout(15000);
  page.on('request', (req) => {
    if (!req.url().startsWith(server.url) && !req.url().startsWith('data:')) foreign.push(req.url());
  });
  page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a guest gets the login form, not the document', async () => {
  await page.goto(`${server.url}/api/docs`);
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  assert.equal(await page.locator('.swagger-ui .opblock').count(), 0);
  await shot(page, '38-docs-login');
});

test('a wrong password is refused with the server message', async () => {
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#login-error').filter({ hasText: /./ }).waitFor();
});

test('a superuser sees the live document, per collection', async () => {
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('.swagger-ui .info .title').filter({ hasText: 'Basalt' }).waitFor();
  await page.locator('.opblock-summary-path', { hasText: '/api/collections/books/records' }).first().waitFor();
  assert.ok(await page.locator('.swagger-ui .opblock').count() > 50);
  await shot(page, '39-docs');
});

test('the token stays for the tab: a reload shows the document again', async () => {
  await page.reload();
  await page.locator('.opblock-summary-path', { hasText: '/api/health' }).first().waitFor();
});

test('nothing is loaded from another origin, no console errors', () => {
  assert.deepEqual(foreign, []);
  assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), []);
});
