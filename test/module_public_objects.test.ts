// test/module_public_objects.test.ts
// PKCS#11 §4.4 / §5.6: a public session sees the token's public objects. On a token directory each
// row is vouched for by its writer's signature, which needs no key to check, so a public object
// reads without a login; private ones stay invisible, and no key material opens without one.
import { describe, expect, it } from 'vitest';

import { attrs, configure, MODULE, pkcs11js, rvOf } from './helpers/module.js';

configure(['slot $BASE/disk profile=pkcs11 label=public-objects create=true']);

describe('public token objects in a public session (token directory)', () => {
  it('a data object and a public key are found and read; a private key is not found; signing needs the login', () => {
    const p = new pkcs11js.PKCS11();
    p.load(MODULE);
    p.C_Initialize();
    const [slot] = p.C_GetSlotList(true);
    p.C_InitToken(slot!, 'so-pin-0000', 'public-objects'.padEnd(32, ' '));
    let s = p.C_OpenSession(slot!, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    p.C_Login(s, pkcs11js.CKU_SO, 'so-pin-0000');
    p.C_InitPIN(s, 'user-pin-0');
    p.C_Logout(s);
    p.C_Login(s, pkcs11js.CKU_USER, 'user-pin-0');
    p.C_CreateObject(s, attrs([[pkcs11js.CKA_CLASS, pkcs11js.CKO_DATA], [pkcs11js.CKA_TOKEN, true], [pkcs11js.CKA_PRIVATE, false],
      [pkcs11js.CKA_LABEL, 'readme'], [pkcs11js.CKA_VALUE, Buffer.from('public data')]]));
    const ecParams = Buffer.from('06082a8648ce3d030107', 'hex'); // P-256
    const { privateKey } = p.C_GenerateKeyPair(s, { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
      attrs([[pkcs11js.CKA_TOKEN, true], [pkcs11js.CKA_EC_PARAMS, ecParams], [pkcs11js.CKA_LABEL, 'pair'], [pkcs11js.CKA_VERIFY, true]]),
      attrs([[pkcs11js.CKA_TOKEN, true], [pkcs11js.CKA_LABEL, 'pair'], [pkcs11js.CKA_SIGN, true]]));
    const signature = (() => {
      p.C_SignInit(s, { mechanism: pkcs11js.CKM_ECDSA }, privateKey);
      return p.C_Sign(s, Buffer.alloc(32, 1), Buffer.alloc(128));
    })();
    p.C_CloseSession(s);
    p.C_Finalize();

    // A new process's view: nobody logged in.
    p.C_Initialize();
    s = p.C_OpenSession(slot!, pkcs11js.CKF_SERIAL_SESSION);
    p.C_FindObjectsInit(s, attrs([[pkcs11js.CKA_LABEL, 'readme']]));
    const [data] = p.C_FindObjects(s, 10);
    p.C_FindObjectsFinal(s);
    expect(data).toBeDefined();
    expect(p.C_GetAttributeValue(s, data!, [{ type: pkcs11js.CKA_VALUE }])[0]!.value!.toString()).toBe('public data');
    p.C_FindObjectsInit(s, attrs([[pkcs11js.CKA_LABEL, 'pair']]));
    const found = p.C_FindObjects(s, 10);
    p.C_FindObjectsFinal(s);
    expect(found).toHaveLength(1); // the public key; the private one is the user's
    const pub = found[0]!;
    expect(p.C_GetAttributeValue(s, pub, [{ type: pkcs11js.CKA_CLASS }])[0]!.value!.readUInt32LE(0)).toBe(pkcs11js.CKO_PUBLIC_KEY);
    p.C_VerifyInit(s, { mechanism: pkcs11js.CKM_ECDSA }, pub);
    expect(p.C_Verify(s, Buffer.alloc(32, 1), signature)).toBe(true);
    expect(rvOf(() => p.C_SignInit(s, { mechanism: pkcs11js.CKM_ECDSA }, privateKey))).toBe('CKR_KEY_HANDLE_INVALID');
    p.C_CloseSession(s);
    p.C_Finalize();
  });
});
