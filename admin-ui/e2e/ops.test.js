// Operations screens in a real browser against the real binary: request logs,
// the logs / file storage / backups settings, backup archives, the SDK download and
// a user's personal data (export, purge). Each effect is checked through the API.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { launch, shot, signedInPage } from './lib/browser.js';
import { apiCall, startServer } from './lib/server.js';

const EMAIL = 'admin@example.com';
const PASSWORD = 'e2e-admin-password';

let server;
let browser;
let page;
let su;
const consoleErrors = [];

const call = (method, path, body, token = su) => apiCall(server.url, method, path, body, token);

before(async () => {
  server = await startServer();
  const install = server.installUrl.split('/install/')[1];
  assert.equal((await call('POST', '/api/collections/_superusers/records', { email: EMAIL, password: PASSWORD, passwordConfirm: PASSWORD }, install)).status, 200);
  su = (await call('POST', '/api/collections/_superusers/auth-with-password', { identity: EMAIL, password: PASSWORD }, '')).body.token;
  const users = await call('POST', '/api/collections', { name: 'users', type: 'auth', fields: [{ name: 'name', type: 'text', presentable: true }] });
  assert.equal(users.status, 200, JSON.stringify(users.body));
  const notes = await call('POST', '/api/collections', {
    name: 'notes', type: 'base',
    fields: [{ name: 'text', type: 'text' }, { name: 'owner', type: 'relation', collectionId: users.body.id, cascadeDelete: true, maxSelect: 1 }],
  });
  assert.equal(notes.status, 200, JSON.stringify(notes.body));
  for (const [name, email] of [['Carol', 'carol@example.com'], ['Dave', 'dave@example.com']]) {
    const r = await call('POST', '/api/collections/users/records', { name, email, password: 'a-long-password', passwordConfirm: 'a-long-password' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (const text of ['one', 'two']) await call('POST', '/api/collections/notes/records', { text, owner: r.body.id });
  }

  browser = await launch();
  page = await signedInPage(browser, server.url, { email: EMAIL, password: PASSWORD, consoleErrors, acceptDownloads: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The rows of the logs table as "METHOD URL STATUS" labels. */
async function logRows() {
  return page.locator('.logs tbody tr[aria-label]').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label')));
}

test('logs: requests made during the test, status and raw filters, detail', async () => {
  // A deliberately failed request and a successful one, from outside the browser.
  assert.equal((await call('GET', '/api/collections/missing_e2e/records', undefined, '')).status, 404);
  assert.equal((await call('GET', '/api/collections/notes/records?perPage=1')).status, 200);

  await page.getByRole('link', { name: 'Logs' }).click();
  await page.locator('.logs tbody tr[aria-label*="/api/collections/missing_e2e/records"]').waitFor();
  let rows = await logRows();
  assert.ok(rows.some((r) => r.startsWith('GET /api/collections/notes/records?perPage=1 200')), rows.join('\n'));
  assert.ok(await page.locator('.chart svg rect.bar').count() >= 1);
  await shot(page, '40-logs');

  await page.locator('#log-status').selectOption('4xx');
  await page.waitForFunction(() => [...document.querySelectorAll('.logs tbody tr[aria-label]')].every((r) => / 4\d\d$/.test(r.getAttribute('aria-label'))));
  rows = await logRows();
  assert.ok(rows.some((r) => r === 'GET /api/collections/missing_e2e/records 404'), rows.join('\n'));
  assert.ok(!rows.some((r) => / 2\d\d$/.test(r)), rows.join('\n'));
  await page.locator('.logs .status.s4').first().waitFor();
  await shot(page, '41-logs-4xx');

  // Path filter plus status class narrow to the one failure.
  await page.locator('#log-path').fill('missing_e2e');
  await page.locator('#log-path').press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('.logs tbody tr[aria-label]').length === 1);

  // A bad raw filter: the server's message inline, at the box.
  await page.locator('#log-filter').fill('data.status >>> 4');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.locator('#log-filter-error').waitFor();
  assert.equal(await page.locator('#log-filter').getAttribute('aria-invalid'), 'true');
  await shot(page, '42-logs-filter-error');
  await page.locator('#log-filter').fill('data.auth = ""');
  await page.locator('#log-filter').press('Enter');
  await page.locator('#log-filter-error').waitFor({ state: 'detached' });

  // The detail dialog, opened with the keyboard.
  const row = page.locator('.logs tbody tr[aria-label="GET /api/collections/missing_e2e/records 404"]');
  await row.focus();
  await page.keyboard.press('Enter');
  const dialog = page.locator('dialog[open]');
  await dialog.getByText('data.userAgent').waitFor();
  await dialog.getByText('/api/collections/missing_e2e/records', { exact: true }).first().waitFor();
  assert.match(await dialog.innerText(), /level\s+4/);
  await shot(page, '43-log-detail');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

// A tab of the settings page: waits for the page (the sidebar has a "Logs" link too).
const settingsTab = (name) =>
  page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name, exact: true });

test('settings: logs, file storage and backups save; a bad cron shows at its field', async () => {
  await page.getByRole('link', { name: 'Settings' }).click();
  await settingsTab('Logs').click();
  await page.locator('#s-logsMaxDays').fill('3');
  await page.locator('#s-logsMinLevel').selectOption('4');
  await page.getByLabel('Log the id of the signed-in user').check();
  await page.getByRole('link', { name: 'File storage' }).click();
  await page.locator('#s-s3-enabled').check();
  await page.locator('#s-s3-bucket').fill('uploads');
  await page.locator('#s-s3-region').fill('eu-west-1');
  await page.locator('#s-s3-endpoint').fill('http://127.0.0.1:9');
  await page.locator('#s-s3-accessKey').fill('AKIAE2E');
  await page.locator('#s-s3-secret').fill('s3-secret-value');
  await page.locator('#s-s3-forcePathStyle').check();
  await shot(page, '44-settings-storage');
  await page.getByRole('link', { name: 'Backups' }).click();
  await page.locator('#s-backupsCron').fill('every day at noon');
  await page.locator('#s-backupsKeep').fill('5');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('#s-backupsCron[aria-invalid="true"]').waitFor();
  await page.locator('label:has(#s-backupsCron) .error-text').getByText(/cron/i).waitFor();
  await page.getByRole('link', { name: /Backups/ }).locator('.err-dot').waitFor();
  await shot(page, '45-settings-cron-error');
  await page.locator('#s-backupsCron').fill('@daily');
  await page.locator('#s-bs3-enabled').check();
  await page.locator('#s-bs3-bucket').fill('offsite');
  await page.locator('#s-bs3-secret').fill('backup-secret');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Settings saved').waitFor();
  assert.equal(await page.locator('#s-bs3-secret').inputValue(), '');

  const s = (await call('GET', '/api/settings')).body;
  assert.deepEqual(s.logs, { maxDays: 3, minLevel: 4, logIP: true, logAuthId: true });
  assert.deepEqual(s.s3, { enabled: true, bucket: 'uploads', region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', accessKey: 'AKIAE2E', secret: '', forcePathStyle: true });
  assert.equal(s.backups.cron, '@daily');
  assert.equal(s.backups.cronMaxKeep, 5);
  assert.equal(s.backups.s3.bucket, 'offsite');
  assert.equal(s.backups.s3.secret, '');

  // Put storage and the off-site copy back off (the rest of the run uses local disk),
  // and keep every log level again; the stored secret survives a save with it blank.
  await page.locator('#s-bs3-enabled').uncheck();
  await page.getByRole('link', { name: 'File storage' }).click();
  await page.locator('#s-s3-enabled').uncheck();
  await settingsTab('Logs').click();
  await page.locator('#s-logsMinLevel').selectOption('0');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForFunction(() => !document.querySelector('.bar .badge'));
  const t = (await call('GET', '/api/settings')).body;
  assert.equal(t.s3.enabled, false);
  assert.equal(t.backups.s3.enabled, false);
  assert.equal(t.logs.minLevel, 0);
  await shot(page, '46-settings-logs');
});

test('backups: create, list, download, upload, delete', async () => {
  await page.goto(`${server.url}/_/#/settings/backups`);
  await page.locator('#backup-name').fill('e2e-first');
  await page.getByRole('button', { name: 'Create backup' }).click();
  const first = page.getByRole('row', { name: /e2e-first\.zip/ });
  await first.waitFor();
  assert.ok((await call('GET', '/api/backups')).body.some((b) => b.key === 'e2e-first.zip'));
  await page.locator('#backup-name').fill('Bad Name');
  await page.getByRole('button', { name: 'Create backup' }).click();
  await page.locator('#backup-error').waitFor();
  assert.equal(await page.locator('#backup-name').getAttribute('aria-invalid'), 'true');

  const [download] = await Promise.all([page.waitForEvent('download'), first.getByRole('button', { name: 'Download e2e-first.zip' }).click()]);
  assert.equal(download.suggestedFilename(), 'e2e-first.zip');
  const archive = await download.path();
  assert.equal(fs.readFileSync(archive).subarray(0, 2).toString(), 'PK');

  await page.locator('#backup-upload').setInputFiles({ name: 'e2e-uploaded.zip', mimeType: 'application/zip', buffer: fs.readFileSync(archive) });
  await page.getByRole('row', { name: /e2e-uploaded\.zip/ }).waitFor();
  await shot(page, '47-backups');

  // The restore dialog asks for the archive's name before it allows anything.
  await first.getByRole('button', { name: 'Restore e2e-first.zip' }).click();
  const restore = page.locator('dialog[open]');
  assert.equal(await restore.getByRole('button', { name: 'Restore and restart' }).isDisabled(), true);
  await restore.locator('#restore-confirm').fill('e2e-first.zip');
  assert.equal(await restore.getByRole('button', { name: 'Restore and restart' }).isDisabled(), false);
  await shot(page, '48-backup-restore-confirm');
  await restore.getByRole('button', { name: 'Cancel' }).click();

  for (const key of ['e2e-first.zip', 'e2e-uploaded.zip']) {
    await page.getByRole('button', { name: `Delete ${key}` }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Delete backup' }).click();
    await page.getByRole('row', { name: new RegExp(key.replace('.', '\\.')) }).waitFor({ state: 'detached' });
  }
  assert.deepEqual((await call('GET', '/api/backups')).body, []);
});

test('backups: restore asks for the name, the server restarts, the page reloads on the restored data', async () => {
  assert.equal((await call('POST', '/api/backups', { name: 'e2e-restore.zip' })).status, 204);
  const later = await call('POST', '/api/collections/notes/records', { text: 'written after the backup' });
  assert.equal(later.status, 200);
  await page.goto(`${server.url}/_/#/settings/backups`);
  await page.getByRole('button', { name: 'Reload backups' }).click();
  await page.getByRole('button', { name: 'Restore e2e-restore.zip' }).click();
  const dialog = page.locator('dialog[open]');
  await dialog.locator('#restore-confirm').fill('e2e-restore.zip');
  const reloaded = page.waitForEvent('load', { timeout: 60000 });
  await dialog.getByRole('button', { name: 'Restore and restart' }).click();
  await dialog.getByText(/Waiting for the server to restart|Verifying/).first().waitFor();
  await reloaded;
  await page.getByRole('row', { name: /e2e-restore\.zip/ }).waitFor({ timeout: 20000 });
  assert.equal((await call('GET', `/api/collections/notes/records/${later.body.id}`)).status, 404);
  assert.equal((await call('GET', '/api/collections/notes/records')).body.totalItems, 4);
  assert.equal((await call('DELETE', '/api/backups/e2e-restore.zip')).status, 204);
});

test('SDK download from the API preview is a zip', async () => {
  await page.getByRole('link', { name: 'notes' }).first().click();
  await page.getByRole('link', { name: 'API preview' }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Download TypeScript SDK/ }).click()]);
  assert.equal(download.suggestedFilename(), 'basalt-sdk-typescript.zip');
  const bytes = fs.readFileSync(await download.path());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK');
  assert.ok(bytes.includes(Buffer.from('notes')), 'the SDK names the collection');
  const [rust] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: /Download Rust SDK/ }).click()]);
  assert.equal(rust.suggestedFilename(), 'basalt-sdk-rust.zip');
  await page.getByText('basalt sdk generate').scrollIntoViewIfNeeded();
  await shot(page, '49-api-preview-sdk');
});

test('personal data: export downloads JSON, purge removes the user from the grid', async () => {
  await page.getByRole('link', { name: 'users' }).first().click();
  const row = page.getByRole('row', { name: /carol@example.com/ });
  await row.getByRole('button', { name: /Manage user/ }).click();
  const dialog = page.locator('dialog[open]');
  const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Export data' }).click()]);
  assert.match(download.suggestedFilename(), /^users-.+\.json$/);
  const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.equal(exported.record.email, 'carol@example.com');
  assert.equal(exported.related.notes.length, 2);

  await dialog.getByRole('button', { name: 'Delete user and their data…' }).click();
  const confirm = page.getByRole('dialog', { name: /Delete carol@example.com/ });
  const go = confirm.getByRole('button', { name: 'Delete user and data' });
  await confirm.locator('#purge-confirm').fill('dave@example.com');
  assert.equal(await go.isDisabled(), true);
  await confirm.locator('#purge-confirm').fill('carol@example.com');
  await shot(page, '50-purge-confirm');
  await go.click();
  await dialog.getByRole('heading', { name: 'carol@example.com was deleted' }).waitFor();
  await dialog.getByText('2 deleted').waitFor();
  await shot(page, '51-purge-summary');
  await page.keyboard.press('Escape');
  await row.waitFor({ state: 'detached' });
  await page.getByRole('row', { name: /dave@example.com/ }).waitFor();
  const left = (await call('GET', '/api/collections/users/records')).body.items.map((u) => u.email);
  assert.deepEqual(left, ['dave@example.com']);
  assert.equal((await call('GET', '/api/collections/notes/records')).body.totalItems, 2);
});

test('dark mode: logs, detail, settings, backups, user dialog', async () => {
  await page.getByRole('button', { name: /Color theme/ }).click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.getByRole('link', { name: 'Logs' }).click();
  await page.locator('#log-status').selectOption('');
  await page.locator('.logs tbody tr[aria-label]').first().waitFor();
  await shot(page, '52-logs-dark');
  await page.locator('.logs tbody tr[aria-label]').first().click();
  await page.locator('dialog[open]').getByText('data.status').waitFor();
  await shot(page, '53-log-detail-dark');
  await page.keyboard.press('Escape');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'Backups' }).click();
  await page.locator('#s-backupsCron').waitFor();
  await page.getByRole('button', { name: 'Create backup' }).click();
  await page.getByRole('row', { name: /\.zip/ }).first().waitFor();
  await shot(page, '54-settings-backups-dark');
  await page.getByRole('link', { name: 'File storage' }).click();
  await shot(page, '55-settings-storage-dark');
  await page.getByRole('link', { name: 'users' }).first().click();
  await page.getByRole('row', { name: /dave@example.com/ }).getByRole('button', { name: /Manage user/ }).click();
  await page.locator('dialog[open]').getByRole('heading', { name: 'Personal data' }).waitFor();
  await shot(page, '56-user-dialog-dark');
  await page.keyboard.press('Escape');
});

test('logging off: the logs page says so and links to the settings', async () => {
  assert.equal((await call('PATCH', '/api/settings', { logs: { maxDays: 0 } })).status, 200);
  await page.getByRole('link', { name: 'Logs' }).click();
  await page.getByRole('heading', { name: 'Request logging is off' }).waitFor();
  await shot(page, '57-logs-off-dark');
  await page.getByRole('link', { name: 'Turn it on in the settings' }).click();
  await page.locator('#s-logsMaxDays').waitFor();
  assert.equal(await page.locator('#s-logsMaxDays').inputValue(), '0');
});

test('no console errors', () => {
  assert.deepEqual(consoleErrors.filter((e) => !/Failed to load resource/.test(e)), []);
});
