import assert from 'node:assert/strict';
import { KafkaProtocolError } from '@tributary/protocol';

/** An assert.rejects check: the promise failed with Kafka's error `code`. */
export const refusedWith = (code: number) => (err: unknown) => {
  assert.ok(err instanceof KafkaProtocolError, String(err));
  assert.equal(err.code, code, err.message);
  return true;
};
