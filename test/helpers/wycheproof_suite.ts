// test/helpers/wycheproof_suite.ts
//
// Every vendored Wycheproof file, through a "door": the addon (PKCS#11-shaped) or the client
// (CloudHSM-shaped). valid → must be accepted with the expected output; invalid → must be rejected;
// acceptable → must match the policy written next to each runner. A file without a runner fails.
// Mechanisms are given in the client's typed form; each door turns them into its own calls.

import { describe, expect, it } from 'vitest';

import { curveByName, derToP1363, type EncryptMechanism, type HashName, type SignMechanism } from '../../src/index.js';
import { splitEcSpki } from './der.js';
import { ALL_FILES, hex, loadWycheproof, type WycheproofGroup, type WycheproofTest } from './vectors.js';

/** What a door must do for the vectors. Keys are whatever the door uses (handle, KeyHandle). */
export interface Door<K> {
  aes(value: Uint8Array): Promise<K>;
  generic(value: Uint8Array): Promise<K>;
  publicSpki(der: Uint8Array): Promise<K>;
  privatePkcs8(der: Uint8Array): Promise<K>;
  ecPrivate(curve: string, d: Uint8Array): Promise<K>;
  encrypt(k: K, m: EncryptMechanism, data: Uint8Array): Promise<Buffer>;
  decrypt(k: K, m: EncryptMechanism, data: Uint8Array): Promise<Buffer>;
  sign(k: K, m: SignMechanism, data: Uint8Array): Promise<Buffer>;
  verify(k: K, m: SignMechanism, data: Uint8Array, sig: Uint8Array): Promise<boolean>;
  /** ECDH with CKD_NULL: the shared secret. */
  ecdh(k: K, peerPoint: Uint8Array): Promise<Buffer>;
  /** HKDF-SHA256 extract-and-expand to `size` bytes. */
  hkdf(k: K, salt: Uint8Array, info: Uint8Array, size: number): Promise<Buffer>;
  /** Files this door cannot express at all, with the reason (each still shows as a test). */
  readonly cannotExpress?: Readonly<Record<string, string>>;
}

type Runner<K> = (door: Door<K>, g: WycheproofGroup, t: WycheproofTest) => Promise<boolean>;
type Policy = (t: WycheproofTest, g: WycheproofGroup) => boolean;

/** A rejection by the token (a CKR_* code) or by a format parser (node's ERR_*) counts as "rejected". */
async function accepted(run: () => Promise<boolean>): Promise<boolean> {
  try {
    return await run();
  } catch (e) {
    const code = String((e as { code?: unknown }).code ?? '');
    if (code.startsWith('CKR_') || code.startsWith('ERR_')) return false;
    throw e;
  }
}

const sha = (s: unknown): HashName => String(s).replace('-', '') as HashName;
const SHA_OF = { SHA256: 'SHA256', SHA384: 'SHA384', SHA512: 'SHA512' } as const;

// Symmetric ciphers: decrypt(ct) must give msg; for valid cases encrypt(msg) must give ct too.
const cipherRunner = <K>(mech: (g: WycheproofGroup, t: WycheproofTest) => EncryptMechanism, ctOf: (t: WycheproofTest) => Buffer): Runner<K> =>
  async (door, g, t) => {
    const key = await door.aes(hex(t.key));
    const m = mech(g, t);
    const pt = await door.decrypt(key, m, ctOf(t));
    if (!pt.equals(hex(t.msg))) return false;
    return (await door.encrypt(key, m, hex(t.msg))).equals(ctOf(t));
  };

// MACs: for valid cases sign must give the tag; verify decides acceptance.
const macRunner = <K>(secret: 'aes' | 'generic', mech: (g: WycheproofGroup) => SignMechanism): Runner<K> =>
  async (door, g, t) => {
    const key = secret === 'aes' ? await door.aes(hex(t.key)) : await door.generic(hex(t.key));
    const m = mech(g);
    if (t.result === 'valid' && !(await door.sign(key, m, hex(t.msg))).equals(hex(t.tag))) return false;
    return door.verify(key, m, hex(t.msg), hex(t.tag));
  };

const groupKeys = new WeakMap<object, Map<WycheproofGroup, Promise<unknown>>>();
function groupKey<K>(door: Door<K>, g: WycheproofGroup, make: () => Promise<K>): Promise<K> {
  let m = groupKeys.get(door);
  if (m === undefined) groupKeys.set(door, (m = new Map()));
  let k = m.get(g);
  if (k === undefined) m.set(g, (k = make()));
  return k as Promise<K>;
}

