import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { userPrincipal } from '../security/principal';
import { Session } from '../security/session';
import { ClientQuotaManager } from './client-quota-manager';
import {
  entityPath,
  MatchType,
  parseEntityPath,
  quotaFilter,
  validateEntity,
  validateQuotaValue,
  type QuotaEntity,
  type QuotaValues,
} from './quota-entity';
import { Rate, TokenBucket } from './rate';

const WINDOW = { samples: 11, windowMs: 1000 };

function session(user: string | null): Session {
  const s = new Session('PLAINTEXT', '127.0.0.1');
  if (user !== null) s.authenticated(userPrincipal(user));
  return s;
}

function state(entries: [QuotaEntity, QuotaValues][]): Map<string, QuotaValues> {
  return new Map(entries.map(([e, v]) => [entityPath(e), v]));
}

describe('Rate (Kafka: a WindowedSum over quota.window.num samples)', () => {
  test('counts missing windows as empty until samples - 1 have passed', () => {
    const r = new Rate(WINDOW);
    r.record(1000, 0);
    assert.equal(r.windowSizeMs(0), 10_000);
    assert.equal(r.measure(0), 100);
    r.record(1000, 2500);
    // 2.5 s elapsed: two whole windows, eight assumed empty.
    assert.equal(r.windowSizeMs(2500), 10_500);
    assert.equal(r.measure(2500), 2000 / 10.5);
  });

  test('after samples windows it is the elapsed time since the oldest sample, and old samples go', () => {
    const r = new Rate(WINDOW);
    for (let t = 0; t <= 20_000; t += 100) r.record(100, t);
    const rate = r.measure(20_000);
    assert.ok(Math.abs(rate - 1000) < 20, `about 1000 per second, got ${rate}`);
    assert.ok(r.windowSizeMs(20_000) >= 10_000 && r.windowSizeMs(20_000) <= 12_000);
    // Nothing recorded for samples x window: every sample is obsolete.
    assert.equal(r.measure(40_000), 0);
  });

  test('a token bucket holds samples x window x quota and refills at the quota', () => {
    const b = new TokenBucket(WINDOW);
    assert.equal(b.measure(2, 100_000), 22);
    b.record(2, 30, 100_000);
    assert.equal(b.measure(2, 100_000), -8);
    assert.equal(b.measure(2, 104_000), 0);
  });
});

describe('ClientQuotaManager: which quota applies and who shares it', () => {
  const order: [QuotaEntity, number][] = [
    [{ user: 'alice', clientId: 'app' }, 1],
    [{ user: 'alice', clientId: null }, 2],
    [{ user: 'alice' }, 3],
    [{ user: null, clientId: 'app' }, 4],
    [{ user: null, clientId: null }, 5],
    [{ user: null }, 6],
    [{ clientId: 'app' }, 7],
    [{ clientId: null }, 8],
  ];

  test("follows Kafka's precedence, the most specific entity first", () => {
    for (let first = 0; first < order.length; first++) {
      const m = new ClientQuotaManager('producer_byte_rate', WINDOW);
      m.update(state(order.slice(first).map(([e, v]) => [e, { producer_byte_rate: v * 1000 }])));
      const max = m.maxValueInQuotaWindow(session('alice'), 'app', 0);
      assert.equal(max, order[first][1] * 1000 * 10, `entity #${first + 1} applies`);
    }
  });

  test('a quota of another key, or of another client, does not apply', () => {
    const m = new ClientQuotaManager('producer_byte_rate', WINDOW);
    m.update(state([[{ clientId: 'other' }, { producer_byte_rate: 100 }]]));
    assert.equal(m.enabled, true);
    assert.equal(m.recordAndGetThrottleTimeMs(session(null), 'app', 1e9, 0), 0);
    m.update(state([[{ clientId: 'app' }, { consumer_byte_rate: 100 }]]));
    assert.equal(m.enabled, false);
  });

  test('clients of one client-id share its quota; a default applies to each client-id apart', () => {
    const m = new ClientQuotaManager('producer_byte_rate', WINDOW);
    m.update(
      state([
        [{ clientId: 'shared' }, { producer_byte_rate: 1000 }],
        [{ clientId: null }, { producer_byte_rate: 1000 }],
      ]),
    );
    // 10 s of quota at once is within it (the window's empty past), more is not.
    assert.equal(m.recordAndGetThrottleTimeMs(session('a'), 'shared', 10_000, 0), 0);
    const throttle = m.recordAndGetThrottleTimeMs(session('b'), 'shared', 5000, 0);
    assert.equal(throttle, 5000, '(15000/10 - 1000) / 1000 x 10 s');
    assert.equal(m.recordAndGetThrottleTimeMs(session('a'), 'x', 10_000, 0), 0);
    assert.equal(m.recordAndGetThrottleTimeMs(session('a'), 'y', 10_000, 0), 0);
  });

  test('a user quota is shared by all of that user’s clients; users are told apart by principal', () => {
    const m = new ClientQuotaManager('consumer_byte_rate', WINDOW);
    m.update(state([[{ user: null }, { consumer_byte_rate: 100 }]]));
    assert.equal(m.recordAndGetThrottleTimeMs(session('alice'), 'a', 1000, 0), 0);
    assert.ok(m.recordAndGetThrottleTimeMs(session('alice'), 'b', 1000, 0) > 0);
    assert.equal(m.recordAndGetThrottleTimeMs(session('bob'), 'a', 1000, 0), 0);
    // Unauthenticated connections are User:ANONYMOUS.
    assert.equal(m.recordAndGetThrottleTimeMs(session(null), 'a', 1000, 0), 0);
  });

  test('a changed quota applies to the measurement so far; a removed one stops throttling', () => {
    const m = new ClientQuotaManager('producer_byte_rate', WINDOW);
    const s = session(null);
    m.update(state([[{ clientId: 'app' }, { producer_byte_rate: 1000 }]]));
    assert.equal(m.recordAndGetThrottleTimeMs(s, 'app', 10_000, 0), 0);
    m.update(state([[{ clientId: 'app' }, { producer_byte_rate: 500 }]]));
    assert.equal(m.recordAndGetThrottleTimeMs(s, 'app', 0, 0), 10_000);
    m.update(new Map());
    assert.equal(m.recordAndGetThrottleTimeMs(s, 'app', 1e9, 0), 0);
  });

  test('a strict mutation quota refuses once the bucket is empty; a permissive one throttles', () => {
    const m = new ClientQuotaManager('controller_mutation_rate', WINDOW);
    m.update(state([[{ clientId: 'admin' }, { controller_mutation_rate: 1 }]]));
    const strict = m.mutationQuota(session(null), 'admin', true);
    assert.equal(strict.record(20), true, 'the burst is 11 tokens; it may go below zero');
    assert.equal(strict.record(1), false);
    assert.ok(strict.throttleTimeMs > 8000 && strict.throttleTimeMs <= 9000, `${strict.throttleTimeMs}`);
    const permissive = m.mutationQuota(session(null), 'admin', false);
    assert.equal(permissive.record(1), true);
    assert.ok(permissive.throttleTimeMs > 9000);
  });
});

