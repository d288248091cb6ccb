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

  /** Changes a password: admins for anyone (this also unlocks), crypto users for themselves. */
  async changePassword(username: string, password: string): Promise<void> {
    await call(this.#ctx.native.changePassword(this.#ctx.slot, username, password));
  }
}
