import signature from 'cookie-signature';
import { InvalidOptionError } from '../errors.js';
import { VerifiedValues } from './verified-values.js';

/** Turns a session id into the value that travels (signed or not) and back. */
export interface IdSigner {
  /** The transported form of `sid`: `sid` itself without secrets, `sid.<HMAC-SHA256>` with them. */
  sign(sid: string): string;
  /** The id inside a transported value, or null if the signature matches none of the secrets. */
  unsign(value: string): string | null;
}

/**
 * Signed values whose verification is remembered, per signer: two generations of this many (see
 * verified-values.ts), at most 10,000 values of ~90 characters, about 2 MB. Past that, a value not seen lately
 * costs its HMAC again, as every value did before.
 */
export const VERIFIED_GENERATION_SIZE = 5_000;

const unsigned: IdSigner = {
  sign: (sid) => sid,
  unsign: (value) => value,
};

/**
 * Builds the signer for the `secrets` option. The first secret signs; every secret verifies, so a new secret
 * can be put first while the old ones still accept the cookies already out there (rotation). Verification is
 * cookie-signature's: HMAC-SHA256 compared with `crypto.timingSafeEqual`. A value that verified is remembered
 * (see verified-values.ts): the same cookie on the client's next request costs a Map lookup, not an HMAC.
 */
export function createIdSigner(secrets: string | readonly string[] | undefined): IdSigner {
  if (secrets === undefined) return unsigned;
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidOptionError('secrets must be a non-empty string or a non-empty array of strings');
  }
  for (const secret of list) {
    if (typeof secret !== 'string' || secret.length === 0) {
      throw new InvalidOptionError('secrets must contain only non-empty strings');
    }
  }
  const [signing] = list as [string, ...string[]];
  const verifying = [...list];
  const verified = new VerifiedValues(VERIFIED_GENERATION_SIZE);
  return {
    sign: (sid) => signature.sign(sid, signing),
    unsign(value) {
      const known = verified.get(value);
      if (known !== undefined) return known;
      for (const secret of verifying) {
        const sid = signature.unsign(value, secret);
        if (sid !== false) {
          verified.add(value, sid);
          return sid;
        }
      }
      return null;
    },
  };
}
