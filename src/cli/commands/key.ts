// src/cli/commands/key.ts
//
// cloudhsm-cli's `key` commands: generate-symmetric, generate-asymmetric-pair, list (filters,
// pages), delete, share / unshare, set-attribute, import pem, generate-file. (wrap and unwrap are
// in wrap.ts.)

import { readFile, writeFile } from 'node:fs/promises';

import type { Command } from 'commander';

import type { KeyAttributes } from '../../client/attributes.js';
import type { KeyHandle } from '../../client/key_handle.js';
import { curveByName } from '../../keys/curves.js';
import { attribute, keyJson, keysMatching, oneKey, parseAttributes } from '../keys_json.js';
import { CliError, EXIT, type Runtime } from '../runtime.js';
import { action, table } from './common.js';

const int = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CliError('SEALHSM_USAGE', `${name} is a whole number`, EXIT.usage);
  return n;
};

async function shareWith(keys: readonly KeyHandle[], users: readonly string[] | undefined): Promise<void> {
  for (const u of users ?? []) for (const k of keys) if (k.class !== 'public-key') await k.share(u);
}

function symmetric(parent: Command, rt: Runtime, type: 'aes' | 'generic-secret'): void {
  parent.command(type).description(`generate ${type === 'aes' ? 'an AES key' : 'a generic secret'}`)
    .requiredOption('--label <label>')
    .requiredOption('--key-length-bytes <n>', type === 'aes' ? '16, 24 or 32' : '1..800', int('--key-length-bytes'))
    .option('--session', 'a session key (gone when this session ends)')
    .option('--attributes <name=value...>', 'more attributes (encrypt=true, extractable=false, id=0x01, ...)')
    .option('--wrap-template <name=value...>', 'keys this one may wrap must have these attributes (CKA_WRAP_TEMPLATE)')
    .option('--unwrap-template <name=value...>', 'keys this one unwraps get these attributes (CKA_UNWRAP_TEMPLATE), as unwrap_with_template needs')
    .option('--share-crypto-users <users...>', 'share with these crypto users')
    .action(action(rt, async (g, o) => {
      const hsm = await rt.loggedIn(g, 'crypto-user');
      const templates: KeyAttributes = {
        ...(o.wrapTemplate !== undefined && { wrapTemplate: parseAttributes(o.wrapTemplate as string[]) }),
        ...(o.unwrapTemplate !== undefined && { unwrapTemplate: parseAttributes(o.unwrapTemplate as string[]) }),
      };
      const attrs: KeyAttributes = { ...parseAttributes(o.attributes as string[] | undefined), ...templates, label: o.label as string, token: !o.session };
      const n = o.keyLengthBytes as number;
      const key = type === 'aes'
        ? await hsm.keys.generateAes({ bits: (n * 8) as 128, ...attrs })
        : await hsm.keys.generateGenericSecret({ length: n, ...attrs });
      await shareWith([key], o.shareCryptoUsers as string[] | undefined);
      return { data: { key: await keyJson(key) }, text: `generated ${type} key ${key.keyReference} (${String(o.label)})` };
    }));
}

