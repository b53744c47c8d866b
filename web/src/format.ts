/** Amounts, regions, times and addresses as people read them. */
import { type Address, formatUnits, getAddress, zeroAddress } from 'viem';

/** A payment token: ETH is the zero address. */
export interface Token {
  address: Address;
  symbol: string;
  decimals: number;
}

export const ETH: Token = { address: zeroAddress, symbol: 'ETH', decimals: 18 };

/** `raw` token units as `1.5 ETH` (exact: no rounding). */
export function amount(raw: bigint | string, token: Token): string {
  return `${formatUnits(BigInt(raw), token.decimals)} ${token.symbol}`;
}

/** The `regionMask` bits (DESIGN.md "Regions"): code and name. */
export const REGIONS: [string, string][] = [
  ['EU', 'EU/EEA'],
  ['UK', 'United Kingdom'],
  ['CH', 'Switzerland'],
  ['US', 'United States'],
  ['CA', 'Canada'],
  ['BR', 'Brazil'],
  ['JP', 'Japan'],
  ['KR', 'South Korea'],
  ['SG', 'Singapore'],
  ['IN', 'India'],
  ['AU', 'Australia'],
  ['other', 'other'],
];

/** The region codes of a mask (`9` → `EU, US`); 0 → `none`. */
export function regions(mask: bigint | string | number): string {
  const m = BigInt(mask);
  const codes = REGIONS.filter((_, i) => (m >> BigInt(i)) & 1n).map(([c]) => c);
  return codes.length ? codes.join(', ') : 'none';
}

/** The least payment whose operator share covers the price and the operator's minimum, given the protocol
 * fee (JobMarket: fee = payment × feeBps / 10,000, rounded down; operator = payment − price − fee ≥ minimum). */
export function leastPayment(price: bigint, feeBps: bigint, minOperatorFee: bigint): bigint {
  const need = price + minOperatorFee;
  const ok = (p: bigint) => p - (p * feeBps) / 10_000n >= need;
  // p − ⌊p·f/10⁴⌋ is non-decreasing in p: start at the real-valued bound, rounded down, and step to the least.
  let p = (need * 10_000n) / (10_000n - feeBps);
  while (p > 0n && ok(p - 1n)) p -= 1n;
  while (!ok(p)) p += 1n;
  return p;
}

/** `3725` → `1 h 2 min 5 s`; negative → `0 s`. */
export function duration(secs: number): string {
  let s = Math.max(0, Math.floor(secs));
  const parts: string[] = [];
  for (const [unit, n] of [['d', 86_400], ['h', 3_600], ['min', 60]] as const) {
    if (s >= n) {
      parts.push(`${Math.floor(s / n)} ${unit}`);
      s %= n;
    }
  }
  if (s || !parts.length) parts.push(`${s} s`);
  return parts.join(' ');
}

/** A unix time as an ISO date-time (UTC). */
export function time(unix: number | string): string {
  return new Date(Number(unix) * 1000).toISOString().replace('.000Z', 'Z');
}

/** `0x1234…abcd`. */
export function short(hex: string): string {
  return hex.length > 14 ? `${hex.slice(0, 6)}…${hex.slice(-4)}` : hex;
}

/** The `did:pkh` of an account (CAIP-10, as the indexer serves DID documents). */
export function didPkh(chainId: number, address: string): string {
  return `did:pkh:eip155:${chainId}:${getAddress(address)}`;
}

/** Whether `s` looks like a CID (CIDv0 base58btc, or CIDv1 in base32): only those become gateway links. */
export function isCid(s: unknown): s is string {
  return typeof s === 'string' && /^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{20,})$/.test(s);
}
