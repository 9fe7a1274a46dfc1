import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { Admin, Consumer, Producer } from '@tributary/client';
import { startConsole, type RunningConsole } from '@tributary/console';
import { ROOT, startBroker, tempDir, type BrokerProcess } from '../support/broker-process';
import { cluster, launchChromium } from './console-support';

// Screenshots go to docs/ when asked (UPDATE_SCREENSHOTS=1), else to a scratch directory: a test run leaves the tree as it was.
const SHOTS = process.env.UPDATE_SCREENSHOTS ? path.join(ROOT, 'docs') : tempDir('screenshots');

// The dashboard clicked through in headless Chromium against two broker processes: create a
// topic, read its records, see a group's lag, reset its offsets (refused while it has a
// member), alter a config, delete a topic; screenshots go to docs/.
let dc1: BrokerProcess;
let dc2: BrokerProcess;
let console_: RunningConsole;
let context: BrowserContext;
let page: Page;
let traffic: NodeJS.Timeout | undefined;
const producers: Producer[] = [];
const consumers: Consumer[] = [];

before(async () => {
  const fast = ['--set', 'group.initial.rebalance.delay.ms=0'];
  [dc1, dc2] = await Promise.all([startBroker({ extraArgs: fast }), startBroker({ extraArgs: fast })]);
  console_ = await startConsole({
    clusters: [cluster('dc1-a', dc1.bootstrap, 'dc1'), cluster('dc2', dc2.bootstrap, 'dc2')],
    host: '127.0.0.1',
    port: 0,
    logLevels: ['error'],
  });
  for (const b of [dc1, dc2]) {
    const admin = new Admin({ bootstrapServers: b.bootstrap });
    await admin.createTopics([{ name: 'clicks', numPartitions: 2 }]);
    await admin.close();
    producers.push(new Producer({ bootstrapServers: b.bootstrap }));
  }
  // Steady traffic, so the throughput charts have something to draw.
  let n = 0;
  traffic = setInterval(() => {
    producers.forEach((p, i) => {
      void p
        .send({
          topic: 'clicks',
          messages: Array.from({ length: 20 + i * 15 }, () => ({ value: `click ${n++}` })),
        })
        .catch(() => undefined);
    });
  }, 250);
  context = await launchChromium();
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15000);
});

after(async () => {
  clearInterval(traffic);
  await Promise.all(consumers.map((c) => c.close()));
  await context?.close();
  await Promise.all(producers.map((p) => p.close()));
  await console_?.close();
  await Promise.all([dc1?.stop(), dc2?.stop()]);
});

async function shot(name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `dashboard-${name}.png`), fullPage: true });
}

test('overview: both clusters on the topology map, live throughput, no mirror said plainly', async () => {
  await page.goto(console_.url);
  await page.locator('#topology svg text.title', { hasText: 'dc1-a' }).waitFor();
  await page.locator('#topology svg text.title', { hasText: 'dc2' }).waitFor();
  assert.equal(await page.locator('#mirror-state').innerText(), 'no mirror configured');
  assert.match(
    await page.locator('#mirror-note').innerText(),
    /^No mirror is configured: this console has no replicator attached/,
  );
  await page.locator('#clusters tbody tr').nth(1).locator('.badge.ok').waitFor();
  // Three samples give two rates: the chart has lines for both clusters.
  // Browser-side expressions as text: the tests compile without the DOM's types. Five points
  // per line (about ten seconds of samples) so the screenshot shows lines, not dots.
  await page.waitForFunction(
    "[...document.querySelectorAll('#chart-throughput polyline')].filter((l) => l.getAttribute('points').split(' ').length >= 5).length === 2",
    undefined,
    { timeout: 60000 },
  );
  await page.waitForFunction(
    "Number(document.querySelector('#clusters tbody tr td:last-child')?.textContent?.replace(/,/g, '')) > 0",
  );
  await shot('overview');
});

