import { describe, expect, it } from 'vitest';
import { amount, duration, isCid, leastPayment, regions } from '../src/format';

describe('amounts and regions', () => {
  it('finds the least payment whose operator share covers price and minimum, as the JobMarket rounds its fee', () => {
    const brute = (need: bigint, feeBps: bigint) => {
      let p = need; // the operator share never exceeds the payment
      while (p - (p * feeBps) / 10_000n < need) p += 1n;
      return p;
    };
    for (const feeBps of [0n, 1n, 100n, 500n, 2_500n, 5_000n]) {
      for (const need of [0n, 1n, 99n, 100n, 101n, 9_999n, 123_457n]) {
        expect(leastPayment(need, feeBps, 0n), `need ${need}, fee ${feeBps} bps`).toBe(brute(need, feeBps));
      }
    }
    expect(leastPayment(99n, 100n, 0n)).toBe(99n);
    // At wei scale (no brute force): the least p covers 0.0011 ETH net of a 5% fee, and p − 1 does not.
    const net = (p: bigint) => p - (p * 500n) / 10_000n;
    const p = leastPayment(10n ** 14n, 500n, 10n ** 15n);
    expect(net(p) >= 11n * 10n ** 14n && net(p - 1n) < 11n * 10n ** 14n).toBe(true);
  });

  it('formats exact amounts, region masks and durations', () => {
    expect(amount(1_500_000_000_000_000_000n, { address: '0x0000000000000000000000000000000000000000', symbol: 'ETH', decimals: 18 })).toBe('1.5 ETH');
    expect(amount('2500001', { address: '0x0000000000000000000000000000000000000001', symbol: 'DUSD', decimals: 6 })).toBe('2.500001 DUSD');
    expect(regions(9)).toBe('EU, US');
    expect(regions(0n)).toBe('none');
    expect(regions(1n << 11n)).toBe('other');
    expect(duration(3725)).toBe('1 h 2 min 5 s');
    expect(duration(-5)).toBe('0 s');
    expect(duration(86_400)).toBe('1 d');
  });

  it('links only what looks like a CID', () => {
    expect(isCid('bafkreifd7z4mvq26k3xrbxhjnehpgcoln4l4ftxxblqkqrc62dnefw4fsy')).toBe(true);
    expect(isCid('QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG')).toBe(true);
    expect(isCid('javascript:alert(1)')).toBe(false);
    expect(isCid('bafy/../../x')).toBe(false);
    expect(isCid(42)).toBe(false);
  });
});
