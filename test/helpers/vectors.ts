// test/helpers/vectors.ts
// Loads a vendored Wycheproof file, checking it against the sha256 recorded in manifest.json.
// A missing or altered file throws: it fails the test, it never skips it.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../vectors/wycheproof/', import.meta.url));
const manifest = JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8')) as Record<string, string>;

export type Result = 'valid' | 'acceptable' | 'invalid';
export interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  result: Result;
  [k: string]: unknown;
}
export interface WycheproofGroup {
  tests: WycheproofTest[];
  [k: string]: unknown;
}
export interface WycheproofFile {
  algorithm: string;
  numberOfTests: number;
  testGroups: WycheproofGroup[];
}

export function loadWycheproof(name: string): WycheproofFile {
  const expected = manifest[name];
  if (expected === undefined) throw new Error(`${name} is not in test/vectors/wycheproof/manifest.json`);
  const bytes = readFileSync(`${dir}${name}`);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== expected) throw new Error(`${name}: sha256 ${actual} does not match the manifest (${expected})`);
  return JSON.parse(bytes.toString('utf8')) as WycheproofFile;
}

export const hex = (s: unknown): Buffer => Buffer.from(String(s ?? ''), 'hex');

/** Every vendored file, so a suite can prove it ran them all. */
export const ALL_FILES = Object.keys(manifest);
