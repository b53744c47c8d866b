/**
 * The canonical output of `candle/bert-embed@1` (DESIGN.md "Canonical outputs and verification";
 * cairn-protocol's `output` module): a safetensors file holding one F32 tensor `embeddings` [rows, dim], no
 * `__metadata__`, whose header is byte for byte the canonical header for that shape. Checked here against the
 * receipt's `outputDigest` (sha256 of the exact bytes) before anything is shown.
 */
import { type Hex, bytesToHex } from 'viem';

/** Row-major f32 embeddings, one row per input sentence. */
export interface Embeddings {
  rows: number;
  dim: number;
  data: Float32Array;
}

/** Why an output cannot be accepted. */
export class OutputError extends Error {}

/** sha256 of `bytes`, 0x-hex (WebCrypto). */
export async function sha256(bytes: Uint8Array): Promise<Hex> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}

/** The canonical header JSON for [rows, dim], space-padded so that the data starts at a multiple of 8 bytes. */
export function canonicalHeader(rows: number, dim: number): string {
  const header = `{"embeddings":{"dtype":"F32","shape":[${rows},${dim}],"data_offsets":[0,${rows * dim * 4}]}}`;
  return header.padEnd(Math.ceil(header.length / 8) * 8, ' ');
}

/** Reads a canonical output. Throws [`OutputError`] saying what is not canonical. */
export function readEmbeddings(bytes: Uint8Array): Embeddings {
  if (bytes.length < 8) throw new OutputError(`the output is ${bytes.length} bytes, too short for a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.length - 8) {
    throw new OutputError(`the safetensors header claims ${headerLen} bytes but the file has ${bytes.length - 8} after it`);
  }
  let header: { embeddings?: { dtype?: string; shape?: number[] } };
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + headerLen));
  try {
    header = JSON.parse(headerText);
  } catch {
    throw new OutputError('the safetensors header is not JSON');
  }
  const shape = header.embeddings?.shape;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new OutputError('the output holds no rank-2 tensor named "embeddings"');
  }
  const [rows, dim] = shape;
  if (headerText !== canonicalHeader(rows, dim)) {
    throw new OutputError(`the header is not the canonical one for F32 [${rows}, ${dim}] (extra fields, another dtype or spelling)`);
  }
  const start = 8 + headerLen;
  if (bytes.length - start !== rows * dim * 4) {
    throw new OutputError(`the data is ${bytes.length - start} bytes; F32 [${rows}, ${dim}] needs ${rows * dim * 4}`);
  }
  const data = new Float32Array(rows * dim);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(start + i * 4, true);
  return { rows, dim, data };
}

/** The cosine similarity of every pair of rows: a symmetric [rows × rows] matrix, row-major. */
export function cosineMatrix(e: Embeddings): Float64Array {
  const norms = new Float64Array(e.rows);
  for (let i = 0; i < e.rows; i++) {
    let s = 0;
    for (let k = 0; k < e.dim; k++) s += e.data[i * e.dim + k] ** 2;
    norms[i] = Math.sqrt(s);
  }
  const m = new Float64Array(e.rows * e.rows);
  for (let i = 0; i < e.rows; i++) {
    for (let j = i; j < e.rows; j++) {
      let dot = 0;
      for (let k = 0; k < e.dim; k++) dot += e.data[i * e.dim + k] * e.data[j * e.dim + k];
      const c = norms[i] && norms[j] ? dot / (norms[i] * norms[j]) : 0;
      m[i * e.rows + j] = c;
      m[j * e.rows + i] = c;
    }
  }
  return m;
}

/** The acceptance rule's own format checks on a claimed output (DESIGN.md): `expectedRows` rows, every value
 * finite, every row's L2 norm within 1e-4 of 1. Returns the problems found, empty when none. */
export function formatProblems(e: Embeddings, expectedRows: number): string[] {
  const problems: string[] = [];
  if (e.rows !== expectedRows) problems.push(`${e.rows} rows for ${expectedRows} input sentences`);
  for (let i = 0; i < e.rows; i++) {
    let s = 0;
    let finite = true;
    for (let k = 0; k < e.dim; k++) {
      const v = e.data[i * e.dim + k];
      if (!Number.isFinite(v)) finite = false;
      s += v * v;
    }
    if (!finite) problems.push(`row ${i} holds a value that is not finite`);
    else if (Math.abs(Math.sqrt(s) - 1) > 1e-4) problems.push(`row ${i} has norm ${Math.sqrt(s).toFixed(6)}, not 1`);
  }
  return problems;
}
