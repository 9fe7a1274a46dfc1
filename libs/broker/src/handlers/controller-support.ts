export const NOT_CONTROLLER_MESSAGE = 'this broker is not the controller';

export const NOT_AUTHORIZED = 'not authorized: this needs ALTER on the cluster';

export function byTopic<T extends { topic: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    let list = out.get(item.topic);
    if (list === undefined) out.set(item.topic, (list = []));
    list.push(item);
  }
  return out;
}
