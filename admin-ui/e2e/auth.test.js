// An auth collection's options (password identity fields, OTP, token lifetimes, an
// OAuth2 provider) edited in the schema editor, and "Sign out everywhere" in the user
// dialog; every change is proven through the public API.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, shot, signedInPage } from './lib/browser.js';
import { apiCall, startServer } from './lib/server.js';

const EMAIL = 'admin@example.com';
const PASSWORD = 'e2e-admin-password';
const ALICE = { email: 'alice@example.com', password: 'alice-password-1', username: 'alice' };

let server;
let browser;
let page;
let su;
const consoleErrors = [];

const call = (method, path, body, token = su) => apiCall(server.url, method, path, body, token);

async function openAuthOptions() {
  await page.getByRole('link', { name: 'members' }).first().click();
  await page.getByRole('link', { name: 'Schema & rules' }).click();
  await page.getByRole('tab', { name: /Auth options/ }).click();
  await page.locator('#ao-otp-length').waitFor();
}

before(async () => {
  server = await startServer();
  const install = server.installUrl.split('/install/')[1];
  assert.equal((await call('POST', '/api/collections/_superusers/records', { email: EMAIL, password: PASSWORD, passwordConfirm: PASSWORD }, install)).status, 200);
  su = (await call('POST', '/api/collections/_superusers/auth-with-password', { identity: EMAIL, password: PASSWORD }, '')).body.token;
  const members = await call('POST', '/api/collections', {
    name: 'members', type: 'auth', fields: [{ name: 'username', type: 'text', presentable: true }],
    indexes: ['CREATE UNIQUE INDEX `idx_members_username` ON `members` (`username`)'],
  });
  assert.equal(members.status, 200, JSON.stringify(members.body));
  const r = await call('POST', '/api/collections/members/records', { ...ALICE, passwordConfirm: ALICE.password });
  assert.equal(r.status, 200, JSON.stringify(r.body));

  browser = await launch();
  page = await signedInPage(browser, server.url, { email: EMAIL, password: PASSWORD, consoleErrors });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a bad OTP length and a negative token duration show at their fields', async () => {
  await openAuthOptions();
  // The server checks the OTP settings only while OTP is on.
  await page.locator('#ao-otp-enabled').check();
  await page.locator('#ao-otp-length').fill('0');
  await page.locator('#ao-authToken').fill('-5');
  await page.getByRole('button', { name: 'Save changes' }).click();
  const lengthError = page.locator('label:has(#ao-otp-length) .error-text');
  await lengthError.waitFor();
  assert.match(await lengthError.innerText(), /blank|least|less/i);
  assert.equal(await page.locator('#ao-otp-length').getAttribute('aria-invalid'), 'true');
  const durationError = page.locator('label:has(#ao-authToken) .error-text');
  assert.match(await durationError.innerText(), /no less than 10/);
  await page.getByRole('tab', { name: /Auth options/ }).getByText('!').waitFor();
  await page.locator('#ao-otp-length').scrollIntoViewIfNeeded();
  await shot(page, '60-auth-options-error');
  const stored = (await call('GET', '/api/collections/members')).body;
  assert.equal(stored.otp.length, 8);
  assert.equal(stored.authToken.duration, 432000);
  await page.getByRole('button', { name: 'Revert' }).click();
});

