// src/certs/types.ts
//
// The public shapes the certificate helpers take, kept apart from the pkijs code (parts.ts, pki.ts)
// so that the published types do not pull in pkijs' declarations (which need the DOM lib).

/** A distinguished name, most significant first: `{ C: 'DE', O: 'Example', CN: 'svc-a' }` or
 *  `[['O', 'Example'], ['OU', 'Ops'], ['CN', 'svc-a']]`. Types: C, ST, L, O, OU, CN, DC,
 *  serialNumber, emailAddress, or a dotted OID. */
export type NameInput = Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;

/** Subject alternative names. */
export interface AltNames {
  readonly dns?: readonly string[];
  readonly ip?: readonly string[];
  readonly email?: readonly string[];
  readonly uri?: readonly string[];
}

export type KeyUsageName = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment' | 'keyAgreement' | 'keyCertSign' | 'cRLSign';

/** RFC 5280 §5.3.1 CRLReason. */
export type CrlReason = 'unspecified' | 'keyCompromise' | 'cACompromise' | 'affiliationChanged' | 'superseded' | 'cessationOfOperation'
  | 'certificateHold' | 'removeFromCRL' | 'privilegeWithdrawn' | 'aACompromise';
