/** A configuration value that cannot be used: the message names where it came from and the key. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly key: string,
    problem: string,
  ) {
    super(`${source}: ${key}: ${problem}`);
    this.name = 'ConfigError';
  }
}
