// Roles, policies, settings and auth users in a real browser against the real
// binary; every change made in the UI is proven from a user's own API client.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, shot, signedInPage } from './lib/browser.js';
import { smtpSink } from './lib/smtp-sink.js';
import { apiCall, startServer } from './lib/server.js';

const EMAIL = 'admin@example.com';
const PASSWORD = 'e2e-admin-password';
const ALICE = { email: 'alice@example.com', password: 'alice-password-1' };

let server;
let browser;
let page;
let su;
let sink;
const consoleErrors = [];

const call = (method, path, body, token = su) => apiCall(server.url, method, path, body, token);

async function aliceToken() {
  const res = await call('POST', '/api/collections/users/auth-with-password', { identity: ALICE.email, password: ALICE.password }, '');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.token;
}

before(async () => {
  sink = await smtpSink();
  server = await startServer();
  const install = server.installUrl.split('/install/')[1];
  assert.equal((await call('POST', '/api/collections/_superusers/records', { email: EMAIL, password: PASSWORD, passwordConfirm: PASSWORD }, install)).status, 200);
  su = (await call('POST', '/api/collections/_superusers/auth-with-password', { identity: EMAIL, password: PASSWORD }, '')).body.token;
  const users = await call('POST', '/api/collections', {
    name: 'users', type: 'auth', fields: [{ name: 'name', type: 'text', presentable: true }],
    createRule: '', listRule: 'id = @request.auth.id', viewRule: 'id = @request.auth.id',
  });
  assert.equal(users.status, 200, JSON.stringify(users.body));
  for (const [name, email, password] of [['Alice', ALICE.email, ALICE.password], ['Bob', 'bob@example.com', 'bob-password-12']]) {
    const r = await call('POST', '/api/collections/users/records', { name, email, password, passwordConfirm: password });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  // Superusers only (every rule null).
  assert.equal((await call('POST', '/api/collections', { name: 'secrets', type: 'base', fields: [{ name: 'level', type: 'number' }] })).status, 200);
  for (const level of [3, 7, 9]) await call('POST', '/api/collections/secrets/records', { level });

  browser = await launch();
  page = await signedInPage(browser, server.url, {
    email: EMAIL, password: PASSWORD, consoleErrors,
    viewport: { width: 1366, height: 800 }, permissions: ['clipboard-read', 'clipboard-write'],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await sink?.close();
});

test('assign a role to a user and open a collection to it with a policy', async () => {
  assert.equal((await call('GET', '/api/collections/secrets/records', undefined, await aliceToken())).status, 403);

  await page.getByRole('link', { name: 'Roles & policies' }).click();
  await page.getByRole('cell', { name: 'authenticated' }).waitFor();
  await page.locator('#new-role').fill('auditor');
  await page.getByRole('button', { name: 'Open' }).click();
  await page.getByRole('heading', { name: 'auditor' }).waitFor();
  await page.locator('#role-user').fill('alice');
  await page.getByRole('list', { name: 'Matching users' }).getByRole('button', { name: /Alice/ }).click();
  await page.getByRole('list', { name: 'Members of auditor' }).getByText('Alice <alice@example.com>').waitFor();
  await page.getByRole('row', { name: /auditor/ }).getByRole('cell', { name: '1' }).first().waitFor();
  await shot(page, '20-roles');

  // Policy on `secrets`: a bad condition inline, then completion, then its effect.
  await page.getByRole('link', { name: 'secrets' }).first().click();
  await page.getByRole('link', { name: 'Access' }).click();
  await page.getByRole('table', { name: /Who can do what/ }).getByText('Superusers only').first().waitFor();
  await page.locator('#policy-role').fill('auditor');
  await page.locator('#policy-action').selectOption('list');
  const condition = page.locator('#policy-condition');
  await condition.fill('level >');
  await page.getByRole('button', { name: 'Add policy' }).click();
  await page.locator('.add .error-text').waitFor();
  await shot(page, '21-policy-error');
  await condition.fill('');
  await condition.pressSequentially('lev');
  await page.getByRole('listbox', { name: 'Suggestions' }).getByRole('option', { name: /^level/, selected: true }).waitFor();
  await page.keyboard.press('Enter');
  await page.getByRole('listbox', { name: 'Suggestions' }).waitFor({ state: 'detached' });
  await condition.pressSequentially(' > 5');
  assert.equal(await condition.inputValue(), 'level > 5');
  await page.getByRole('button', { name: 'Add policy' }).click();
  await page.getByRole('list', { name: 'Policies of secrets' }).getByText('level > 5').waitFor();
  const who = page.getByRole('table', { name: /Who can do what/ });
  await who.getByRole('row', { name: /list auditor policy level > 5/ }).waitFor();
  await shot(page, '22-access');

  const res = await call('GET', '/api/collections/secrets/records', undefined, await aliceToken());
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body.items.map((r) => r.level).sort(), [7, 9]);
});

test('role inheritance: add a parent, refuse a cycle, remove it', async () => {
  await page.goto(`${server.url}/_/#/roles/auditor`);
  await page.locator('#parent-role').fill('reader');
  await page.getByRole('button', { name: 'Add parent' }).click();
  await page.getByRole('button', { name: 'Stop inheriting reader' }).waitFor();
  await page.getByRole('table').getByRole('link', { name: 'reader', exact: true }).click();
  await page.getByRole('heading', { name: 'reader' }).waitFor();
  await page.getByText('Inherited by:').getByRole('link', { name: 'auditor' }).waitFor();
  await page.locator('#parent-role').fill('auditor');
  await page.getByRole('button', { name: 'Add parent' }).click();
  await page.getByRole('alert').getByText('The role would inherit from itself.').waitFor();
  await shot(page, '23-role-cycle');
  await page.getByRole('link', { name: 'auditor' }).first().click();
  await page.getByRole('button', { name: 'Stop inheriting reader' }).click();
  await page.getByRole('button', { name: 'Stop inheriting reader' }).waitFor({ state: 'detached' });
  const links = await call('GET', '/api/roles/links?subject=auditor');
  assert.deepEqual(links.body.items, []);
});

test('settings: inline errors, persisted after reload, secrets write-only', async () => {
  await page.getByRole('link', { name: 'Settings' }).click();
  const name = page.locator('#s-appName');
  assert.equal(await name.inputValue(), 'Basalt');
  await name.fill('Basalt E2E');
  await page.getByRole('link', { name: 'Rate limits' }).click();
  await page.getByRole('button', { name: '+ Add rule' }).click();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('td .error-text').first().waitFor();
  await shot(page, '24-settings-rate-error');
  await page.getByLabel('Label of rule 5').fill('posts:list');
  await page.getByLabel('Audience of rule 5').selectOption('@guest');
  await page.getByLabel('Enable rate limiting').check();
  await page.getByRole('link', { name: /Mail/ }).click();
  await page.getByLabel('Send through an SMTP server').check();
  await page.locator('#s-smtpHost').fill('127.0.0.1');
  await page.locator('#s-smtpPort').fill(String(sink.port));
  await page.locator('#s-smtpPassword').fill('hunter2');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Settings saved').waitFor();
  await page.reload();
  await page.locator('#s-smtpHost').waitFor();
  assert.equal(await page.locator('#s-smtpHost').inputValue(), '127.0.0.1');
  assert.equal(await page.locator('#s-smtpPassword').inputValue(), '');
  await shot(page, '25-settings-mail');
  // The test mail goes through the saved SMTP settings to the sink.
  await page.locator('#s-testEmail').fill('inbox@example.com');
  await page.getByRole('button', { name: 'Send test email' }).click();
  await page.getByText('Sent to inbox@example.com').waitFor();
  assert.equal(sink.messages.length, 1);
  assert.match(sink.messages[0], /Subject: Basalt E2E: test email/);
  assert.match(sink.messages[0], /To: inbox@example.com/);
  await shot(page, '25b-settings-test-mail');
  await page.getByRole('link', { name: 'Application' }).click();
  assert.equal(await page.locator('#s-appName').inputValue(), 'Basalt E2E');
  const s = (await call('GET', '/api/settings')).body;
  assert.equal(s.meta.appName, 'Basalt E2E');
  assert.equal(s.smtp.password, '');
  assert.equal(s.rateLimits.enabled, true);
  assert.deepEqual(s.rateLimits.rules.at(-1), { label: 'posts:list', audience: '@guest', duration: 10, maxRequests: 100 });
  // Turn the limiter off again: the rest of the run should not trip it.
  await page.getByRole('link', { name: 'Rate limits' }).click();
  await shot(page, '26-settings-rate-limits');
  await page.getByLabel('Enable rate limiting').uncheck();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Settings saved').first().waitFor();
  await page.getByRole('link', { name: 'Trusted proxy' }).click();
  await page.getByRole('button', { name: '+ X-Real-IP' }).click();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForFunction(() => !document.querySelector('.bar .badge'));
  assert.deepEqual((await call('GET', '/api/settings')).body.trustedProxy.headers, ['X-Real-IP']);
});

test('auth users: verified toggle, roles, impersonation', async () => {
  await page.getByRole('link', { name: 'users' }).first().click();
  const row = page.getByRole('row', { name: /alice@example.com/ });
  await row.getByText('auditor').waitFor();
  const verified = row.getByRole('switch', { name: /Verified/ });
  assert.equal(await verified.getAttribute('aria-checked'), 'false');
  await verified.click();
  await page.waitForFunction(() => document.querySelector('[role=switch][aria-label*="alice"]')?.getAttribute('aria-checked') === 'true');
  const alice = (await call('GET', '/api/collections/users/records?filter=email%3D%27alice%40example.com%27')).body.items[0];
  assert.equal(alice.verified, true);

  await row.getByRole('button', { name: /Manage user/ }).click();
  const dialog = page.locator('dialog[open]');
  await dialog.getByText('Effective:').getByText('auditor').waitFor();
  await dialog.locator('#user-role').fill('editor');
  await dialog.getByRole('button', { name: 'Assign role' }).click();
  await dialog.getByRole('button', { name: 'Remove role editor' }).waitFor();
  await dialog.locator('#imp-duration').fill('600');
  await dialog.getByRole('button', { name: 'Get token' }).click();
  await dialog.locator('#imp-token').waitFor();
  await dialog.getByText(/^Expires /).waitFor();
  await dialog.getByRole('button', { name: 'Copy token' }).click();
  await page.getByText('Token copied').waitFor();
  await shot(page, '27-user-dialog');
  const token = await dialog.locator('#imp-token').inputValue();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
  const exp = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp;
  assert.ok(Math.abs(exp - (Date.now() / 1000 + 600)) < 60, `exp ${exp}`);
  const res = await call('GET', '/api/collections/secrets/records', undefined, token);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.items.length, 2);
  const roles = await call('GET', `/api/roles/records/users/${alice.id}`);
  assert.ok(roles.body.roles.includes('editor'), JSON.stringify(roles.body));
  await page.keyboard.press('Escape');
  await row.getByText('editor').waitFor();
  await shot(page, '28-users');
});

test('dark mode', async () => {
  await page.getByRole('button', { name: /Color theme/ }).click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await shot(page, '30-users-dark');
  await page.getByRole('link', { name: 'Roles & policies' }).click();
  await page.getByRole('row', { name: /auditor/ }).click();
  await page.getByRole('list', { name: 'Members of auditor' }).getByText('Alice').waitFor();
  await shot(page, '31-roles-dark');
  await page.getByRole('link', { name: 'secrets' }).first().click();
  await page.getByRole('link', { name: 'Access' }).click();
  await page.locator('#policy-condition').pressSequentially('@req');
  await page.getByRole('listbox', { name: 'Suggestions' }).waitFor();
  await shot(page, '32-access-dark');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'Rate limits' }).click();
  await page.getByLabel('Label of rule 1').waitFor();
  await shot(page, '33-settings-dark');
  await page.getByRole('link', { name: 'users' }).first().click();
  await page.getByRole('row', { name: /bob@example.com/ }).getByRole('button', { name: /Manage user/ }).click();
  await page.locator('dialog[open] #imp-duration').waitFor();
  await shot(page, '34-user-dialog-dark');
});

test('no console errors', () => {
  assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), []);
});
