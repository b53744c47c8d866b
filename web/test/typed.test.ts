import { readFileSync } from 'node:fs';
import { hashTypedData, recoverTypedDataAddress } from 'viem';
import { describe, expect, it } from 'vitest';
import { TYPES, cairnDomain, receiptSigner, runtimeId } from '../src/typed';

const vectors = JSON.parse(readFileSync(new URL('../../testdata/vectors/eip712.json', import.meta.url), 'utf8'));

/** A vector's message with its integer fields as bigints, by the types' declared Solidity types. */
function message(primaryType: keyof typeof TYPES, m: Record<string, string>) {
  return Object.fromEntries(
    TYPES[primaryType].map(({ name, type }) => [name, type.startsWith('uint') ? BigInt(m[name]) : m[name]]),
  );
}

describe('EIP-712 typed data', () => {
  it('declares the structs exactly as the shared vectors (and so the Rust side and the contracts)', () => {
    expect(Object.keys(TYPES).sort()).toEqual(Object.keys(vectors.types).sort());
    for (const [name, fields] of Object.entries(TYPES)) expect(fields).toEqual(vectors.types[name]);
  });

  it('recomputes every vector digest and recovers its signer', async () => {
    expect(vectors.vectors.length).toBeGreaterThanOrEqual(5);
    for (const v of vectors.vectors) {
      const primaryType = v.primaryType as keyof typeof TYPES;
      const typed = {
        domain: cairnDomain(v.domain.chainId, v.domain.verifyingContract),
        types: { [primaryType]: TYPES[primaryType] },
        primaryType,
        message: message(primaryType, v.message),
      } as const;
      expect(hashTypedData(typed as never)).toBe(v.digest);
      expect((await recoverTypedDataAddress({ ...(typed as never), signature: v.signature })).toLowerCase()).toBe(
        v.signer.toLowerCase(),
      );
    }
  });

  it('recovers a receipt signer as the JobMarket checks it, and another job id recovers someone else', async () => {
    const v = vectors.vectors.find((x: { primaryType: string }) => x.primaryType === 'JobReceipt');
    const receipt = { ...v.message, energyMillijoules: Number(v.message.energyMillijoules), signature: v.signature };
    const jobId = BigInt(v.message.jobId);
    const signer = await receiptSigner(v.domain.chainId, v.domain.verifyingContract, jobId, receipt);
    expect(signer.toLowerCase()).toBe(v.signer.toLowerCase());
    const other = await receiptSigner(v.domain.chainId, v.domain.verifyingContract, jobId + 1n, receipt);
    expect(other.toLowerCase()).not.toBe(v.signer.toLowerCase());
  });

  it('names runtimes by keccak256 of their UTF-8 name', () => {
    const v = vectors.vectors.find((x: { primaryType: string }) => x.primaryType === 'ModelManifest');
    expect(runtimeId('candle/bert-embed@1')).toBe(v.message.runtime);
  });
});
