// Secrets travel wrapped so that JSON.stringify, util.inspect and template strings print [REDACTED].
const kValue = Symbol('kars.redacted');
const REDACTED = '[REDACTED]';

export class Redacted<T> {
  readonly #value: T;
  constructor(value: T) {
    this.#value = value;
  }
  /** The only way to the secret; grep for `.reveal()` to audit every use. */
  reveal(): T {
    return this.#value;
  }
  toJSON(): string {
    return REDACTED;
  }
  toString(): string {
    return REDACTED;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
  get [kValue](): string {
    return REDACTED;
  }
}

export const redact = <T>(value: T): Redacted<T> => new Redacted(value);
