// src/cli/commands/wrap.ts
//
// `key wrap` and `key unwrap` with cloudhsm-cli's mechanism names. aes-gcm's output is the 12-byte
// IV followed by the ciphertext and tag (the CloudHSM profiles choose the IV in the HSM; the pkcs11
// profile gets a fresh random one); cloudhsm-aes-gcm carries its IV itself.

import { writeFile } from 'node:fs/promises';

import type { Command } from 'commander';

import type { KeyType } from '../../client/attributes.js';
import type { HashName, WrapMechanism } from '../../client/mechanisms.js';
import { keyJson, oneKey, parseAttributes } from '../keys_json.js';
import { CliError, EXIT, type Runtime } from '../runtime.js';
import { action, dataArg } from './common.js';

const HASHES: Record<string, HashName> = { sha1: 'SHA1', sha224: 'SHA224', sha256: 'SHA256', sha384: 'SHA384', sha512: 'SHA512' };
const MECHANISMS = ['aes-gcm', 'aes-no-pad', 'aes-pkcs5-pad', 'aes-zero-pad', 'cloudhsm-aes-gcm', 'rsa-aes', 'rsa-oaep', 'rsa-pkcs'] as const;
type CliWrap = (typeof MECHANISMS)[number];

const CLASSES: Record<string, { cls: 'secret-key' | 'private-key'; type: KeyType }> = {
  aes: { cls: 'secret-key', type: 'aes' }, 'generic-secret': { cls: 'secret-key', type: 'generic-secret' },
  'rsa-private': { cls: 'private-key', type: 'rsa' }, 'ec-private': { cls: 'private-key', type: 'ec' }, 'ed25519-private': { cls: 'private-key', type: 'ed25519' },
};

function hashOf(v: unknown, flag: string): HashName {
  const h = HASHES[String(v ?? 'sha256').replace(/^mgf1-/, '')];
  if (h === undefined) throw new CliError('SEALHSM_USAGE', `${flag} is one of ${Object.keys(HASHES).join(', ')}`, EXIT.usage);
  return h;
}

function mechanism(m: CliWrap, o: Record<string, unknown>, iv?: Buffer): WrapMechanism {
  const tagBits = o.tagLengthBits === undefined ? 128 : Number(o.tagLengthBits);
  switch (m) {
    case 'aes-gcm': return { name: 'AES_GCM', iv: iv!, tagBits };
    case 'cloudhsm-aes-gcm': return { name: 'CLOUDHSM_AES_GCM', tagBits };
    case 'aes-no-pad': return 'CLOUDHSM_AES_KEY_WRAP_NO_PAD';
    case 'aes-pkcs5-pad': return 'CLOUDHSM_AES_KEY_WRAP_PKCS5_PAD';
    case 'aes-zero-pad': return 'CLOUDHSM_AES_KEY_WRAP_ZERO_PAD';
    case 'rsa-aes': return { name: 'RSA_AES_KEY_WRAP', hash: hashOf(o.hashFunction, '--hash-function'), mgf: hashOf(o.mgf ?? o.hashFunction, '--mgf') };
    case 'rsa-oaep': return { name: 'RSA_PKCS_OAEP', hash: hashOf(o.hashFunction, '--hash-function'), mgf: hashOf(o.mgf ?? o.hashFunction, '--mgf') };
    case 'rsa-pkcs': return 'RSA_PKCS';
  }
}

export function registerWrap(key: Command, rt: Runtime): void {
  const wrap = key.command('wrap').description('wrap a key with another');
  const unwrap = key.command('unwrap').description('unwrap a key into the token');
  for (const m of MECHANISMS) {
    const extra = (c: Command) => c.option('--tag-length-bits <bits>', 'aes-gcm', '128').option('--hash-function <hash>', 'rsa-aes, rsa-oaep', 'sha256').option('--mgf <mgf>', 'rsa-aes, rsa-oaep: mgf1-sha256, ...');
    extra(wrap.command(m).description(`wrap with ${m}`))
      .requiredOption('--payload-filter <filter...>', 'the key to wrap').requiredOption('--wrapping-filter <filter...>', 'the wrapping key')
      .option('--path <file>', 'write the wrapped bytes here')
      .action(action(rt, async (g, o) => {
        const hsm = await rt.loggedIn(g, 'crypto-user');
        const payload = await oneKey(hsm, o.payloadFilter as string[], 'payload key');
        const wrapping = await oneKey(hsm, o.wrappingFilter as string[], 'wrapping key');
        const iv = m === 'aes-gcm' ? await hsm.random(12) : undefined; // the CloudHSM profiles overwrite it with their own
        const wrapped = await wrapping.wrap(payload, mechanism(m, o, iv));
        const bytes = iv ? Buffer.concat([iv, wrapped]) : wrapped;
        if (o.path !== undefined) await writeFile(o.path as string, bytes);
        const data = { payload_key_reference: payload.keyReference, wrapping_key_reference: wrapping.keyReference, wrapped_key_data: bytes.toString('base64') };
        return { data, text: o.path !== undefined ? `wrote ${bytes.length} bytes to ${String(o.path)}` : data.wrapped_key_data };
      }));
    extra(unwrap.command(m).description(`unwrap with ${m}`))
      .requiredOption('--filter <filter...>', 'the unwrapping key')
      .requiredOption('--key-type-class <class>', Object.keys(CLASSES).join(', '))
      .requiredOption('--label <label>')
      .option('--data <base64>').option('--data-path <file>')
      .option('--session', 'a session key').option('--attributes <name=value...>')
      .action(action(rt, async (g, o) => {
        const hsm = await rt.loggedIn(g, 'crypto-user');
        const kind = CLASSES[o.keyTypeClass as string];
        if (kind === undefined) throw new CliError('SEALHSM_USAGE', `--key-type-class is one of ${Object.keys(CLASSES).join(', ')}`, EXIT.usage);
        const unwrapping = await oneKey(hsm, o.filter as string[], 'unwrapping key');
        let data = await dataArg(o, 'data');
        let iv: Buffer | undefined;
        if (m === 'aes-gcm') {
          if (data.length < 13) throw new CliError('CKR_WRAPPED_KEY_LEN_RANGE', 'aes-gcm data is a 12-byte IV and the ciphertext');
          iv = data.subarray(0, 12);
          data = data.subarray(12);
        }
        const k = await unwrapping.unwrap(data, { class: kind.cls, type: kind.type, ...parseAttributes(o.attributes as string[] | undefined), label: o.label as string, token: !o.session }, mechanism(m, o, iv));
        return { data: { key: await keyJson(k) }, text: `unwrapped ${k.keyReference} (${String(o.label)})` };
      }));
  }
}