describe('quota entities and filters', () => {
  test("entity paths are Kafka's config paths, names sanitized", () => {
    const cases: [QuotaEntity, string][] = [
      [{ user: 'alice', clientId: 'app' }, 'users/alice/clients/app'],
      [{ user: null }, 'users/<default>'],
      [{ clientId: null }, 'clients/<default>'],
      [{ user: 'CN=a b/c', clientId: '<default>' }, 'users/CN%3Da%20b%2Fc/clients/%3Cdefault%3E'],
    ];
    for (const [entity, path] of cases) {
      assert.equal(entityPath(entity), path);
      assert.deepEqual(parseEntityPath(path), entity);
    }
  });

  test("entities and values are refused with Kafka's messages", () => {
    assert.equal(validateEntity([]), 'Invalid empty client quota entity');
    assert.equal(
      validateEntity([{ entityType: 'group', entityName: 'g' }]),
      'Unhandled client quota entity type: group',
    );
    assert.equal(validateEntity([{ entityType: 'user', entityName: '' }]), 'Empty user not supported');
    assert.match(
      validateEntity([
        { entityType: 'user', entityName: 'a' },
        { entityType: 'user', entityName: 'b' },
      ]) as string,
      /duplicate entity entry user/,
    );
    assert.deepEqual(
      validateEntity([
        { entityType: 'client-id', entityName: null },
        { entityType: 'user', entityName: 'a' },
      ]),
      { user: 'a', clientId: null },
    );
    assert.equal(validateQuotaValue('producer_byte_rate', 1024), null);
    assert.equal(validateQuotaValue('request_percentage', 12.5), null);
    assert.equal(
      validateQuotaValue('producer_byte_rate', 10.5),
      'producer_byte_rate cannot be a fractional value.',
    );
    assert.equal(
      validateQuotaValue('consumer_byte_rate', 0),
      'Quota consumer_byte_rate must be greater than 0',
    );
    assert.equal(validateQuotaValue('bytes', 1), 'Invalid configuration key bytes');
  });

  test('filters match exact names, defaults, any name, strictly or not', () => {
    const entities: QuotaEntity[] = [
      { user: 'alice' },
      { user: 'alice', clientId: 'app' },
      { user: null, clientId: null },
      { clientId: 'app' },
    ];
    const run = (
      components: { entityType: string; matchType: number; match: string | null }[],
      strict: boolean,
    ) => {
      const f = quotaFilter(components, strict);
      assert.equal(typeof f, 'function');
      return entities.filter(f as (e: QuotaEntity) => boolean).map(entityPath);
    };
    const exactAlice = { entityType: 'user', matchType: MatchType.EXACT, match: 'alice' };
    assert.deepEqual(run([exactAlice], false), ['users/alice', 'users/alice/clients/app']);
    assert.deepEqual(run([exactAlice], true), ['users/alice']);
    assert.deepEqual(run([{ entityType: 'user', matchType: MatchType.DEFAULT, match: null }], false), [
      'users/<default>/clients/<default>',
    ]);
    assert.deepEqual(run([{ entityType: 'client-id', matchType: MatchType.SPECIFIED, match: null }], false), [
      'users/alice/clients/app',
      'clients/app',
    ]);
    assert.deepEqual(run([], false), entities.map(entityPath));
    assert.deepEqual(run([], true), []);
    assert.deepEqual(quotaFilter([{ entityType: 'topic', matchType: 0, match: 'x' }], false), {
      unsupported: true,
      message: 'Unsupported entity type topic',
    });
    assert.deepEqual(quotaFilter([{ entityType: 'user', matchType: 0, match: null }], false), {
      unsupported: false,
      message: 'Request specified MATCH_TYPE_EXACT, but set match string to null.',
    });
  });
});
