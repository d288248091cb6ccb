// src/webcrypto/crypto.ts
//
// The Crypto object around an HSM's SubtleCrypto: what pkijs' CryptoEngine and @peculiar/x509's
// cryptoProvider take. getRandomValues must be synchronous, so it is node:crypto's CSPRNG (the
// HSM's own generator is `hsm.random()`, asynchronous).

import { getRandomValues } from 'node:crypto';

import * as core from 'webcrypto-core';

import type { KeyHandle } from '../client/key_handle.js';
import { adopt } from './adopt.js';
import { handleOf } from './key.js';
import type { FacadeContext } from './params.js';
import { HsmSubtle } from './subtle.js';
import type { HsmCrypto } from './types.js';

class Subtle extends HsmSubtle {
  fromHandle(handle: KeyHandle, algorithm?: string | (Algorithm & Record<string, unknown>)): Promise<CryptoKey> {
    return adopt(handle, algorithm);
  }

  handleOf(key: CryptoKey): KeyHandle {
    return handleOf(key);
  }
}

class FacadeCrypto extends core.Crypto {
  readonly subtle: Subtle;

  constructor(ctx: FacadeContext) {
    super();
    this.subtle = new Subtle(ctx);
  }

  getRandomValues<T extends ArrayBufferView | null>(array: T): T {
    return getRandomValues(array as unknown as Uint8Array) as unknown as T;
  }
}

/** The Web Crypto facade of one HSM client. */
export function createCrypto(ctx: FacadeContext): HsmCrypto {
  return new FacadeCrypto(ctx) as unknown as HsmCrypto;
}
