import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeValue } from '../src/codec.js';
import { readNumber, writeNumber } from '../src/providers/number-codec.js';
import { schemaNames } from '../src/providers/postgres/schema-names.js';
import { tablesSql } from '../src/providers/postgres/tables-sql.js';
import { dropSchema, freshSchemaName, testPool } from './support/postgres.js';

// incr does its arithmetic in SQL, on the bytes the app stored: the SQL codec must read every MessagePack
// number exactly as number-codec.ts does, and write exactly the bytes writeNumber writes. Doubles are
// compared bit for bit (float8send), not through their text form.
const pool = testPool(2);
const schema = freshSchemaName('numbers');
const names = schemaNames('shard_sessions', schema);

beforeAll(async () => {
  await pool.query(tablesSql(names));
});

afterAll(async () => {
  await dropSchema(pool, schema);
  await pool.end();
});

/** The bits of each number SQL reads from `values` (null where it finds no number). */
async function sqlRead(values: Uint8Array[]): Promise<(Buffer | null)[]> {
  const { rows } = await pool.query(
    `SELECT float8send(${names.fn('number_v1')}(v)) AS bits FROM unnest($1::bytea[]) WITH ORDINALITY AS u(v, i) ORDER BY i`,
    [values.map((value) => Buffer.from(value))],
  );
  return rows.map((row: { bits: Buffer | null }) => row.bits);
}

/** The bytes SQL writes for each number. Numbers travel as their shortest text, exact both ways (-0 too). */
async function sqlWrite(numbers: number[]): Promise<Buffer[]> {
  const { rows } = await pool.query(
    `SELECT ${names.fn('encode_number_v1')}(n) AS bytes FROM unnest($1::float8[]) WITH ORDINALITY AS u(n, i) ORDER BY i`,
    [numbers.map((n) => (Object.is(n, -0) ? '-0' : String(n)))],
  );
  return rows.map((row: { bytes: Buffer }) => row.bytes);
}

const bitsOf = (n: number) => {
  const buffer = Buffer.alloc(8);
  buffer.writeDoubleBE(n);
  return buffer;
};

const float32 = (n: number) => {
  const buffer = Buffer.alloc(5);
  buffer[0] = 0xca;
  buffer.writeFloatBE(n, 1);
  return buffer;
};

const edges = [
  0,
  -0,
  1,
  127,
  128,
  255,
  256,
  65_535,
  65_536,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32_768,
  -32_769,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 32 - 1,
  2 ** 32,
  -(2 ** 31) - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  0.1,
  0.25,
  -1.5,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072014e-308,
  5e-324 * 3,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];

describe("the SQL codec of incr's numbers", () => {
  it('reads every MessagePack number form encodeValue and writeNumber produce, bit for bit', async () => {
    const values = [...edges.map((n) => encodeValue(n)), ...edges.map((n) => writeNumber(n))];
    const read = await sqlRead(values);
    for (const [i, value] of values.entries()) {
      expect(read[i], Buffer.from(value).toString('hex')).toEqual(bitsOf(readNumber(value) as number));
    }
  });

  it('reads float32 values as readNumber does, including subnormals and infinities', async () => {
    const samples = [
      0,
      -0,
      1.5,
      -2.75,
      3.4028234663852886e38,
      1.401298464324817e-45,
      1e-40,
      Infinity,
      -Infinity,
    ];
    const values = samples.map(float32);
    const read = await sqlRead(values);
    for (const [i, value] of values.entries()) expect(read[i]).toEqual(bitsOf(readNumber(value) as number));
  });

  it('finds no number where readNumber finds none', async () => {
    const values = [
      new Uint8Array(0),
      encodeValue('1'),
      encodeValue(true),
      encodeValue(null),
      encodeValue(2n ** 40n),
      encodeValue(-(2n ** 40n)),
      encodeValue([1]),
      encodeValue({ n: 1 }),
      encodeValue(new Date(5)),
      Uint8Array.of(1, 2, 3),
      Uint8Array.of(0xcc),
      Uint8Array.of(0xcd, 1),
      Uint8Array.of(0xce, 1, 2, 3, 4, 5),
      Uint8Array.of(0xcb, 0, 0),
      Uint8Array.of(0xe0, 0),
    ];
    for (const value of values) expect(readNumber(value)).toBeUndefined();
    expect(await sqlRead(values)).toEqual(values.map(() => null));
  });

  it('writes the bytes writeNumber writes, and reads back the same number, for random doubles', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(fc.double({ noNaN: true }), fc.integer(), fc.integer({ min: -(2 ** 33), max: 2 ** 33 })),
          { minLength: 1, maxLength: 200 },
        ),
        async (numbers) => {
          const written = await sqlWrite(numbers);
          for (const [i, n] of numbers.entries()) {
            expect(written[i], String(n)).toEqual(Buffer.from(writeNumber(n)));
          }
          // (encodeValue writes -0 as the integer 0: what JavaScript reads back is the reference.)
          const encoded = numbers.map((n) => encodeValue(n));
          const read = await sqlRead(encoded);
          for (const [i, value] of encoded.entries()) {
            expect(read[i], String(numbers[i])).toEqual(bitsOf(readNumber(value) as number));
          }
        },
      ),
      { numRuns: 30, seed: Number(process.env.FC_SEED ?? 20_261_127) },
    );
  });
});
