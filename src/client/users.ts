// src/client/users.ts
// CloudHSM user management (`user list | create | delete | change-password`): admins manage users;
// a crypto user may change its own password. The pkcs11 profile has the SO ("so") and one normal
// user ("user").

import { call } from '../errors.js';
import type { ClientContext } from './context.js';

export type Role = 'admin' | 'crypto-user';

export interface UserInfo {
  readonly username: string;
  readonly role: Role | 'unactivated-admin';
  readonly locked: boolean;
}

export class UserManager {
  readonly #ctx: ClientContext;

  /** @internal */
  constructor(ctx: ClientContext) {
    this.#ctx = ctx;
  }

  /** Every user (no login needed). */
  list(): UserInfo[] {
    return this.#ctx.native.listUsers(this.#ctx.slot).map((u) => ({ username: u.user, role: u.role, locked: u.locked }));
  }

  /** Creates a user (admin). Names: 1–31 letters, digits or '_', case-insensitive. */
  async create(username: string, password: string, role: Role = 'crypto-user'): Promise<void> {
    if (role !== 'admin' && role !== 'crypto-user') throw new RangeError("role must be 'admin' or 'crypto-user'");
    await call(this.#ctx.native.createUser(this.#ctx.slot, username, password, role));
  }

  /** Deletes a user (admin). Refused while the user owns keys or is logged in. */
  async delete(username: string): Promise<void> {
    await call(this.#ctx.native.deleteUser(this.#ctx.slot, username));
  }

  /** Changes a password: a user its own (its keys move to a new user key), or an admin anyone's,
   *  which also unlocks. On a token directory an admin's change is a reset: nothing but the old
   *  password opens the user's keys, so it gets new ones. A user that holds token objects is then
   *  refused (CKR_ACTION_PROHIBITED) unless `discardKeys` says to delete them, which operator.log
   *  records; shares to the user are dropped. */
  async changePassword(username: string, password: string, options: { readonly discardKeys?: boolean } = {}): Promise<void> {
    if (options.discardKeys !== undefined && typeof options.discardKeys !== 'boolean') throw new TypeError('discardKeys must be a boolean');
    await call(this.#ctx.native.changePassword(this.#ctx.slot, username, password, options.discardKeys ?? false));
  }
}
