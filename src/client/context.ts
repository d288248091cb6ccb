// src/client/context.ts
// What KeyHandle, KeyManager and UserManager share with the SealHsm that made them.

import type { AttributeInput, NativeBinding } from '../native/binding.js';
import type { KeyClass, KeyType } from './attributes.js';

export interface ClientContext {
  readonly native: NativeBinding;
  readonly slot: number;
  readonly profile: string;
  /** A session from the client's pool. */
  session(): number;
  /** CKA_CLASS and CKA_KEY_TYPE entries. */
  classAndType(cls: KeyClass, type: KeyType): Array<[number, AttributeInput]>;
}
