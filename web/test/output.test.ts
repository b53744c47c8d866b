import { describe, expect, it } from 'vitest';
import { canonicalHeader, cosineMatrix, formatProblems, readEmbeddings, sha256 } from '../src/output';

/** A canonical output as cairn-protocol's `Embeddings::to_safetensors` writes it. */
function write(rows: number, dim: number, values: number[], header = canonicalHeader(rows, dim)): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + values.length * 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  values.forEach((v, i) => view.setFloat32(8 + h.length + i * 4, v, true));
  return out;
}

describe('canonical output', () => {
  it('pads the header to 8 bytes as the safetensors writer does', () => {
    const h = canonicalHeader(2, 3);
    expect(h.trimEnd()).toBe('{"embeddings":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}');
    expect(h.length % 8).toBe(0);
    expect(h.length - h.trimEnd().length).toBeLessThan(8);
  });

  it('reads rows and flags rows that are not unit vectors', () => {
    const e = readEmbeddings(write(2, 2, [1, 0, 0.6, 0.8]));
    expect([e.rows, e.dim, Array.from(e.data)]).toEqual([2, 2, [1, 0, Math.fround(0.6), Math.fround(0.8)]]);
    expect(formatProblems(e, 2)).toEqual([]);
    expect(formatProblems(readEmbeddings(write(1, 2, [2, 0])), 1)).toEqual(['row 0 has norm 2.000000, not 1']);
    expect(formatProblems(e, 3)).toContain('2 rows for 3 input sentences');
    const m = cosineMatrix(e);
    expect(m[0]).toBeCloseTo(1, 6);
    expect(m[1]).toBeCloseTo(0.6, 6);
    expect(m[2]).toBe(m[1]);
  });

  it('refuses headers that are not the canonical spelling, and truncated data', () => {
    const spelled = '{"embeddings":{"dtype":"F32","dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}';
    expect(() => readEmbeddings(write(1, 2, [1, 0], spelled.padEnd(88)))).toThrow('not the canonical one');
    expect(() => readEmbeddings(write(1, 2, [1, 0]).subarray(0, 20))).toThrow();
    expect(() => readEmbeddings(new Uint8Array(3))).toThrow('too short');
  });

  it('digests with sha256', async () => {
    expect(await sha256(new TextEncoder().encode('abc'))).toBe(
      '0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
