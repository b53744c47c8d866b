import { readFileSync } from 'node:fs';
import { hexToBytes } from 'viem';
import { describe, expect, it } from 'vitest';
import { type InputLimits, jobInput, looksLikeJson, parseTexts, textsFromLines } from '../src/input';

const vectors = JSON.parse(readFileSync(new URL('../../testdata/vectors/inputs.json', import.meta.url), 'utf8'));
const limits: InputLimits = { runtime: 'candle/bert-embed@1', ...vectors.limits };

interface Case {
  about: string;
  utf8?: string;
  hex?: string;
  ok?: string[];
  json?: string;
  error?: string;
}

const bytes = (c: Case) => (c.utf8 !== undefined ? new TextEncoder().encode(c.utf8) : hexToBytes(`0x${c.hex}`));

function check<T>(c: Case, run: () => T, expected: (t: T) => void) {
  if (c.error !== undefined) expect(run, c.about).toThrow(c.error);
  else expected(run());
}

describe('job input (the vectors the Rust side runs too)', () => {
  it.each(vectors.parse as Case[])('parse: $about', (c) => {
    check(c, () => parseTexts(bytes(c), limits), (texts) => expect(texts).toEqual(c.ok));
  });

  it.each(vectors.lines as Case[])('lines: $about', (c) => {
    check(c, () => textsFromLines(bytes(c)), (json) => expect(new TextDecoder().decode(json)).toBe(c.json));
  });

  it('reads text as sentences and JSON as JSON, and reports bad JSON as JSON', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(looksLikeJson(enc('  ["a"]'))).toBe(true);
    expect(looksLikeJson(enc('hello'))).toBe(false);
    expect(jobInput(enc('one\ntwo\n'), limits).texts).toEqual(['one', 'two']);
    expect(() => jobInput(enc('["one", 2]'), limits)).toThrow('item 1 is a number');
  });
});
