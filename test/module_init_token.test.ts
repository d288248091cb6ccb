// test/module_init_token.test.ts
// C_InitToken as PKCS#11 §5.5 says, on memory and persistent pkcs11 tokens: the label given is the
// token's label; re-initializing checks the SO PIN, destroys every object, and removes the user
// PIN; a persistent token keeps the new state across C_Finalize / C_Initialize.

import { describe, expect, it } from 'vitest';

import { attrs, configure, pkcs11js, MODULE, rvOf } from './helpers/module.js';

configure(['slot memory profile=pkcs11 label=config-label', 'slot $BASE/disk profile=pkcs11 label=config-label create=true']);

const CKF_USER_PIN_INITIALIZED = 0x8;
const label = (s: string) => s.padEnd(32, ' ');

function run(p: pkcs11js.PKCS11, slot: Buffer) {
  const info = () => p.C_GetTokenInfo(slot);
  p.C_InitToken(slot, 'so-pin-0000', label('suite-a'));
  expect(info().label.trim()).toBe('suite-a');
  let s = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  p.C_Login(s, pkcs11js.CKU_SO, 'so-pin-0000');
  p.C_InitPIN(s, 'user-pin-0');
  p.C_Logout(s);
  p.C_Login(s, pkcs11js.CKU_USER, 'user-pin-0');
  p.C_GenerateKey(s, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, attrs([[pkcs11js.CKA_VALUE_LEN, 32], [pkcs11js.CKA_TOKEN, true], [pkcs11js.CKA_LABEL, 'kept?']]));
  p.C_CloseSession(s);
  expect(info().flags & CKF_USER_PIN_INITIALIZED).toBe(CKF_USER_PIN_INITIALIZED);

  expect(rvOf(() => p.C_InitToken(slot, 'wrong-so-pin', label('x')))).toBe('CKR_PIN_INCORRECT');
  p.C_InitToken(slot, 'so-pin-0000', label('suite-b'));
  expect(info().label.trim()).toBe('suite-b');
  expect(info().flags & CKF_USER_PIN_INITIALIZED).toBe(0);
  s = p.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  p.C_Login(s, pkcs11js.CKU_SO, 'so-pin-0000');
  p.C_InitPIN(s, 'user-pin-1');
  p.C_Logout(s);
  p.C_Login(s, pkcs11js.CKU_USER, 'user-pin-1');
  p.C_FindObjectsInit(s, attrs([[pkcs11js.CKA_LABEL, 'kept?']]));
  expect(p.C_FindObjects(s, 10)).toEqual([]);
  p.C_FindObjectsFinal(s);
  p.C_CloseSession(s);
}

describe('C_InitToken', () => {
  it('sets the label and re-initializes memory and persistent tokens; a persistent one keeps it', () => {
    const p = new pkcs11js.PKCS11();
    p.load(MODULE);
    p.C_Initialize();
    const [memory, disk] = p.C_GetSlotList(true) as [Buffer, Buffer];
    run(p, memory);
    run(p, disk);
    p.C_Finalize();
    p.C_Initialize();
    const [, again] = p.C_GetSlotList(true) as [Buffer, Buffer];
    expect(p.C_GetTokenInfo(again).label.trim()).toBe('suite-b');
    const s = p.C_OpenSession(again, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    p.C_Login(s, pkcs11js.CKU_USER, 'user-pin-1');
    p.C_CloseSession(s);
    p.C_Finalize();
    p.close();
  });
});
