// test/types/webcrypto.ts — the facade's types fit the libraries that take a Crypto, without casts.
import * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';

import { SealHsm, type HsmCryptoKey } from '../../src/index.js';

declare const hsm: SealHsm;
export const engine = new pkijs.CryptoEngine({ name: 'sealhsm', crypto: hsm.crypto });
x509.cryptoProvider.set(hsm.crypto);
export async function usage(): Promise<void> {
  const pair = await hsm.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'], { token: true, label: 'x' });
  const key: HsmCryptoKey = await hsm.subtle.fromHandle(hsm.subtle.handleOf(pair.privateKey));
  await hsm.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new Uint8Array(1));
  // @ts-expect-error the options argument is { token, label, id }
  await hsm.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt'], { token: 'yes' });
}
