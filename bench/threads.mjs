// bench/threads.mjs — part of `npm run bench`: how signing scales with threads. ECDSA P-256 signing
// (synchronous calls, back to back) in 1 worker thread, then in 2 at once, sealhsm's addon beside
// node:crypto, and sealhsm's PKCS#11 module through pkcs11js likewise; the ratio 2 threads / 1 thread
// shows what the sealed core's locks cost. Environment: BENCH_SECONDS (default 1), BENCH_ROUNDS (default 3).

import * as crypto from 'node:crypto';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

if (isMainThread) {
  const { CKA, native, privateKeyTemplate } = await import('../dist/index.js');
  const { pkcs11Config, pkcs11ModulePath, pkcs11Provisioning } = await import('../dist/pkcs11/module.js');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');

  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pkcs8 = ec.privateKey.export({ format: 'der', type: 'pkcs8' });
  const { benchToken } = await import('./compare.mjs');
  const { slot, session: s } = await benchToken(native, 'threads');
  const key = await native.createObject(s, [...privateKeyTemplate(ec.privateKey), [CKA.SIGN, true]]);

  const dir = mkdtempSync(join(tmpdir(), 'sealhsm-threads-'));
  writeFileSync(join(dir, 'users'), pkcs11Provisioning([{ name: 'so', password: 'threads-so-password', role: 'admin' }, { name: 'user', password: 'threads-user-password' }]));
  writeFileSync(join(dir, 'conf'), pkcs11Config([{ dir: 'memory', profile: 'pkcs11', label: 'threads', usersFile: join(dir, 'users') }]));
  process.env.SEALHSM_PKCS11_CONF = join(dir, 'conf'); // read by the module at C_Initialize (workers share the process environment)
  const d = Buffer.from(ec.privateKey.export({ format: 'jwk' }).d, 'base64url');
  const module = { library: pkcs11ModulePath(), pin: 'threads-user-password', d };

  /** Total signatures per second with `threads` workers signing at once. */
  async function rate(side, threads) {
    const workers = Array.from({ length: threads }, () => new Worker(new URL(import.meta.url), { workerData: { side, slot, key, pkcs8, module, seconds: SECONDS } }));
    const counts = await Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
    return counts.reduce((a, b) => a + b, 0) / SECONDS;
  }

  console.log(`\nECDSA P-256 sign, synchronous calls in worker threads, best of ${ROUNDS} x ${SECONDS}s`);
  for (const [name, side] of [['sealhsm addon', 'addon'], ['sealhsm PKCS#11 module', 'module'], ['node:crypto', 'node']]) {
    let one = 0, two = 0;
    for (let r = 0; r < ROUNDS; r++) {
      one = Math.max(one, await rate(side, 1));
      two = Math.max(two, await rate(side, 2));
    }
    console.log(`${name.padEnd(24)} 1 thread ${Math.round(one)} ops/s, 2 threads ${Math.round(two)} ops/s, scaling ${(two / one).toFixed(2)}x`);
  }
  native.removeToken(slot);
} else {
  const { side, slot, key, pkcs8, module, seconds } = workerData;
  const msg = crypto.randomBytes(64);
  let sign;
  if (side === 'addon') {
    const { CKM, native } = await import('../dist/index.js');
    const s = native.openSession(slot, false);
    sign = () => native.signSync(s, CKM.ECDSA_SHA256, key, msg);
  } else if (side === 'node') {
    const k = crypto.createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
    sign = () => crypto.sign('sha256', msg, k);
  } else {
    const pkcs11js = (await import('pkcs11js')).default;
    const lib = new pkcs11js.PKCS11();
    lib.load(module.library);
    try { lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK }); } catch (e) { if (!String(e.message).startsWith('CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw e; }
    const [slotId] = lib.C_GetSlotList(true);
    const s = lib.C_OpenSession(slotId, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try { lib.C_Login(s, pkcs11js.CKU_USER, module.pin); } catch (e) { if (!String(e.message).startsWith('CKR_USER_ALREADY_LOGGED_IN')) throw e; }
    const h = lib.C_CreateObject(s, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC }, { type: pkcs11js.CKA_TOKEN, value: false },
      { type: pkcs11js.CKA_SIGN, value: true }, { type: pkcs11js.CKA_EC_PARAMS, value: Buffer.from('06082a8648ce3d030107', 'hex') },
      { type: pkcs11js.CKA_VALUE, value: Buffer.from(module.d) },
    ]);
    const out = Buffer.alloc(64);
    sign = () => {
      lib.C_SignInit(s, { mechanism: 0x1044 }, h); // CKM_ECDSA_SHA256
      return lib.C_Sign(s, msg, out);
    };
  }
  for (let i = 0; i < 200; i++) sign(); // warm up
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 16; i++) sign();
    n += 16;
  }
  parentPort.postMessage(n);
}
