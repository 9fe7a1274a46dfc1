import { randomBytes } from 'node:crypto';

/** A fresh seed for a run that was given none: 8 hex digits, short enough to type back in. */
export function newSeed(): string {
  return randomBytes(4).toString('hex');
}

/**
 * A seeded pseudo-random generator (mulberry32 over an FNV-1a hash of the seed). Every
 * decision of the nemesis is drawn from one, in one order, so a seed replays its plan.
 */
export class Prng {
  private state: number;

  constructor(readonly seed: string) {
    let h = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
    this.state = h >>> 0;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[Math.floor(this.next() * items.length)];
  }

  /** One of the choices, each as likely as its weight. */
  weighted<T>(choices: readonly (readonly [T, number])[]): T {
    const total = choices.reduce((n, [, w]) => n + w, 0);
    let r = this.next() * total;
    for (const [choice, w] of choices) {
      r -= w;
      if (r < 0) return choice;
    }
    return choices[choices.length - 1][0];
  }
}
