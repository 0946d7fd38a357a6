/** Rate limits high enough that a benchmark from one address measures work, not 429s. */
export const NO_RATE_LIMITS = {
  TOKEN_RATE_LIMIT_PER_ADDRESS: '1000000000',
  TOKEN_RATE_LIMIT_PER_CLIENT: '1000000000',
} as const;
