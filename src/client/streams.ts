// src/client/streams.ts
//
// Encryption and decryption as Node streams: a multi-part operation (C_EncryptInit / Update / Final)
// on a session of its own, so data of any size passes through the HSM in constant memory and at the
// one-shot rate. Writes are gathered into chunks of `chunkSize` bytes; each chunk runs on the calling
// thread, as node:crypto's cipher streams do (a megabyte takes a fraction of a millisecond, less than
// handing it to a worker and back, and the chunk is then read in place rather than copied).

import { Transform, type TransformCallback } from 'node:stream';

import { call, fromNative } from '../errors.js';
import type { NativeMechanism } from '../native/binding.js';
import type { ClientContext } from './context.js';

export interface CipherStreamOptions {
  /** Bytes gathered before each call into the HSM (default 1 MiB; at least 16 bytes). */
  readonly chunkSize?: number;
}

const DEFAULT_CHUNK = 1 << 20;

/** A Transform whose output is its input encrypted (or decrypted) inside the HSM. `iv` is the IV the
 *  operation uses, once the first chunk has gone in (a CloudHSM profile chooses it). */
export class CipherStream extends Transform {
  readonly #ctx: ClientContext;
  readonly #encrypt: boolean;
  readonly #mechanism: NativeMechanism | number;
  readonly #key: number;
  readonly #chunk: number;
  #session: number | undefined;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  /** @internal Made by KeyHandle.encryptStream / decryptStream. */
  constructor(ctx: ClientContext, encrypt: boolean, mechanism: NativeMechanism | number, key: number, options: CipherStreamOptions = {}) {
    super();
    const chunk = options.chunkSize ?? DEFAULT_CHUNK;
    if (!Number.isSafeInteger(chunk) || chunk < 16) throw new RangeError('chunkSize must be an integer of at least 16 bytes');
    this.#ctx = ctx;
    this.#encrypt = encrypt;
    this.#mechanism = mechanism;
    this.#key = key;
    this.#chunk = chunk;
  }

  /** The IV in the mechanism (written by the HSM where the profile chooses it), if it has one. */
  get iv(): Buffer | undefined {
    const m = this.#mechanism;
    return typeof m === 'object' && m.iv !== undefined ? Buffer.from(m.iv) : undefined;
  }

  override _transform(data: Buffer | string, encoding: BufferEncoding, done: TransformCallback): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, encoding) : data;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes < this.#chunk) {
      done();
      return;
    }
    this.#run(async () => this.#send(this.#take()), done);
  }

  /** A synchronous native call, its failure as an HsmError. */
  #now<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw fromNative(e);
    }
  }

  override _flush(done: TransformCallback): void {
    this.#run(async () => {
      if (this.#pendingBytes > 0) await this.#send(this.#take());
      const session = await this.#open();
      const n = this.#ctx.native;
      const tail = this.#now(() => (this.#encrypt ? n.encryptFinalSync(session) : n.decryptFinalSync(session)));
      this.#close();
      if (tail.length > 0) this.push(tail);
    }, done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#close(); // ends any operation still active with its session
    done(error);
  }

  #take(): Buffer {
    const all = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    return all;
  }

  async #send(data: Buffer): Promise<void> {
    const session = await this.#open();
    const n = this.#ctx.native;
    const out = this.#now(() => (this.#encrypt ? n.encryptUpdateSync(session, data) : n.decryptUpdateSync(session, data)));
    if (out.length > 0) this.push(out);
  }

  async #open(): Promise<number> {
    if (this.#session !== undefined) return this.#session;
    const n = this.#ctx.native;
    const session = n.openSession(this.#ctx.slot, false);
    try {
      await call(this.#encrypt ? n.encryptInit(session, this.#mechanism, this.#key) : n.decryptInit(session, this.#mechanism, this.#key));
    } catch (e) {
      n.closeSession(session);
      throw e;
    }
    this.#session = session;
    return session;
  }

  #close(): void {
    if (this.#session === undefined) return;
    const session = this.#session;
    this.#session = undefined;
    try {
      this.#ctx.native.closeSession(session);
    } catch {
      // already closed with its token (logout or close of the HSM)
    }
  }

  #run(work: () => Promise<void>, done: TransformCallback): void {
    work().then(() => done(), (e: unknown) => {
      this.#close();
      done(e as Error);
    });
  }
}
