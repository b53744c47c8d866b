/** The indexer's JSON shapes the app reads (cairn-indexer's OpenAPI document at /openapi.json). */
import type { Address, Hex } from 'viem';
import type { Receipt } from '../typed';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  indexedBlock: number;
}

export interface Meta {
  blockNumber: number;
  confirmations: number;
  final: boolean;
}

export interface ModelRow extends Meta {
  id: string;
  seller: Address;
  latestVersion: number;
  deprecated: boolean;
  runtime: Hex;
  paymentToken: Address;
  pricePerCall: string;
  licensePrice: string;
  licensePeriod: number;
  regionMask: string;
  manifestCid: string;
  registeredAt: number;
  updatedAt: number;
}

export interface VersionRow extends Meta {
  version: number;
  manifestCid: string;
  manifestDigest: Hex;
  weightsDigest: Hex;
  paymentToken: Address;
  pricePerCall: string;
  licensePrice: string;
  licensePeriod: number;
  regionMask: string;
  registeredAt: number;
  signature: Hex;
  signatureValid: boolean;
  /** The recovered signer, or why recovery failed. */
  signatureCheck: string;
}

export interface Card {
  name?: string;
  description?: string;
  task?: string;
  languages?: string[];
  tags?: string[];
  license?: string;
  intendedUse?: string;
  outOfScopeUse?: string;
  limitations?: string;
  evaluation?: unknown;
  environmentalImpact?: unknown;
  restrictedJurisdictions?: unknown;
  trainingData?: { datasets?: { name: string; license?: string; source?: string; personalData?: string }[] } | string;
  outputDim?: number;
}

export interface ModelDetail {
  model: ModelRow;
  versions: VersionRow[];
  manifest: { card?: Card; files?: { path: string; sha256: string; size: number }[] } | null;
  manifestStatus: string;
  licenses: (Meta & { buyer: Address; expiry: number | string })[];
  servedBy: { operator: Address; jobs: number }[];
}

export interface Operator {
  address: Address;
  signer: Address;
  region: number;
  stake: string;
  completed: number;
  disputesLost: number;
  reputation: { score: number };
  did: string;
}

/** `/operators/{addr}`. */
export interface OperatorDetail {
  operator: Operator;
}

export interface Job extends Meta {
  id: string;
  modelId: string;
  modelVersion: number;
  buyer: Address;
  seller: Address;
  token: Address;
  payment: string;
  royalty: string;
  protocolFee: string;
  inputDigest: Hex;
  inputCid: string;
  regionMask: string;
  deadline: number;
  state: string;
  closeReason: string;
  operator: Address | null;
  bond: string;
  submitBy: number;
  receipt: Receipt | null;
  challengeEnds: number;
  challenger: Address | null;
  disputeId: string | null;
  split: { royalty: string; protocolFee: string; operatorFee: string; auditPremium?: string } | null;
  requestedAt: number;
}

export interface Transition extends Meta {
  event: string;
  logIndex: number;
  txHash: Hex;
  timestamp: number;
  state: string;
  closeReason: string;
  operator: Address | null;
  outputCid: string | null;
}

export interface Dispute {
  id: string;
  phase?: string;
  round?: number;
  ruling?: number | null;
  jurors?: Address[];
}

export interface JobDetail {
  job: Job;
  transitions: Transition[];
  dispute: Dispute | null;
}

export interface TrailItem extends Meta {
  logIndex: number;
  txHash: Hex;
  timestamp: number;
  contract: string;
  event: string;
  roles: string[];
  fields: Record<string, unknown>;
}
