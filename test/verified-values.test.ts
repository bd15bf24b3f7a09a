import { describe, expect, it } from 'vitest';
import { generateSid } from '../src/sid.js';
import { createIdSigner, VERIFIED_GENERATION_SIZE } from '../src/transport/signing.js';
import { VerifiedValues } from '../src/transport/verified-values.js';

// The signer remembers the values that verified, so a repeated cookie costs a Map lookup instead of an HMAC.
// What must hold: a remembered value is exactly one that verified, nothing else is ever accepted through the
// memory, and the memory is bounded.

const value = (i: number) => `${String(i).padStart(43, 'x')}.signature-${i}`;
const sid = (i: number) => String(i).padStart(43, 'x');

describe('VerifiedValues', () => {
  it('holds at most two generations, and keeps the values in use', () => {
    const verified = new VerifiedValues(100);
    let misses = 0;
    for (let i = 1; i <= 1_000; i++) {
      verified.add(value(i), sid(i));
      // Value 0 is used all along (re-added after a miss, as the signer does once it verified it again): a
      // lookup copies it to the young generation while that has room, so it is verified again at most once
      // per turnover (10 here), not once per request.
      if (verified.get(value(0)) === undefined) {
        misses += 1;
        verified.add(value(0), sid(0));
      }
      expect(verified.size).toBeLessThanOrEqual(200);
    }
    expect(misses).toBeGreaterThan(0);
    expect(misses).toBeLessThanOrEqual(11);
    expect(verified.get(value(1))).toBeUndefined();
    expect(verified.get(value(1_000))).toBe(sid(1_000));
  });

  it('finds clients that come round in turn, up to two generations of them, from their second request on', () => {
    for (const clients of [150, 200]) {
      const verified = new VerifiedValues(100);
      let misses = 0;
      for (let round = 0; round < 5; round++) {
        for (let i = 0; i < clients; i++) {
          if (verified.get(value(i)) !== undefined) continue;
          misses += 1;
          verified.add(value(i), sid(i));
        }
      }
      // Only the first round verifies: a hit in the old generation never turns the generations over.
      expect(misses, `${clients} clients`).toBe(clients);
    }
  });

  it('turns generations over exactly when the young one is full, and a miss adds nothing', () => {
    const verified = new VerifiedValues(3);
    for (const i of [1, 2, 3]) verified.add(value(i), sid(i));
    expect(verified.size).toBe(3);
    expect(verified.get(value(9))).toBeUndefined();
    expect(verified.size).toBe(3);
    verified.add(value(4), sid(4)); // the young generation (1, 2, 3) becomes the old one
    expect(verified.size).toBe(4);
    for (const i of [5, 6]) verified.add(value(i), sid(i));
    expect(verified.size).toBe(6);
    verified.add(value(7), sid(7)); // (4, 5, 6) become the old generation; (1, 2, 3) are dropped
    expect(verified.size).toBe(4);
    expect(verified.get(value(1))).toBeUndefined();
    expect(verified.get(value(4))).toBe(sid(4)); // found in the old generation: moved to the young one
    expect(verified.size).toBe(5);
    expect(verified.get(value(5))).toBe(sid(5)); // the young one is full now (7, 4, 5)...
    expect(verified.size).toBe(6);
    expect(verified.get(value(6))).toBe(sid(6)); // ...so a hit in the old one stays there: at most 2 x 3
    expect(verified.size).toBe(6);
  });

  it('answers only the exact value that verified', () => {
    const verified = new VerifiedValues(10);
    verified.add(value(1), sid(1));
    expect(verified.get(value(1))).toBe(sid(1));
    expect(verified.get(`${sid(1)}.signature-2`)).toBeUndefined();
    expect(verified.get(`${value(1)} `)).toBeUndefined();
    expect(verified.get(sid(1))).toBeUndefined();
  });

  it('keeps nothing for an id that is not the head of its value, or a value a copy would change', () => {
    const verified = new VerifiedValues(10);
    verified.add(value(1), sid(2));
    verified.add(`${sid(3)}\ud800.sig`, sid(3));
    expect(verified.size).toBe(0);
  });
});

describe('createIdSigner with remembered values', () => {
  it('still refuses a forged signature for an id whose real one was remembered', () => {
    const signer = createIdSigner(['current', 'retired']);
    const id = generateSid();
    const signed = signer.sign(id);
    expect(signer.unsign(signed)).toBe(id);
    expect(signer.unsign(signed)).toBe(id);
    const forged = `${id}.${'A'.repeat(signed.length - id.length - 1)}`;
    expect(signer.unsign(forged)).toBeNull();
    expect(signer.unsign(createIdSigner('other').sign(id))).toBeNull();
    expect(signer.unsign(`${signed}x`)).toBeNull();
  });

  it('accepts every value it signed, past the bound of what it remembers', () => {
    const signer = createIdSigner('s');
    const ids = Array.from({ length: 2 * VERIFIED_GENERATION_SIZE + 10 }, () => generateSid());
    const signed = ids.map((id) => signer.sign(id));
    for (const [i, v] of signed.entries()) expect(signer.unsign(v)).toBe(ids[i]);
    // The first ones were forgotten: they verify again by HMAC, with the same answer.
    for (const [i, v] of signed.slice(0, 10).entries()) expect(signer.unsign(v)).toBe(ids[i]);
  });
});
