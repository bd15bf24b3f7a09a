import signature from 'cookie-signature';
import { InvalidOptionError } from '../errors.js';

/** Turns a session id into the value that travels (signed or not) and back. */
export interface IdSigner {
  /** The transported form of `sid`: `sid` itself without secrets, `sid.<HMAC-SHA256>` with them. */
  sign(sid: string): string;
  /** The id inside a transported value, or null if the signature matches none of the secrets. */
  unsign(value: string): string | null;
}

const unsigned: IdSigner = {
  sign: (sid) => sid,
  unsign: (value) => value,
};

/**
 * Builds the signer for the `secrets` option. The first secret signs; every secret verifies, so a new secret
 * can be put first while the old ones still accept the cookies already out there (rotation). Verification is
 * cookie-signature's: HMAC-SHA256 compared with `crypto.timingSafeEqual`.
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
  return {
    sign: (sid) => signature.sign(sid, signing),
    unsign(value) {
      for (const secret of verifying) {
        const sid = signature.unsign(value, secret);
        if (sid !== false) return sid;
      }
      return null;
    },
  };
}