const ecdsaRunner = <K>(p1363: boolean): Runner<K> => async (door, g, t) => {
  const key = await groupKey(door, g, () => door.publicSpki(hex(g.publicKeyDer)));
  const curve = curveByName(String((g.publicKey as { curve: string }).curve));
  const sig = p1363 ? hex(t.sig) : derToP1363(hex(t.sig), curve.size);
  if (sig === undefined) return false; // not a DER signature: the DER reader refuses it
  return door.verify(key, `ECDSA_${SHA_OF[sha(g.sha) as keyof typeof SHA_OF]}`, hex(t.msg), sig);
};

const rsaSigRunner = <K>(): Runner<K> => async (door, g, t) =>
  door.verify(await groupKey(door, g, () => door.publicSpki(hex(g.publicKeyDer))), `${sha(g.sha)}_RSA_PKCS` as SignMechanism, hex(t.msg), hex(t.sig));

const pssRunner = <K>(): Runner<K> => async (door, g, t) => {
  const m: SignMechanism = { name: `${sha(g.sha)}_RSA_PKCS_PSS` as 'SHA256_RSA_PKCS_PSS', hash: sha(g.sha), mgf: sha(g.mgfSha), saltLength: Number(g.sLen) };
  return door.verify(await groupKey(door, g, () => door.publicSpki(hex(g.publicKeyDer))), m, hex(t.msg), hex(t.sig));
};

const oaepRunner = <K>(): Runner<K> => async (door, g, t) => {
  const key = await groupKey(door, g, () => door.privatePkcs8(hex(g.privateKeyPkcs8)));
  const pt = await door.decrypt(key, { name: 'RSA_PKCS_OAEP', hash: sha(g.sha), mgf: sha(g.mgfSha), label: hex(t.label) }, hex(t.ct));
  return pt.equals(hex(t.msg));
};

const ecdhRunner = <K>(): Runner<K> => async (door, g, t) => {
  const curve = curveByName(String(g.curve));
  const peer = splitEcSpki(hex(t.public));
  if (peer === undefined || !peer.curve.equals(Buffer.from(curve.params))) return false; // not a named-curve key on this curve
  const priv = await door.ecPrivate(curve.name, hex(t.private));
  return (await door.ecdh(priv, peer.point)).equals(hex(t.shared));
};

