import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { startConsole, tokenSha256, type RunningConsole } from '@tributary/console';
import { startBroker, type BrokerProcess } from '../support/broker-process';
import { apiClient, cluster, launchChromium } from './console-support';

// The dashboard in headless Chromium against a console with bearer tokens: it asks for a
// token on the first 401, keeps it in sessionStorage, sends it on every call, shows a 403
// as the page's error, and forgets it on request.
const VIEWER = crypto.randomBytes(32).toString('hex');
const ADMIN = crypto.randomBytes(32).toString('hex');
let broker: BrokerProcess;
let console_: RunningConsole;
let context: BrowserContext;
let page: Page;

before(async () => {
  broker = await startBroker();
  const token = (name: string, role: 'viewer' | 'admin', value: string) => ({
    name,
    role,
    sha256: Buffer.from(tokenSha256(value), 'hex'),
  });
  console_ = await startConsole({
    clusters: [cluster('dc1-a', broker.bootstrap, 'dc1')],
    security: { tokens: [token('alice', 'viewer', VIEWER), token('root', 'admin', ADMIN)] },
    host: '127.0.0.1',
    port: 0,
    logLevels: ['error'],
  });
  context = await launchChromium();
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15000);
});

after(async () => {
  await context?.close();
  await console_?.close();
  await broker?.stop();
});

async function giveToken(token: string): Promise<void> {
  await page.locator('#token-prompt #token-input').fill(token);
  await page.click('#token-submit');
}

test('the dashboard asks for a token, keeps it for the tab and sends it on every call', async () => {
  await page.goto(console_.url);
  const prompt = page.locator('#token-prompt');
  await prompt.waitFor();
  assert.match(await prompt.innerText(), /this console needs a bearer token/);
  assert.equal(await page.locator('#token-prompt').count(), 1, 'one prompt however many calls were refused');
  await giveToken('not-a-token-of-this-console');
  await page
    .locator('#token-prompt', { hasText: 'the bearer token is not one this console knows' })
    .waitFor();
  await giveToken(VIEWER);
  await page.locator('#topology svg text.title', { hasText: 'dc1-a' }).waitFor();
  await page.locator('#clusters tbody tr .badge.ok').waitFor();
  assert.equal(await page.evaluate("sessionStorage.getItem('tributary.console.token')"), VIEWER);
  assert.equal(await page.locator('#forget-token').isVisible(), true);
  assert.equal(await page.locator('#token-prompt').count(), 0);
});

test('a viewer sees a refused change as the page’s error; after "Forget token" an admin creates the topic', async () => {
  await page.goto(`${console_.url}/#/c/dc1-a/topics`);
  await page.locator('h1', { hasText: 'Topics' }).waitFor();
  await page.locator('#new-topic').click();
  await page.fill('#topic-name', 'audit');
  await page.click('#create-topic');
  assert.equal(
    await page.locator('#create-error .alert').innerText(),
    'POST /api/clusters/dc1-a/topics needs the admin role; the token "alice" has the viewer role',
  );
  assert.equal((await apiClient(console_.url, ADMIN)('GET', '/api/clusters/dc1-a/topics/audit')).status, 404);

  await page.click('#forget-token');
  await page.locator('#token-prompt').waitFor();
  assert.equal(await page.evaluate("sessionStorage.getItem('tributary.console.token')"), null);
  await giveToken(ADMIN);
  await page.locator('h1', { hasText: 'Topics' }).waitFor();
  await page.locator('#new-topic').click();
  await page.fill('#topic-name', 'audit');
  await page.click('#create-topic');
  await page.locator('h1', { hasText: 'audit' }).waitFor();
  assert.equal(
    (await apiClient(console_.url, VIEWER)('GET', '/api/clusters/dc1-a/topics/audit')).status,
    200,
  );
});
