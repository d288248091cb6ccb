// test/module_threads.test.ts
// The PKCS#11 module under threads of one process (issue: performance, the module under several
// threads): C_Initialize from four threads at once initializes once, and the others are told so.

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { MODULE, configure } from './helpers/module.js';

const fixture = fileURLToPath(new URL('./fixtures/init_race.mjs', import.meta.url));

describe('C_Initialize from several threads at once', () => {
  it('one thread initializes, three get CKR_CRYPTOKI_ALREADY_INITIALIZED, all see the same slots (20 tries)', () => {
    const { conf } = configure(['slot memory profile=pkcs11 label=race', 'slot memory profile=cloudhsm label=race2']);
    for (let i = 0; i < 20; i++) {
      const out = JSON.parse(execFileSync(process.execPath, [fixture, MODULE], { encoding: 'utf8', env: { ...process.env, SEALHSM_PKCS11_CONF: conf } })) as Array<{ init: string; slots: number }>;
      expect(out.map((r) => r.init).sort()).toEqual(['CKR_CRYPTOKI_ALREADY_INITIALIZED', 'CKR_CRYPTOKI_ALREADY_INITIALIZED', 'CKR_CRYPTOKI_ALREADY_INITIALIZED', 'CKR_OK']);
      expect(out.map((r) => r.slots)).toEqual([2, 2, 2, 2]);
    }
  }, 120_000);
});
