// test/helpers/hsm.ts — a memory token and a read-write session for a test file.

import { CKA, SealHsm, call, native, type NativeMechanism, type NativeTemplate, type ProfileName } from '../../src/index.js';

export interface TestToken {
  slot: number;
  session: number;
  close(): void;
}

// A memory token activated by its admin, with one crypto user made and logged in, and a read-write session.
async function provisioned(profile: ProfileName, label: string, admin: [string, string], user: [string, string]): Promise<TestToken> {
  const slot = native.createToken(profile, label);
  await native.activate(slot, admin[1]);
  await native.login(slot, admin[0], admin[1]);
  await native.createUser(slot, user[0], user[1], 'crypto-user');
  native.logout(slot);
  await native.login(slot, user[0], user[1]);
  const session = native.openSession(slot, true);
  return { slot, session, close: () => native.removeToken(slot) };
}

/** A pkcs11-profile token with its SO PIN set, the normal user created, and that user logged in. */
export function openToken(label = 'test'): Promise<TestToken> {
  return provisioned('pkcs11', label, ['so', 'so-pin-1234'], ['user', 'user-pin-1234']);
}

/** A CloudHSM-profile memory token with its admin activated and crypto user alice logged in
 *  ('alice-password'); the session is read-write. */
export function openCloudToken(label = 'cloud'): Promise<TestToken> {
  return provisioned('cloudhsm', label, ['admin', 'admin-password'], ['alice', 'alice-password']);
}

/** Imports with extra attributes appended (usage flags etc.). */
export function importKey(t: TestToken, material: NativeTemplate, extra: NativeTemplate = []): Promise<number> {
  return call(native.createObject(t.session, [...material, ...extra]));
}

/** Rejects → the error; resolves → undefined. For asserting exact codes. */
export async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** verify() as a boolean: false only for a bad signature; anything else rethrows. */
export async function verifies(t: TestToken, m: NativeMechanism | number, key: number, data: Uint8Array, sig: Uint8Array): Promise<boolean> {
  try {
    await call(native.verify(t.session, m, key, data, sig));
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'CKR_SIGNATURE_INVALID' || code === 'CKR_SIGNATURE_LEN_RANGE') return false;
    throw e;
  }
}

export async function readValue(t: TestToken, key: number): Promise<Buffer> {
  const [a] = await call(native.getAttributes(t.session, key, [CKA.VALUE]));
  if (a?.value == null) throw new Error(`CKA_VALUE not readable (rv ${a?.rv})`);
  return a.value;
}

/** Attributes that make an imported or derived secret usable for everything and readable. */
export const OPEN_SECRET: NativeTemplate = [
  [CKA.SENSITIVE, false],
  [CKA.EXTRACTABLE, true],
];

/** A client in memory with a crypto user logged in: 'user' on the pkcs11 profile, 'alice' on the
 *  CloudHSM profiles. */
export async function cryptoUser(profile: ProfileName = 'pkcs11'): Promise<SealHsm> {
  const hsm = SealHsm.memory({ profile });
  const [admin, user] = profile === 'pkcs11' ? ['so', 'user'] : ['admin', 'alice'];
  await hsm.activate('admin-password');
  await hsm.login(admin, 'admin-password');
  await hsm.users.create(user, `${user}-password`);
  hsm.logout();
  await hsm.login(user, `${user}-password`);
  return hsm;
}

/** The name of what a promise rejects with ('resolved' when it does not): for DOMException and SDK error names. */
export async function nameOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return (e as Error).name;
  }
}
