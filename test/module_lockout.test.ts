// test/module_lockout.test.ts
// Issue "harden the seal": the pkcs11 profile locks a PIN after the configured number of failures
// (lockout=N in the module configuration) and says so in CK_TOKEN_INFO with the standard's flags;
// the SO unlocks the user PIN with C_InitPIN.

import { afterAll, describe, expect, it } from 'vitest';

import { configure, openModule, pkcs11js, rvOf } from './helpers/module.js';

configure(['slot memory profile=pkcs11 label=lockout lockout=3']);
const p11 = openModule();
afterAll(() => p11.C_Finalize());
const [slot] = p11.C_GetSlotList(true) as [Buffer];

const CKF_USER_PIN_COUNT_LOW = 0x10000;
const CKF_USER_PIN_FINAL_TRY = 0x20000;
const CKF_USER_PIN_LOCKED = 0x40000;
const CKF_SO_PIN_COUNT_LOW = 0x100000;
const PIN_FLAGS = 0xff0000;

const pinFlags = () => p11.C_GetTokenInfo(slot).flags & PIN_FLAGS;
const loginCode = (s: Buffer, type: number, pin: string) => rvOf(() => p11.C_Login(s, type, pin));

describe('PIN lockout through the module', () => {
  it('COUNT_LOW, then FINAL_TRY, then LOCKED; the SO unlocks with C_InitPIN', () => {
    p11.C_InitToken(slot, 'so-pin-0000', 'lockout');
    const so = p11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    p11.C_Login(so, pkcs11js.CKU_SO, 'so-pin-0000');
    p11.C_InitPIN(so, 'user-pin-0');
    p11.C_Logout(so);
    expect(pinFlags()).toBe(0);
    expect(loginCode(so, pkcs11js.CKU_USER, 'wrong')).toBe('CKR_PIN_INCORRECT');
    expect(pinFlags()).toBe(CKF_USER_PIN_COUNT_LOW);
    expect(loginCode(so, pkcs11js.CKU_USER, 'wrong')).toBe('CKR_PIN_INCORRECT');
    expect(loginCode(so, pkcs11js.CKU_USER, 'wrong')).toBe('CKR_PIN_INCORRECT');
    expect(pinFlags()).toBe(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
    expect(loginCode(so, pkcs11js.CKU_USER, 'wrong')).toBe('CKR_PIN_INCORRECT');
    expect(pinFlags()).toBe(CKF_USER_PIN_LOCKED);
    expect(loginCode(so, pkcs11js.CKU_USER, 'user-pin-0')).toBe('CKR_PIN_LOCKED');
    expect(loginCode(so, pkcs11js.CKU_SO, 'wrong')).toBe('CKR_PIN_INCORRECT');
    expect(pinFlags()).toBe(CKF_USER_PIN_LOCKED | CKF_SO_PIN_COUNT_LOW);
    p11.C_Login(so, pkcs11js.CKU_SO, 'so-pin-0000');
    p11.C_InitPIN(so, 'user-pin-1');
    p11.C_Logout(so);
    expect(pinFlags()).toBe(0);
    expect(loginCode(so, pkcs11js.CKU_USER, 'user-pin-1')).toBe('CKR_OK');
    p11.C_CloseSession(so);
  });
});