function runners<K>(): Record<string, { run: Runner<K>; acceptable?: Policy }> {
  return {
    'aes_gcm_test.json': {
      run: cipherRunner((g, t) => ({ name: 'AES_GCM', iv: hex(t.iv), aad: hex(t.aad), tagBits: Number(g.tagSize) }), (t) => Buffer.concat([hex(t.ct), hex(t.tag)])),
    },
    'aes_cbc_pkcs5_test.json': { run: cipherRunner((_g, t) => ({ name: 'AES_CBC_PAD', iv: hex(t.iv) }), (t) => hex(t.ct)) },
    'aes_wrap_test.json': {
      run: cipherRunner(() => 'AES_KEY_WRAP', (t) => hex(t.ct)),
      // ShortKey: wrapping 8 bytes. NIST SP 800-38F defines KW for 16 bytes and up; sealhsm refuses less.
      acceptable: () => false,
    },
    'aes_kwp_test.json': { run: cipherRunner(() => 'AES_KEY_WRAP_PAD', (t) => hex(t.ct)) },
    'aes_cmac_test.json': { run: macRunner('aes', (g) => ({ name: 'AES_CMAC_GENERAL', macLength: Number(g.tagSize) / 8 })) },
    'hmac_sha256_test.json': { run: macRunner('generic', (g) => ({ name: 'SHA256_HMAC_GENERAL', macLength: Number(g.tagSize) / 8 })) },
    'hmac_sha384_test.json': { run: macRunner('generic', (g) => ({ name: 'SHA384_HMAC_GENERAL', macLength: Number(g.tagSize) / 8 })) },
    'hmac_sha512_test.json': { run: macRunner('generic', (g) => ({ name: 'SHA512_HMAC_GENERAL', macLength: Number(g.tagSize) / 8 })) },
    'ecdsa_secp256r1_sha256_test.json': { run: ecdsaRunner(false) },
    'ecdsa_secp384r1_sha384_test.json': { run: ecdsaRunner(false) },
    'ecdsa_secp521r1_sha512_test.json': { run: ecdsaRunner(false) },
    'ecdsa_secp256r1_sha256_p1363_test.json': { run: ecdsaRunner(true) },
    'ecdsa_secp384r1_sha384_p1363_test.json': { run: ecdsaRunner(true) },
    'ed25519_test.json': {
      run: async (door, g, t) => door.verify(await groupKey(door, g, () => door.publicSpki(hex(g.publicKeyDer))), 'EDDSA', hex(t.msg), hex(t.sig)),
    },
    // MissingNull: a DigestInfo without the NULL parameter. OpenSSL re-encodes the DigestInfo with the
    // NULL and compares, so sealhsm rejects it: one canonical encoding per signature.
    'rsa_signature_2048_sha256_test.json': { run: rsaSigRunner(), acceptable: () => false },
    'rsa_signature_3072_sha384_test.json': { run: rsaSigRunner(), acceptable: () => false },
    'rsa_pss_2048_sha256_mgf1_32_test.json': { run: pssRunner() },
    'rsa_pss_3072_sha256_mgf1_32_test.json': { run: pssRunner() },
    'rsa_oaep_2048_sha1_mgf1sha1_test.json': { run: oaepRunner() },
    'rsa_oaep_2048_sha256_mgf1sha256_test.json': { run: oaepRunner() },
    'rsa_pkcs1_2048_test.json': {
      run: async (door, g, t) => (await door.decrypt(await groupKey(door, g, () => door.privatePkcs8(hex(g.privateKeyPkcs8))), 'RSA_PKCS', hex(t.ct))).equals(hex(t.msg)),
    },
    // Compressed peer points are decoded (CKF_EC_COMPRESS); keys with explicit or altered curve
    // parameters are refused: sealhsm speaks named curves only.
    'ecdh_secp256r1_test.json': { run: ecdhRunner(), acceptable: (t) => t.flags.includes('CompressedPoint') || t.flags.includes('CompressedPublic') },
    'ecdh_secp384r1_test.json': { run: ecdhRunner(), acceptable: (t) => t.flags.includes('CompressedPoint') || t.flags.includes('CompressedPublic') },
    'hkdf_sha256_test.json': {
      run: async (door, _g, t) => (await door.hkdf(await door.generic(hex(t.ikm)), hex(t.salt), hex(t.info), Number(t.size))).equals(hex(t.okm)),
    },
  };
}

/** Cases whose expected outcome sealhsm deliberately differs from, with the reason. */
function deliberate(file: string, t: WycheproofTest): boolean | undefined {
  // Generic secrets are at most 800 bytes (CloudHSM's limit), so HKDF output longer than that cannot
  // become a key: those derivations are refused with CKR_KEY_SIZE_RANGE.
  if (file === 'hkdf_sha256_test.json' && Number(t.size) > 800) return false;
  return undefined;
}

/** Declares the suite for one door. */
export function wycheproofSuite<K>(name: string, door: () => Promise<Door<K>>): void {
  describe(`Wycheproof through the ${name}`, () => {
    const table = runners<K>();
    let d: Door<K> | undefined;

    it('has a runner for every vendored file', () => {
      expect(ALL_FILES.filter((f) => !(f in table))).toEqual([]);
      expect(ALL_FILES.length).toBe(24);
    });

    for (const file of ALL_FILES) {
      it(file, async () => {
        d ??= await door();
        const reason = d.cannotExpress?.[file];
        if (reason !== undefined) {
          // Not a skip: the door states why, and the test checks that a reason is recorded.
          expect(reason.length).toBeGreaterThan(20);
          return;
        }
        const spec = table[file];
        if (spec === undefined) throw new Error(`no runner for ${file}`);
        const data = loadWycheproof(file);
        const wrong: string[] = [];
        let ran = 0;
        for (const g of data.testGroups) {
          for (const t of g.tests) {
            const got = await accepted(() => spec.run(d!, g, t));
            const override = deliberate(file, t);
            const want = override ?? (t.result === 'valid' ? true : t.result === 'invalid' ? false : spec.acceptable?.(t, g));
            if (want === undefined) wrong.push(`tc ${t.tcId}: acceptable case without a policy (flags ${t.flags.join(',')})`);
            else if (got !== want) wrong.push(`tc ${t.tcId} (${t.result}, ${t.flags.join(',')}): ${got ? 'accepted' : 'rejected'} — ${t.comment}`);
            ran++;
          }
        }
        expect(ran).toBe(data.numberOfTests);
        expect(wrong).toEqual([]);
      });
    }
  });
}