test('create a topic from the topics page, then see it with its partitions', async () => {
  await page.locator('#sidebar a', { hasText: 'Topics' }).first().click();
  await page.locator('h1', { hasText: 'Topics' }).waitFor();
  await page.locator('#new-topic').click();
  await page.fill('#topic-name', 'bad name');
  await page.click('#create-topic');
  assert.match(
    await page.locator('#create-error .alert').innerText(),
    /^body\.name must be 1 to 249 letters/,
  );
  await page.fill('#topic-name', 'orders');
  await page.fill('#topic-partitions', '3');
  await page.fill('#topic-configs', 'retention.ms=86400000');
  await page.click('#create-topic');
  await page.locator('h1', { hasText: 'orders' }).waitFor();
  await page.locator('#partitions tbody tr').nth(2).waitFor();
  assert.equal(await page.locator('#partitions tbody tr').count(), 3);
  assert.deepEqual(await page.locator('#partitions tbody tr').first().locator('td').allInnerTexts(), [
    '0',
    '1',
    '1',
    '1',
    '0',
    '0',
    '0',
    'records',
  ]);
  const retention = page.locator('input[data-config="retention.ms"]');
  assert.equal(await retention.inputValue(), '86400000');
});

test('records produced with our client show in the record viewer with keys, values and headers', async () => {
  const producer = new Producer({ bootstrapServers: dc1.bootstrap });
  await producer.send({
    topic: 'orders',
    messages: Array.from({ length: 30 }, (_, i) => ({
      key: `order-${i}`,
      value: JSON.stringify({ id: i, amount: 10 + i }),
      headers: [{ key: 'source', value: 'web' }],
      partition: 0,
    })),
  });
  await producer.close();
  await page.locator('#record-count', { hasText: '30' }).waitFor();
  await page.click('#browse-records');
  await page.locator('h1', { hasText: 'Records' }).waitFor();
  await page.locator('#records tbody tr td', { hasText: 'order-0' }).waitFor();
  assert.equal(await page.locator('#records tbody tr').count(), 30);
  const first = await page.locator('#records tbody tr').first().locator('td').allInnerTexts();
  assert.equal(first[0], '0');
  assert.equal(first[2], 'order-0');
  assert.equal(first[3], '{"id":0,"amount":10}');
  assert.equal(first[4], 'source=web');
  await page.fill('#offset', '25');
  await page.click('#read-records');
  await page.locator('#records tbody tr').first().locator('td', { hasText: 'order-25' }).waitFor();
  assert.equal(await page.locator('#records tbody tr').count(), 5);
  assert.match(
    await page.locator('#range').innerText(),
    /log start 0, log end 30\. Showing offsets 25 to 29\./,
  );
  await page.fill('#offset', '0');
  await page.selectOption('#limit', '20');
  await page.click('#read-records');
  await page.locator('#records tbody tr').nth(19).waitFor();
  await shot('records');
});

test('a group with lag: reset refused while it has a member, then reset to earliest', async () => {
  const consumer = new Consumer({
    bootstrapServers: dc1.bootstrap,
    groupId: 'billing',
    autoCommit: false,
    autoOffsetReset: 'earliest',
    clientId: 'billing-service',
  });
  consumers.push(consumer);
  consumer.subscribe(['orders']);
  let handled = 0;
  let enough!: () => void;
  const tenCommitted = new Promise<void>((resolve) => (enough = resolve));
  const running = consumer.run({
    eachMessage: async (m) => {
      if (m.offset >= 10) return;
      await consumer.commit([{ topic: m.topic, partition: m.partition, offset: m.offset + 1 }]);
      if (++handled === 10) enough();
    },
  });
  await tenCommitted;

  await page.locator('#sidebar a', { hasText: 'Consumer groups' }).first().click();
  await page.locator('#groups tbody a', { hasText: 'billing' }).click();
  await page.locator('#total-lag', { hasText: '20' }).waitFor();
  await page.locator('#members').getByRole('cell', { name: 'billing-service', exact: true }).waitFor();
  await page.selectOption('#reset-to', 'earliest');
  await page.click('#reset-apply');
  assert.equal(
    await page.locator('#reset-result .alert').innerText(),
    'consumer group "billing" is Stable with 1 member: stop its consumers before resetting its offsets',
  );

  await consumer.stop();
  await running;
  await consumer.close();
  consumers.length = 0;
  await page.locator('#members tbody td', { hasText: 'No active members' }).waitFor();
  await page.locator('#summary .badge', { hasText: 'Empty' }).waitFor();
  await page.waitForFunction("document.querySelectorAll('#chart polyline').length === 1");
  await shot('group');
  await page.click('#reset-preview');
  await page.locator('#reset-result .alert', { hasText: 'Preview: nothing changed yet.' }).waitFor();
  assert.deepEqual(await page.locator('#reset-result tbody tr').first().locator('td').allInnerTexts(), [
    'orders',
    '0',
    '10',
    '0',
  ]);
  await page.click('#reset-apply');
  await page.locator('#reset-result .alert', { hasText: 'Offsets reset.' }).waitFor();
  await page.locator('#total-lag', { hasText: '30' }).waitFor();
  const partition0 = await page.locator('#offsets tbody tr').first().locator('td').allInnerTexts();
  assert.deepEqual(partition0.slice(0, 5), ['orders', '0', '0', '30', '30']);
});

