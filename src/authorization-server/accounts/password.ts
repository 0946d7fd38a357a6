import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

// OWASP-recommended scrypt cost (N=2^17, r=8, p=1): ~128 MiB and ~100-200 ms per hash.
const STANDARD = { N: 2 ** 17, r: 8, p: 1, keylen: 32 } as const;
// PASSWORD_HASH_COST=test (NODE_ENV=test only): the test suite signs in hundreds of times.
const TEST = { ...STANDARD, N: 2 ** 12 } as const;
const MAXMEM = 256 * 1024 * 1024;

export type PasswordHashCost = 'standard' | 'test';
let params: typeof STANDARD | typeof TEST = STANDARD;

/** The cost of hashes made from now on in this process; verification always reads the cost from the stored hash. */
export function usePasswordHashCost(cost: PasswordHashCost): void {
  params = cost === 'test' ? TEST : STANDARD;
}

function derive(password: string, salt: Buffer, options: ScryptOptions & { keylen: number }): Promise<Buffer> {
  const { keylen, ...cost } = options;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keylen, { ...cost, maxmem: MAXMEM }, (error, key) =>
      error ? reject(error) : resolve(key));
  });
}

/** `$scrypt$N=..,r=..,p=..$<salt>$<hash>` (base64url); self-describing so the cost can rise later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params);
  return `$scrypt$N=${params.N},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const match = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([\w-]+)\$([\w-]+)$/.exec(encoded);
  if (!match) return false;
  const [, n, r, p, salt, hash] = match;
  const expected = Buffer.from(hash!, 'base64url');
  const actual = await derive(password, Buffer.from(salt!, 'base64url'), {
    N: Number(n), r: Number(r), p: Number(p), keylen: expected.length,
  });
  return timingSafeEqual(actual, expected);
}

export function isPasswordHash(value: string): boolean {
  return value.startsWith('$scrypt$');
}
