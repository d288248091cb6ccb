// src/webcrypto/providers/sha.ts
//
// digest() for SHA-1, SHA-256, SHA-384 and SHA-512, computed in the HSM (CloudHSM's profiles, like
// CloudHSM, want a logged-in crypto user for it).

import * as core from 'webcrypto-core';

import { arrayBuffer, view, WEB_HASHES, type FacadeContext, type WebHash } from '../params.js';

export class HsmShaProvider extends core.ProviderCrypto {
  readonly name: WebHash;
  readonly usages: KeyUsage[] = [];
  readonly #ctx: FacadeContext;

  constructor(ctx: FacadeContext, name: WebHash) {
    super();
    this.#ctx = ctx;
    this.name = name;
  }

  override async onDigest(_algorithm: Algorithm, data: ArrayBuffer): Promise<ArrayBuffer> {
    return arrayBuffer(await this.#ctx.digest(view(data), WEB_HASHES[this.name]));
  }
}
