// src/bench/capacity.ts
//
// How many CloudHSM HSMs a target rate of the measured mix would need, from AWS's published
// throughput (spec/cloudhsm.md §5: per cluster of 2 HSMs, RSA-2048 sign 2,000/s on both types, EC
// P-256 sign 500/s on hsm1.medium and 3,000/s on hsm2m.medium; halved here to a rate per HSM). AWS
// publishes nothing for other operations: they are listed as not published, never guessed.

import type { Workload } from './workload.js';

export type HsmType = 'hsm1.medium' | 'hsm2m.medium';

const PER_HSM: Record<HsmType, Record<string, number>> = {
  'hsm1.medium': { 'sign:rsa2048-pkcs1': 1000, 'sign:rsa2048-pss': 1000, 'sign:ecdsa-p256': 250 },
  'hsm2m.medium': { 'sign:rsa2048-pkcs1': 1000, 'sign:rsa2048-pss': 1000, 'sign:ecdsa-p256': 1500 },
};

export interface Capacity {
  readonly hsmType: HsmType;
  readonly targetRate: number;
  /** Operations with a published rate: their share of the target and the HSMs it needs. */
  readonly published: Array<{ operation: string; opsPerSecond: number; perHsm: number; hsms: number }>;
  readonly notPublished: string[];
  /** HSMs for the published part of the mix, and with AWS's N+1 (and at least 2) for availability. */
  readonly hsms: number;
  readonly recommended: number;
}

export function capacity(w: Workload, targetRate: number, hsmType: HsmType): Capacity {
  if (!(targetRate > 0)) throw new RangeError('the target rate is a positive number of operations per second');
  const rates = PER_HSM[hsmType];
  if (rates === undefined) throw new RangeError(`the HSM type is ${Object.keys(PER_HSM).join(' or ')}`);
  const total = w.operations.reduce((s, o) => s + o.weight, 0);
  const published: Capacity['published'] = [];
  const notPublished: string[] = [];
  let load = 0;
  for (const o of w.operations) {
    const name = `${o.op}:${o.algorithm}`;
    const perHsm = rates[name];
    const ops = (targetRate * o.weight) / total;
    if (perHsm === undefined) {
      notPublished.push(name);
      continue;
    }
    load += ops / perHsm;
    published.push({ operation: name, opsPerSecond: Math.round(ops), perHsm, hsms: Math.round((ops / perHsm) * 100) / 100 });
  }
  const hsms = Math.ceil(load - 1e-9);
  return { hsmType, targetRate, published, notPublished, hsms, recommended: published.length === 0 ? 0 : Math.max(2, hsms + 1) };
}
