// Hostile-input table in the style of noble-hashes test/utils.ts TYPE_TEST: values that are not byte arrays but look
// a little like one. Every public entry taking bytes must throw TypeError for each.
export const NOT_BYTES: ReadonlyArray<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['string', 'abc'],
  ['number', 1],
  ['NaN', Number.NaN],
  ['bigint', 1n],
  ['boolean', true],
  ['plain array', [1, 2, 3]],
  ['plain object', { 0: 1, length: 1 }],
  ['spoofed constructor name', { constructor: { name: 'Uint8Array' } }],
  ['Uint16Array', new Uint16Array(4)],
  ['Int8Array', new Int8Array(4)],
  ['DataView', new DataView(new ArrayBuffer(4))],
  ['ArrayBuffer', new ArrayBuffer(4)],
  ['Proxy over object', new Proxy({}, {})],
  ['function', () => new Uint8Array(1)],
  ['symbol', Symbol('x')],
];

export const NOT_NON_NEGATIVE_INTEGERS: ReadonlyArray<[string, unknown]> = [
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['negative', -1],
  ['fraction', 1.5],
  ['unsafe', 2 ** 53],
  ['string', '1'],
  ['bigint', 1n],
  ['null', null],
  ['undefined', undefined],
];
