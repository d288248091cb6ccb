// src/cli/commands/crypto.ts
//
// `crypto sign` and `crypto verify` as cloudhsm-cli has them: ecdsa, ed25519, rsa-pkcs and
// rsa-pkcs-pss, over raw data (hashed in the HSM) or a digest (--data-type digest).

import type { Command } from 'commander';

import type { HashName, SignMechanism } from '../../client/mechanisms.js';
import { HASH_BYTES, digestInfo } from '../../keys/digest_info.js';
import { oneKey } from '../keys_json.js';
import { CliError, EXIT, type Runtime } from '../runtime.js';
import { action, dataArg } from './common.js';

const HASHES: Record<string, HashName> = { sha1: 'SHA1', sha224: 'SHA224', sha256: 'SHA256', sha384: 'SHA384', sha512: 'SHA512' };
const MECHANISMS = ['ecdsa', 'ed25519', 'rsa-pkcs', 'rsa-pkcs-pss'] as const;
type CliSign = (typeof MECHANISMS)[number];

/** The mechanism, and the bytes the HSM signs, for a cloudhsm-cli signing request. */
function plan(mech: CliSign, o: Record<string, unknown>, data: Buffer): { mechanism: SignMechanism; input: Buffer } {
  const digest = o.dataType === 'digest';
  if (o.dataType !== undefined && o.dataType !== 'raw' && o.dataType !== 'digest') throw new CliError('SEALHSM_USAGE', '--data-type is raw or digest', EXIT.usage);
  if (mech === 'ed25519') {
    if (digest) throw new CliError('SEALHSM_USAGE', 'ed25519 signs raw data', EXIT.usage);
    return { mechanism: 'EDDSA', input: data };
  }
  const hash = HASHES[String(o.hashFunction)];
  if (hash === undefined) throw new CliError('SEALHSM_USAGE', `--hash-function is one of ${Object.keys(HASHES).join(', ')}`, EXIT.usage);
  if (digest && data.length !== HASH_BYTES[hash]) throw new CliError('SEALHSM_USAGE', `a ${hash} digest is ${HASH_BYTES[hash]} bytes, not ${data.length}`, EXIT.usage);
  switch (mech) {
    case 'ecdsa':
      return { mechanism: digest ? 'ECDSA' : `ECDSA_${hash}`, input: data };
    case 'rsa-pkcs':
      return digest ? { mechanism: 'RSA_PKCS', input: digestInfo(hash, data) } : { mechanism: `${hash}_RSA_PKCS`, input: data };
    case 'rsa-pkcs-pss': {
      const mgf = o.mgf === undefined ? hash : HASHES[String(o.mgf).replace(/^mgf1-/, '').replace(/-mgf1$/, '')];
      if (mgf === undefined) throw new CliError('SEALHSM_USAGE', '--mgf is mgf1-sha1 .. mgf1-sha512', EXIT.usage);
      const saltLength = o.saltLength === undefined ? HASH_BYTES[hash] : Number(o.saltLength);
      return { mechanism: { name: digest ? 'RSA_PKCS_PSS' : `${hash}_RSA_PKCS_PSS`, hash, mgf, saltLength }, input: data };
    }
  }
}

export function registerCrypto(program: Command, rt: Runtime): void {
  const crypto = program.command('crypto').description('sign and verify with keys in the token');
  const sign = crypto.command('sign').description('sign data');
  const verify = crypto.command('verify').description('verify a signature');
  for (const mech of MECHANISMS) {
    const common = (c: Command) => c
      .requiredOption('--key-filter <filter...>', 'the key (attr.label=..., key-reference=0x...)')
      .option('--hash-function <hash>', 'sha1, sha224, sha256, sha384, sha512')
      .option('--data <base64>').option('--data-path <file>')
      .option('--data-type <type>', 'raw (hashed in the HSM) or digest', 'raw')
      .option('--mgf <mgf>', 'rsa-pkcs-pss: mgf1-sha256, ...').option('--salt-length <bytes>', 'rsa-pkcs-pss (default: the hash length)');
    common(sign.command(mech).description(`sign with ${mech}`))
      .action(action(rt, async (g, o) => {
        const hsm = await rt.loggedIn(g, 'crypto-user');
        const key = await oneKey(hsm, o.keyFilter as string[], 'signing key');
        const { mechanism, input } = plan(mech, o, await dataArg(o, 'data'));
        const signature = (await key.sign(input, mechanism)).toString('base64');
        return { data: { 'key-reference': key.keyReference, signature }, text: signature };
      }));
    common(verify.command(mech).description(`verify a ${mech} signature`))
      .option('--signature <base64>').option('--signature-path <file>')
      .action(action(rt, async (g, o) => {
        const hsm = await rt.loggedIn(g, 'crypto-user');
        const key = await oneKey(hsm, o.keyFilter as string[], 'verification key');
        const { mechanism, input } = plan(mech, o, await dataArg(o, 'data'));
        if (!(await key.verify(input, await dataArg(o, 'signature'), mechanism))) throw new CliError('CKR_SIGNATURE_INVALID', 'the signature does not verify');
        return { data: { message: 'Signature verified successfully' }, text: 'signature verified' };
      }));
  }
}
