/**
 * Cairn's EIP-712 typed data (DESIGN.md "Typed data"): the domain ("Cairn", "1", chainId, the verifying
 * contract) and the three structs. The same definition as cairn-protocol's `typed` module on the Rust side;
 * test/typed.test.ts checks it field by field against testdata/vectors/eip712.json (written by an independent
 * implementation) and recomputes every vector's digest and signer.
 */
import { type Address, type Hex, keccak256, recoverTypedDataAddress, stringToBytes } from 'viem';

export const TYPES = {
  ModelManifest: [
    { name: 'seller', type: 'address' },
    { name: 'modelId', type: 'uint256' },
    { name: 'manifestCid', type: 'string' },
    { name: 'manifestDigest', type: 'bytes32' },
    { name: 'weightsDigest', type: 'bytes32' },
    { name: 'runtime', type: 'bytes32' },
    { name: 'paymentToken', type: 'address' },
    { name: 'pricePerCall', type: 'uint256' },
    { name: 'licensePrice', type: 'uint256' },
    { name: 'licensePeriod', type: 'uint64' },
    { name: 'regionMask', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint64' },
  ],
  JobRequest: [
    { name: 'buyer', type: 'address' },
    { name: 'modelId', type: 'uint256' },
    { name: 'version', type: 'uint64' },
    { name: 'inputDigest', type: 'bytes32' },
    { name: 'inputCid', type: 'string' },
    { name: 'token', type: 'address' },
    { name: 'payment', type: 'uint256' },
    { name: 'maxPricePerCall', type: 'uint256' },
    { name: 'deadline', type: 'uint64' },
    { name: 'regionMask', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
  ],
  JobReceipt: [
    { name: 'jobId', type: 'uint256' },
    { name: 'weightsDigest', type: 'bytes32' },
    { name: 'inputDigest', type: 'bytes32' },
    { name: 'runtime', type: 'bytes32' },
    { name: 'outputDigest', type: 'bytes32' },
    { name: 'outputCid', type: 'string' },
    { name: 'runnerBuild', type: 'bytes32' },
    { name: 'energyMillijoules', type: 'uint64' },
  ],
} as const;

/** The EIP-712 domain of a Cairn contract: `verifyingContract` is the ModelRegistry for manifests and the
 * JobMarket for requests and receipts. */
export function cairnDomain(chainId: number, verifyingContract: Address) {
  return { name: 'Cairn', version: '1', chainId, verifyingContract } as const;
}

/** A runtime's on-chain id: keccak256 of its UTF-8 name (`candle/bert-embed@1`). */
export function runtimeId(name: string): Hex {
  return keccak256(stringToBytes(name));
}

/** The runtimes this app can check inputs for, by on-chain id. */
export const RUNTIMES: Record<string, string> = { [runtimeId('candle/bert-embed@1')]: 'candle/bert-embed@1' };

/** A `JobReceipt` as the indexer serves it (`job.receipt`), decimal and 0x-hex strings. */
export interface Receipt {
  weightsDigest: Hex;
  inputDigest: Hex;
  runtime: Hex;
  outputDigest: Hex;
  outputCid: string;
  runnerBuild: Hex;
  energyMillijoules: number;
  signer: Address;
  signature: Hex;
}

/** Who signed job `jobId`'s receipt (EIP-712 recovery over the JobMarket's domain). Throws on a malformed
 * signature. */
export function receiptSigner(chainId: number, jobMarket: Address, jobId: bigint, r: Receipt): Promise<Address> {
  return recoverTypedDataAddress({
    domain: cairnDomain(chainId, jobMarket),
    types: { JobReceipt: TYPES.JobReceipt },
    primaryType: 'JobReceipt',
    message: {
      jobId,
      weightsDigest: r.weightsDigest,
      inputDigest: r.inputDigest,
      runtime: r.runtime,
      outputDigest: r.outputDigest,
      outputCid: r.outputCid,
      runnerBuild: r.runnerBuild,
      energyMillijoules: BigInt(r.energyMillijoules),
    },
    signature: r.signature,
  });
}