test('enable OTP, set token lifetimes and identity fields, add an OIDC provider', async () => {
  await page.getByRole('tab', { name: /Auth options/ }).click();
  await page.locator('#ao-otp-enabled').check();
  await page.locator('#ao-otp-length').fill('6');
  await page.locator('#ao-otp-duration').fill('300');
  await page.locator('#ao-authToken').fill('7200');
  await page.locator('#ao-fileToken').fill('120');
  await page.getByRole('checkbox', { name: 'username' }).check();

  // Keyboard only: the provider form is reachable and fillable without the mouse.
  await page.getByRole('button', { name: '+ Add provider' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'oauth-0-name');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Company SSO');
  assert.equal(await page.locator('#oauth-0-displayName').inputValue(), 'Company SSO');
  await page.locator('#ao-oauth2-enabled').check();
  await page.locator('#oauth-0-clientId').fill('basalt-client');
  await page.locator('#oauth-0-clientSecret').fill('s3cret-value');
  await page.locator('#oauth-0-authURL').fill('https://sso.example.com/authorize');
  await page.locator('#oauth-0-tokenURL').fill('https://sso.example.com/token');
  await page.locator('#oauth-0-userInfoURL').fill('https://sso.example.com/userinfo');
  await page.locator('#oauth-0-pkce').check();
  await page.locator('#oauth-0-extra').fill('{not json');
  await page.getByText(/^Not saved:/).waitFor();
  await page.locator('#oauth-0-extra').fill('');
  await page.locator('#oauth-map-username').selectOption('username');
  await page.locator('#oauth-0-userInfoURL').scrollIntoViewIfNeeded();
  await shot(page, '61-auth-options-oauth2');

  await page.keyboard.press('Control+s');
  await page.waitForFunction(() => !document.querySelector('.bar .badge'));
  const c = (await call('GET', '/api/collections/members')).body;
  assert.equal(c.otp.enabled, true);
  assert.equal(c.otp.length, 6);
  assert.equal(c.otp.duration, 300);
  assert.equal(c.authToken.duration, 7200);
  assert.equal(c.fileToken.duration, 120);
  assert.deepEqual(c.passwordAuth.identityFields.sort(), ['email', 'username']);
  assert.equal(c.oauth2.enabled, true);
  assert.equal(c.oauth2.providers.length, 1);
  const p = c.oauth2.providers[0];
  assert.equal(p.name, 'oidc');
  assert.equal(p.clientId, 'basalt-client');
  assert.equal(p.displayName, 'Company SSO');
  assert.equal(p.tokenURL, 'https://sso.example.com/token');
  assert.equal(p.clientSecret ?? '', '', 'the secret is write-only');
  assert.equal(c.oauth2.mappedFields.username, 'username');

  const methods = (await call('GET', '/api/collections/members/auth-methods', undefined, '')).body;
  assert.equal(methods.oauth2.enabled, true);
  const listed = methods.oauth2.providers.find((x) => x.name === 'oidc');
  assert.ok(listed, JSON.stringify(methods));
  assert.equal(listed.displayName, 'Company SSO');
  assert.match(listed.authURL, /^https:\/\/sso\.example\.com\/authorize\?.*client_id=basalt-client/);
  assert.equal(methods.otp.enabled, true);
  assert.deepEqual(methods.password.identityFields.sort(), ['email', 'username']);

  // Username now signs in; a save without touching the secret keeps it (blank keeps).
  const byName = await call('POST', '/api/collections/members/auth-with-password', { identity: 'alice', password: ALICE.password }, '');
  assert.equal(byName.status, 200, JSON.stringify(byName.body));
  await page.locator('#ao-verificationToken').fill('7200');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForFunction(() => !document.querySelector('.bar .badge'));
  assert.equal((await call('GET', '/api/collections/members')).body.verificationToken.duration, 7200);
  const again = (await call('GET', '/api/collections/members/auth-methods', undefined, '')).body;
  assert.ok(again.oauth2.providers.some((x) => x.name === 'oidc'));
  await page.locator('#ao-otp').scrollIntoViewIfNeeded();
  await shot(page, '62-auth-options');
});

test('sign out everywhere revokes earlier tokens', async () => {
  const login = await call('POST', '/api/collections/members/auth-with-password', { identity: ALICE.email, password: ALICE.password }, '');
  assert.equal(login.status, 200);
  const token = login.body.token;
  assert.equal((await call('POST', '/api/collections/members/auth-refresh', undefined, token)).status, 200);
  const keyBefore = (await call('GET', `/api/collections/members/records/${login.body.record.id}`)).body.tokenKey;

  await page.getByRole('link', { name: 'members' }).first().click();
  await page.getByRole('row', { name: /alice@example.com/ }).getByRole('button', { name: /Manage user/ }).click();
  const dialog = page.locator('dialog[open]');
  await dialog.getByRole('button', { name: 'Sign out everywhere…' }).click();
  const confirm = page.locator('dialog[open]', { hasText: 'Every token issued to them so far' });
  await confirm.waitFor();
  await shot(page, '63-sign-out-confirm');
  await confirm.getByRole('button', { name: 'Sign out everywhere' }).click();
  await page.getByRole('status').filter({ hasText: /Signed out everywhere at/ }).waitFor();
  await shot(page, '64-signed-out');

  const refreshed = await call('POST', '/api/collections/members/auth-refresh', undefined, token);
  assert.equal(refreshed.status, 401, JSON.stringify(refreshed.body));
  const keyAfter = (await call('GET', `/api/collections/members/records/${login.body.record.id}`)).body.tokenKey;
  if (keyBefore !== undefined) {
    assert.notEqual(keyAfter, keyBefore);
    assert.match(keyAfter, /^[a-zA-Z0-9]{50}$/);
  }
  // A fresh sign-in works.
  assert.equal((await call('POST', '/api/collections/members/auth-with-password', { identity: ALICE.email, password: ALICE.password }, '')).status, 200);
  await page.keyboard.press('Escape');
});

test('dark mode', async () => {
  await page.getByRole('button', { name: /Color theme/ }).click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await openAuthOptions();
  await page.waitForFunction(() => !document.body.innerText.includes('Signed alice'), null, { timeout: 15000 }).catch(() => {});
  await shot(page, '65-auth-options-dark');
  await page.locator('#oauth-0-userInfoURL').scrollIntoViewIfNeeded();
  await page.locator('#ao-mail').scrollIntoViewIfNeeded();
  await page.locator('summary', { hasText: 'Verification email' }).click();
  await shot(page, '66-auth-options-oauth2-dark');
  await page.getByRole('link', { name: 'members' }).first().click();
  await page.getByRole('row', { name: /alice@example.com/ }).getByRole('button', { name: /Manage user/ }).click();
  await page.locator('dialog[open]').getByRole('button', { name: 'Sign out everywhere…' }).click();
  await page.locator('dialog[open]', { hasText: 'Every token issued to them so far' }).waitFor();
  await shot(page, '67-sign-out-confirm-dark');
});

test('no console errors', () => {
  assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), []);
});
