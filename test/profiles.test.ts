// test/profiles.test.ts
// Each profile's mechanism list and key-size rules (issue: the stand-in holds under other people's
// suites): the CloudHSM profiles list CloudHSM's mechanisms for that model and no more (spec
// cloudhsm.md §1.4); the pkcs11 profile adds the standard's others and 1024-bit RSA keys.

import { describe, expect, it } from 'vitest';

import { SealHsm } from '../src/index.js';

// spec/cloudhsm.md §1.4 (CKM_EC_EDWARDS_KEY_PAIR_GEN / CKM_EDDSA: hsm2m.medium non-FIPS only).
const CLOUDHSM = new Set([
  'CKM_RSA_PKCS_KEY_PAIR_GEN', 'CKM_RSA_X9_31_KEY_PAIR_GEN', 'CKM_EC_KEY_PAIR_GEN', 'CKM_GENERIC_SECRET_KEY_GEN', 'CKM_AES_KEY_GEN', 'CKM_DES3_KEY_GEN',
  'CKM_RSA_X_509', 'CKM_RSA_PKCS', 'CKM_RSA_PKCS_PSS', 'CKM_RSA_PKCS_OAEP', 'CKM_RSA_AES_KEY_WRAP',
  ...['SHA1', 'SHA224', 'SHA256', 'SHA384', 'SHA512'].flatMap((h) => [`CKM_${h}_RSA_PKCS`, `CKM_${h}_RSA_PKCS_PSS`, `CKM_ECDSA_${h}`]),
  'CKM_ECDSA', 'CKM_ECDH1_DERIVE', 'CKM_CLOUDHSM_SP800_108_COUNTER_KDF',
  'CKM_SHA_1', 'CKM_SHA224', 'CKM_SHA256', 'CKM_SHA384', 'CKM_SHA512',
  'CKM_SHA_1_HMAC', 'CKM_SHA224_HMAC', 'CKM_SHA256_HMAC', 'CKM_SHA384_HMAC', 'CKM_SHA512_HMAC', 'CKM_AES_CMAC',
  'CKM_AES_ECB', 'CKM_AES_CTR', 'CKM_AES_CBC', 'CKM_AES_CBC_PAD', 'CKM_AES_GCM', 'CKM_CLOUDHSM_AES_GCM',
  'CKM_DES3_ECB', 'CKM_DES3_CBC', 'CKM_DES3_CBC_PAD',
  'CKM_CLOUDHSM_AES_KEY_WRAP_NO_PAD', 'CKM_CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD', 'CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD',
]);
const ED25519 = ['CKM_EC_EDWARDS_KEY_PAIR_GEN', 'CKM_EDDSA'];

describe('mechanism lists', () => {
  for (const profile of ['cloudhsm', 'cloudhsm-fips', 'cloudhsm-hsm1'] as const) {
    it(`${profile}: CloudHSM's mechanisms, no more`, () => {
      const list = SealHsm.memory({ profile }).mechanisms();
      const extra = list.filter((m) => !CLOUDHSM.has(m) && !(profile === 'cloudhsm' && ED25519.includes(m)));
      expect(extra).toEqual([]);
      expect(list).not.toContain('CKM_HKDF_DERIVE');
      expect(list).toContain('CKM_RSA_X9_31_KEY_PAIR_GEN');
      // Triple DES on hsm2m.medium in non-FIPS mode only (refused in FIPS mode, as CloudHSM does).
      expect(list.includes('CKM_DES3_CBC')).toBe(profile === 'cloudhsm');
    });
  }

  it('pkcs11: the standard mechanisms CloudHSM lacks as well', () => {
    const list = SealHsm.memory({ profile: 'pkcs11' }).mechanisms();
    for (const m of ['CKM_DES3_KEY_GEN', 'CKM_DES3_ECB', 'CKM_DES3_CBC', 'CKM_DES3_CBC_PAD', 'CKM_HKDF_DERIVE', 'CKM_SHA256_HMAC_GENERAL', 'CKM_AES_CMAC_GENERAL', 'CKM_SP800_108_COUNTER_KDF', 'CKM_AES_KEY_WRAP_PAD']) {
      expect(list).toContain(m);
    }
  });
});

describe('RSA key sizes', () => {
  async function loggedIn(profile: 'cloudhsm' | 'pkcs11') {
    const hsm = SealHsm.memory({ profile });
    const admin = profile === 'pkcs11' ? 'so' : 'admin';
    await hsm.activate('admin-password');
    await hsm.login(admin, 'admin-password');
    await hsm.users.create(profile === 'pkcs11' ? 'user' : 'alice', 'user-password');
    hsm.logout();
    await hsm.login(profile === 'pkcs11' ? 'user' : 'alice', 'user-password');
    return hsm;
  }

  it('1024-bit RSA keys are generated in the pkcs11 profile only; CloudHSM profiles keep 2048', async () => {
    const p = await loggedIn('pkcs11');
    const pair = await p.keys.generateRsa({ modulusBits: 1024 });
    expect(await pair.publicKey.verify(Buffer.from('m'), await pair.privateKey.sign(Buffer.from('m')))).toBe(true);
    const c = await loggedIn('cloudhsm');
    expect(await c.keys.generateRsa({ modulusBits: 1024 }).catch((e: { code?: string }) => e.code)).toBe('CKR_KEY_SIZE_RANGE');
  });

  it('CKM_RSA_X9_31_KEY_PAIR_GEN through the client (x931: true)', async () => {
    const c = await loggedIn('cloudhsm');
    const pair = await c.keys.generateRsa({ x931: true });
    expect(await pair.publicKey.verify(Buffer.from('m'), await pair.privateKey.sign(Buffer.from('m')))).toBe(true);
  });
});
