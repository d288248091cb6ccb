// test/helpers/module.ts — load sealhsm-pkcs11.so through pkcs11js with a configuration of our own.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import pkcs11js from 'pkcs11js';

export const MODULE = fileURLToPath(new URL('../../build/Release/sealhsm-pkcs11.so', import.meta.url));
export { pkcs11js };

/** Writes a module configuration with these slot lines and points SEALHSM_PKCS11_CONF at it. */
export function configure(slots: string[]): { conf: string; base: string } {
  const base = mkdtempSync(join(tmpdir(), 'sealhsm-p11-'));
  const conf = join(base, 'sealhsm-pkcs11.conf');
  writeFileSync(conf, `# test configuration\n${slots.map((s) => s.replaceAll('$BASE', base)).join('\n')}\n`);
  process.env.SEALHSM_PKCS11_CONF = conf;
  return { conf, base };
}

/** A loaded, initialized module. */
export function openModule(): pkcs11js.PKCS11 {
  const p = new pkcs11js.PKCS11();
  p.load(MODULE);
  p.C_Initialize();
  return p;
}

/** A pkcs11js attribute list from a [type, value] template. */
export function attrs(t: ReadonlyArray<readonly [number, unknown]>): pkcs11js.Template {
  return t.map(([type, value]) => ({ type, value: value instanceof Uint8Array ? Buffer.from(value) : (value as boolean | number | string) }));
}

/** The CKR_* name of a pkcs11js error ("CKR_PIN_INCORRECT:160" → "CKR_PIN_INCORRECT"). */
export function ckr(e: unknown): string {
  return String((e as Error).message ?? e).split(':')[0]!;
}

/** Runs a pkcs11js call: 'CKR_OK', or the CKR_* name it failed with. */
export function rvOf(f: () => unknown): string {
  try {
    f();
    return 'CKR_OK';
  } catch (e) {
    return ckr(e);
  }
}
