import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ALL_APIS } from './apis';
import { codecFor } from './codec';
import { KafkaProtocolError } from './errors';
import { decodeRequestBody, decodeRequestHeader, encodeRequest } from './headers';
import { Reader } from './primitives/reader';
import { parseVersions } from './primitives/versions';
import { prng } from './records/test-support';

/** Every (API, version) this project decodes, each with a well-formed request of defaults. */
function validFrames(): { name: string; frame: Buffer }[] {
  const out: { name: string; frame: Buffer }[] = [];
  for (const api of ALL_APIS) {
    const range = parseVersions(api.versions);
    for (let v = range.min; v <= range.max; v++) {
      const body = codecFor(api, v).request.defaults();
      out.push({
        name: `${api.name} v${v}`,
        frame: Buffer.concat(encodeRequest(api, v, 1, 'fuzz', body)).subarray(4),
      });
    }
  }
  return out;
}

function decodeFrame(frame: Buffer): void {
  const r = new Reader(frame);
  const header = decodeRequestHeader(r);
  const api = ALL_APIS.find((a) => a.apiKey === header.apiKey);
  if (api === undefined) throw KafkaProtocolError.invalidRequest(`unknown API key ${header.apiKey}`);
  decodeRequestBody(api, header.apiVersion, r);
}

test('request decoders: mutated and random frames throw only KafkaProtocolError', () => {
  const seed = Number(process.env.FUZZ_SEED ?? 0xf00d);
  const rand = prng(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const frames = validFrames();
  assert.ok(frames.length > 150, `every version of every API is covered (${frames.length})`);
  for (const { name, frame } of frames) assert.doesNotThrow(() => decodeFrame(frame), name);

  let rejected = 0;
  const total = 20000;
  const started = Date.now();
  for (let i = 0; i < total; i++) {
    const { name, frame } = frames[i % frames.length];
    let mutant: Buffer;
    if (i % 10 === 0) {
      mutant = randomBytes(int(64));
    } else {
      mutant = Buffer.from(frame);
      for (let m = 1 + int(3); m > 0; m--) {
        const kind = int(4);
        if (kind === 0 && mutant.length > 0) mutant[int(mutant.length)] = int(256);
        else if (kind === 1) mutant = mutant.subarray(0, int(mutant.length + 1));
        else if (kind === 2) mutant = Buffer.concat([mutant, randomBytes(1 + int(16))]);
        // Lengths that lie: a count or a size near the start of the body set to huge or negative.
        else if (mutant.length >= 18)
          mutant.writeInt32BE(int(2) ? 0x7fffff00 : -2 - int(100), 10 + int(mutant.length - 14));
      }
    }
    try {
      decodeFrame(mutant);
    } catch (err) {
      if (!(err instanceof KafkaProtocolError)) {
        assert.fail(`${name} mutant ${i} (seed ${seed}) threw ${String(err)}: ${mutant.toString('hex')}`);
      }
      rejected++;
    }
  }
  assert.ok(rejected > total / 4, `many mutants are refused (${rejected} of ${total})`);
  assert.ok(Date.now() - started < 30_000, 'no mutant takes long');
});