test('alter a topic config, delete a topic, and the flows page says no mirror is configured', async () => {
  await page.goto(`${console_.url}/#/c/dc1-a/topics/orders`);
  await page.locator('input[data-config="retention.ms"]').fill('3600000');
  await page.locator('button[data-save="retention.ms"]').click();
  await page.locator('#config-message .alert', { hasText: 'Set retention.ms=3600000.' }).waitFor();
  await page.locator('input[data-config="max.message.bytes"]').fill('lots');
  await page.locator('button[data-save="max.message.bytes"]').click();
  await page.locator('#config-message .alert', { hasText: 'INVALID_CONFIG' }).waitFor();
  await page.check('#only-overrides');
  await page.waitForFunction("document.querySelectorAll('#configs tbody tr').length === 1");
  assert.deepEqual(await page.locator('#configs tbody tr td.mono').allInnerTexts(), ['retention.ms']);
  await shot('topic');

  await page.goto(`${console_.url}/#/c/dc1-a/topics`);
  await page.locator('#new-topic').click();
  await page.fill('#topic-name', 'scratch');
  await page.click('#create-topic');
  await page.locator('h1', { hasText: 'scratch' }).waitFor();
  await page.click('#delete-topic');
  await page.locator('#delete-topic', { hasText: 'Confirm: delete topic' }).click();
  await page.locator('h1', { hasText: 'Topics' }).waitFor();
  await page.locator('#topics tbody a', { hasText: 'orders' }).waitFor();
  assert.equal(await page.locator('#topics tbody a', { hasText: 'scratch' }).count(), 0);
  await shot('topics');

  await page.locator('#sidebar a', { hasText: 'Mirror flows' }).click();
  await page.locator('h2', { hasText: 'No mirror is configured' }).waitFor();
  assert.match(await page.locator('#flows').innerText(), /no replicator attached/);
});

test('client quotas on the brokers page: set for a client id, refused when fractional, removed', async () => {
  await page.goto(`${console_.url}/#/c/dc1-a/brokers`);
  await page.locator('#quotas tbody td', { hasText: 'No client quotas' }).waitFor();
  await page.fill('#quota-client-name', 'tributary-mirror-dc1-a');
  await page.selectOption('#quota-key', 'consumer_byte_rate');
  await page.fill('#quota-value', '1048576');
  await page.click('#set-quota button[type=submit]');
  await page.locator('#quota-message .alert', { hasText: 'Set consumer_byte_rate = 1,048,576.' }).waitFor();
  const row = page.locator('#quotas tbody tr').first();
  assert.deepEqual(await row.locator('td').allInnerTexts(), [
    "client-id 'tributary-mirror-dc1-a'",
    '–',
    '1,048,576',
    '–',
    '–',
    'Remove',
  ]);
  await page.selectOption('#quota-user-mode', 'default');
  await page.selectOption('#quota-client-mode', 'none');
  await page.selectOption('#quota-key', 'producer_byte_rate');
  await page.fill('#quota-value', '10.5');
  await page.click('#set-quota button[type=submit]');
  await page
    .locator('#quota-message .alert', { hasText: 'producer_byte_rate cannot be a fractional value' })
    .waitFor();
  await shot('quotas');
  await row.locator('button[data-remove-quota]').click();
  await page.locator('#quotas tbody td', { hasText: 'No client quotas' }).waitFor();
});

test('interactive API docs at /docs', async () => {
  await page.goto(`${console_.url}/docs`);
  await page.locator('.swagger-ui .title', { hasText: 'Tributary console' }).waitFor();
  await page
    .locator('.opblock-summary-path', { hasText: '/api/clusters/{cluster}/topics' })
    .first()
    .waitFor();
  await page.screenshot({ path: path.join(SHOTS, 'api-docs.png') });
});