export function registerKey(program: Command, rt: Runtime): void {
  const key = program.command('key').description('manage keys');
  const sym = key.command('generate-symmetric').description('generate a symmetric key');
  symmetric(sym, rt, 'aes');
  symmetric(sym, rt, 'generic-secret');

  const pair = key.command('generate-asymmetric-pair').description('generate a key pair');
  const pairOptions = (c: Command) => c
    .requiredOption('--public-label <label>').requiredOption('--private-label <label>')
    .option('--session', 'session keys')
    .option('--public-attributes <name=value...>').option('--private-attributes <name=value...>')
    .option('--share-crypto-users <users...>', 'share the private key with these crypto users');
  const finish = async (p: { publicKey: KeyHandle; privateKey: KeyHandle }, o: Record<string, unknown>) => {
    await p.publicKey.setAttributes({ label: o.publicLabel as string });
    await p.privateKey.setAttributes({ label: o.privateLabel as string });
    await shareWith([p.privateKey], o.shareCryptoUsers as string[] | undefined);
    return { data: { public_key: await keyJson(p.publicKey), private_key: await keyJson(p.privateKey) },
      text: `generated ${p.publicKey.keyReference} (${String(o.publicLabel)}) and ${p.privateKey.keyReference} (${String(o.privateLabel)})` };
  };
  // Both halves' attributes go to generation; each half takes those of its class.
  const halves = (o: Record<string, unknown>): KeyAttributes => {
    const { label: _pl, ...pub } = parseAttributes(o.publicAttributes as string[] | undefined);
    const { label: _sl, ...priv } = parseAttributes(o.privateAttributes as string[] | undefined);
    return { ...pub, ...priv, token: !o.session };
  };
  pairOptions(pair.command('rsa').description('an RSA key pair'))
    .requiredOption('--modulus-size-bits <bits>', '2048..4096 in steps of 256', int('--modulus-size-bits'))
    .option('--public-exponent <e>', 'odd, at least 65537', '65537')
    .action(action(rt, async (g, o) => {
      const hsm = await rt.loggedIn(g, 'crypto-user');
      if (!/^\d+$/.test(o.publicExponent as string)) throw new CliError('SEALHSM_USAGE', '--public-exponent is a decimal number', EXIT.usage);
      const p = await hsm.keys.generateRsa({ modulusBits: o.modulusSizeBits as number, publicExponent: BigInt(o.publicExponent as string), ...halves(o) });
      return finish(p, o);
    }));
  pairOptions(pair.command('ec').description('an EC (or Ed25519) key pair'))
    .requiredOption('--curve <curve>', 'secp224r1, secp256r1 (prime256v1), secp384r1, secp256k1, secp521r1, ed25519')
    .action(action(rt, async (g, o) => {
      const hsm = await rt.loggedIn(g, 'crypto-user');
      let curve: string;
      try {
        curve = curveByName(o.curve as string).name;
      } catch (e) {
        throw new CliError('SEALHSM_USAGE', (e as Error).message, EXIT.usage);
      }
      const p = curve === 'ed25519' ? await hsm.keys.generateEd25519(halves(o)) : await hsm.keys.generateEc({ curve: curve as 'secp256r1', ...halves(o) });
      return finish(p, o);
    }));

  key.command('list').description('keys this user owns or shares, and all public keys')
    .option('--filter <filter...>', 'attr.label=..., attr.class=..., attr.key-type=..., attr.id=0x..., key-reference=0x...')
    .option('--max-items <n>', 'keys per page', int('--max-items'), 10)
    .option('--starting-token <token>', 'the next_token of the previous page')
    .option('-v, --verbose', 'every attribute, owners and shares')
    .action(action(rt, async (g, o) => {
      const hsm = await rt.loggedIn(g);
      const keys = (await keysMatching(hsm, o.filter as string[] | undefined)).sort((a, b) => a.ref - b.ref);
      const start = o.startingToken === undefined ? 0 : Number(Buffer.from(o.startingToken as string, 'base64url').toString());
      if (!Number.isInteger(start) || start < 0 || start > keys.length) throw new CliError('SEALHSM_USAGE', '--starting-token is not one this command gave', EXIT.usage);
      const max = (o.maxItems as number) || keys.length;
      const page = keys.slice(start, start + max);
      const shown = await Promise.all(page.map((k) => keyJson(k, Boolean(o.verbose))));
      const next = start + page.length < keys.length ? Buffer.from(String(start + page.length)).toString('base64url') : undefined;
      const data = { matched_keys: shown, user_count: undefined, total_key_count: keys.length, returned_key_count: page.length, ...(next && { next_token: next }) };
      const infos = await Promise.all(page.map((k) => k.info()));
      const text = table(['key-reference', 'class', 'type', 'label', 'token'], infos.map((i, n) => [page[n]!.keyReference, i.class, i.type, i.label, i.token]))
        + (next ? `\nmore: --starting-token ${next}` : '');
      return { data, text };
    }));
  key.command('delete').description('delete one key (owner only)')
    .requiredOption('--filter <filter...>')
    .action(action(rt, async (g, o) => {
      const k = await oneKey(await rt.loggedIn(g, 'crypto-user'), o.filter as string[]);
      await k.delete();
      return { data: { message: 'Key deleted successfully' }, text: `deleted ${k.keyReference}` };
    }));
  for (const verb of ['share', 'unshare'] as const) {
    key.command(verb).description(`${verb} a key with a crypto user (owner only)`)
      .requiredOption('--filter <filter...>').requiredOption('--username <name>').requiredOption('--role <role>', 'crypto-user')
      .action(action(rt, async (g, o) => {
        if (o.role !== 'crypto-user') throw new CliError('SEALHSM_USAGE', 'keys are shared with crypto users (--role crypto-user)', EXIT.usage);
        const k = await oneKey(await rt.loggedIn(g, 'crypto-user'), o.filter as string[]);
        await (verb === 'share' ? k.share(o.username as string) : k.unshare(o.username as string));
        return { data: { message: `Key ${verb}d successfully` }, text: `${verb}d ${k.keyReference} ${verb === 'share' ? 'with' : 'from'} ${String(o.username)}` };
      }));
  }
  key.command('set-attribute').description('change one attribute (trusted: admins only)')
    .requiredOption('--filter <filter...>').requiredOption('--name <attribute>').requiredOption('--value <value>')
    .action(action(rt, async (g, o) => {
      const hsm = await rt.loggedIn(g);
      const k = await oneKey(hsm, o.filter as string[]);
      await k.setAttributes(attribute(o.name as string, o.value as string));
      return { data: { message: 'Attribute set successfully' }, text: `set ${String(o.name)}=${String(o.value)} on ${k.keyReference}` };
    }));
  key.command('import').description('import a key').command('pem').description('import a public key from a PEM file')
    .requiredOption('--path <file>').requiredOption('--label <label>')
    .requiredOption('--key-type-class <class>', 'rsa-public or ec-public')
    .option('--attributes <name=value...>')
    .action(action(rt, async (g, o) => {
      const hsm = await rt.loggedIn(g, 'crypto-user');
      const cls = o.keyTypeClass as string;
      if (cls !== 'rsa-public' && cls !== 'ec-public') throw new CliError('SEALHSM_USAGE', '--key-type-class is rsa-public or ec-public (private keys come in wrapped: key unwrap)', EXIT.usage);
      const k = await hsm.keys.importPublicKey(await readFile(o.path as string, 'utf8'), { token: true, ...parseAttributes(o.attributes as string[] | undefined), label: o.label as string });
      if ((cls === 'rsa-public') !== (k.type === 'rsa')) {
        await k.delete();
        throw new CliError('CKR_TEMPLATE_INCONSISTENT', `the PEM holds a ${k.type} key, not ${cls}`);
      }
      return { data: { key: await keyJson(k) }, text: `imported ${k.keyReference} (${String(o.label)})` };
    }));
  key.command('generate-file').description('write a key\'s public key to a file')
    .requiredOption('--encoding <encoding>', 'pem').requiredOption('--path <file>').requiredOption('--filter <filter...>')
    .action(action(rt, async (g, o) => {
      if (o.encoding !== 'pem') throw new CliError('SEALHSM_USAGE', '--encoding pem (the public key); reference files for OpenSSL engines are not made', EXIT.usage);
      const k = await oneKey(await rt.loggedIn(g), o.filter as string[]);
      await writeFile(o.path as string, await k.exportPublicKey('pem'));
      return { data: { message: `Successfully generated key file to ${String(o.path)}` }, text: `wrote the public key of ${k.keyReference} to ${String(o.path)}` };
    }));
}
