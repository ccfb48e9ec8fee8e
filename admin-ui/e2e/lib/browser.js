// Debian's chromium, driven headless by playwright-core (no browser download).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.resolve(here, '../artifacts');

export async function launch() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** Saves a full-window screenshot as artifacts/NAME.png. */
export async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

/**
 * A page of a new browser context (1366 px wide, light theme unless `options` say
 * otherwise) signed in to the dashboard at `url`; console and page errors land in
 * `consoleErrors`.
 */
export async function signedInPage(browser, url, { email, password, consoleErrors, permissions, ...options }) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, colorScheme: 'light', ...options });
  if (permissions) await context.grantPermissions(permissions, { origin: url });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${url}/_/`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Welcome to Basalt' }).waitFor();
  return page;
}
