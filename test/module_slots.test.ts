// test/module_slots.test.ts
// Slot identity (issue: the stand-in holds under other people's suites): a slot's id is fixed by
// its configuration line, the same in every C_Initialize / C_Finalize cycle and in every process,
// so suites that remember the first id keep working.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

import { MODULE, configure, pkcs11js } from './helpers/module.js';

const { base } = configure(['slot memory profile=pkcs11 label=first', 'slot $BASE/second profile=pkcs11 label=second create=true', 'slot memory label=fixed id=7']);

const slotIds = (p: pkcs11js.PKCS11) => (p.C_GetSlotList(true) as Buffer[]).map((b) => b.readBigUInt64LE());

describe('slot ids', () => {
  it('are the same in every C_Initialize cycle, by line or by id=N', () => {
    const p = new pkcs11js.PKCS11();
    p.load(MODULE);
    const seen: bigint[][] = [];
    for (let cycle = 0; cycle < 4; cycle++) {
      p.C_Initialize();
      seen.push(slotIds(p));
      const [first] = p.C_GetSlotList(true) as Buffer[];
      expect(p.C_GetTokenInfo(first!).label.trim()).toBe('first');
      p.C_Finalize();
    }
    expect(seen[0]).toEqual([1n, 2n, 7n]);
    for (const ids of seen) expect(ids).toEqual(seen[0]);
    p.close();
  });

  it('are the same in another process', () => {
    const script = `const p = new (require('pkcs11js').PKCS11)(); p.load(${JSON.stringify(MODULE)}); p.C_Initialize();
      console.log(JSON.stringify(p.C_GetSlotList(true).map((b) => Number(b.readBigUInt64LE())))); p.C_Finalize();`;
    const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: process.env });
    expect(JSON.parse(out.stdout)).toEqual([1, 2, 7]);
    expect(base).toBeTruthy();
  });
});
