// src/aws/pipeline.ts
//
// What every AWS endpoint of the server does before an operation runs (DESIGN "the AWS endpoints
// as one server with one request pipeline"): the listener's limits (headers within a deadline, the
// whole request within another, a cap on connections per client address and in all), the body read
// within a size bound, the JSON 1.1 framing (POST, X-Amz-Target naming an operation of the service,
// the protocol's Content-Type, a JSON object body) and dispatch on the service's own operations
// only. SigV4 is sigv4.ts; each service's operations and state are its own folder.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { AwsError } from './errors.js';

export interface ListenOptions {
  readonly port?: number;
  readonly host?: string;
  /** Names (or name:port) a signed Host header may carry besides the address listened on, localhost and 127.0.0.1. */
  readonly hostnames?: readonly string[];
  /** All request headers must arrive within this (default 10 s). */
  readonly headersTimeoutMs?: number;
  /** The body must arrive within this of the headers (default 30 s); the connection is cut after it. */
  readonly requestTimeoutMs?: number;
  /** Open connections from one client address (default 256: an SDK client pools up to 50); more are closed at once. */
  readonly maxConnectionsPerClient?: number;
  /** Open connections in all (default 1024). */
  readonly maxConnections?: number;
}

export interface Listener {
  readonly server: Server;
  readonly url: string;
  readonly port: number;
  /** How long a request's body may take to arrive (readBody's deadline). */
  readonly bodyTimeoutMs: number;
  /** Whether a signed Host header names this listener. */
  readonly host: (host: string) => boolean;
  close(): Promise<void>;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Starts an HTTP listener with the limits every endpoint keeps. */
export async function listen(handler: RequestHandler, options: ListenOptions, onError: (e: unknown) => void): Promise<Listener> {
  const bodyTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  // Node's own whole-request deadline, as a backstop behind readBody's.
  const requestTimeout = headersTimeout + bodyTimeoutMs;
  // How often Node looks for requests past their deadlines: a fraction of the shorter deadline.
  const checkEvery = Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4)));
  const server = createServer({ headersTimeout, requestTimeout, connectionsCheckingInterval: checkEvery }, (req, res) => {
    handler(req, res).catch((e: unknown) => {
      onError(e);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 5000;
  server.maxConnections = options.maxConnections ?? 1024;
  const perClient = options.maxConnectionsPerClient ?? 256;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const who = socket.remoteAddress ?? '';
    const n = (open.get(who) ?? 0) + 1;
    if (n > perClient) {
      socket.destroy();
      return;
    }
    open.set(who, n);
    socket.once('close', () => {
      const left = (open.get(who) ?? 1) - 1;
      if (left === 0) open.delete(who);
      else open.set(who, left);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const shown = address.includes(':') ? `[${address}]` : address;
  const names = new Set<string>();
  for (const n of [shown, 'localhost', '127.0.0.1', '[::1]']) names.add(`${n}:${port}`);
  if (port === 80) for (const n of [shown, 'localhost', '127.0.0.1', '[::1]']) names.add(n);
  for (const n of options.hostnames ?? []) names.add(n.toLowerCase());
  const host = (h: string): boolean => {
    const v = h.trim().toLowerCase();
    return names.has(v) || names.has(v.replace(/:\d+$/, ''));
  };
  return {
    server, url: `http://${shown}:${port}`, port, host, bodyTimeoutMs,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** The request body, refused past `max` bytes; a body still arriving after `deadlineMs` cuts the
 *  connection (a client that sends a byte a second holds nothing for long). */
export async function readBody(req: IncomingMessage, max: number, deadlineMs: number): Promise<Buffer> {
  const timer = setTimeout(() => req.socket.destroy(), deadlineMs);
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > max) throw new AwsError('SerializationException', 'The request body is too large');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  } finally {
    clearTimeout(timer);
  }
}

/** A JSON 1.1 service: its X-Amz-Target prefix, and the operations it has and those it lacks. */
export interface JsonProtocol<H> {
  readonly targetPrefix: string;
  readonly operations: ReadonlyMap<string, H>;
  /** Operations the real service has that this endpoint does not: UnsupportedOperationException. */
  readonly lacking: ReadonlySet<string>;
}

/** The operation a request names (UnknownOperationException for any other target). */
export function targetOf(req: IncomingMessage, protocol: JsonProtocol<unknown>): string {
  if (req.method !== 'POST') throw new AwsError('UnknownOperationException', `${req.method} is not a request of this service; it takes POST /`);
  const target = String(req.headers['x-amz-target'] ?? '');
  const dot = target.lastIndexOf('.');
  const op = dot < 0 ? '' : target.slice(dot + 1);
  if (target.slice(0, dot) !== protocol.targetPrefix || !/^[A-Z][A-Za-z0-9]*$/.test(op)) {
    throw new AwsError('UnknownOperationException', `X-Amz-Target must be ${protocol.targetPrefix}.<Operation>`);
  }
  return op;
}

/** The Content-Type of the JSON 1.1 protocol, or SerializationException. */
export function requireJsonContentType(req: IncomingMessage): void {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-amz-json-1.1') {
    throw new AwsError('SerializationException', `Content-Type must be application/x-amz-json-1.1${type === '' ? '' : `, not ${type}`}`);
  }
}

/** The handler of an operation the service has; never a property of Object.prototype. */
export function handlerOf<H>(protocol: JsonProtocol<H>, op: string): H {
  const h = protocol.operations.get(op);
  if (h !== undefined) return h;
  if (protocol.lacking.has(op)) throw new AwsError('UnsupportedOperationException', `${op} is not supported by this endpoint`);
  throw new AwsError('UnknownOperationException', `${op} is not an operation of this service`);
}

/** The body as a JSON object (an empty body is {}). */
export function jsonBody(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  let params: unknown;
  try {
    params = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new AwsError('SerializationException', 'The request body is not JSON');
  }
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new AwsError('SerializationException', 'The request body must be a JSON object');
  return params as Record<string, unknown>;
}
