// bench/login_timing.mjs — does a failed login tell an unknown or locked user from a wrong password
// by its time? Interleaved rounds (one of each case per round, in a shuffled order), medians, and the
// ratios to a wrong password's time. A ratio near 1.00 is no oracle; the login test asserts only
// what holds on a busy machine (each case pays a password check).
import { SealHsm } from '../dist/index.js';

const ROUNDS = Number(process.env.ROUNDS ?? 41);
async function cluster(maxFailedLogins) {
  const hsm = SealHsm.memory({ profile: 'cloudhsm', maxFailedLogins });
  await hsm.activate('admin-password');
  await hsm.login('admin', 'admin-password');
  await hsm.users.create('alice', 'alice-password');
  await hsm.users.create('carol', 'carol-password');
  hsm.logout();
  return hsm;
}
const open = await cluster(0); // never locks
const locking = await cluster(1);
for (let i = 0; i < 2; i++) await locking.login('carol', 'wrong-password').catch(() => undefined);
const cases = {
  'wrong password': () => open.login('alice', 'wrong-password'),
  'unknown user': () => open.login('nobody', 'wrong-password'),
  'locked user': () => locking.login('carol', 'carol-password'),
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = Object.keys(cases).sort(() => Math.random() - 0.5);
  for (const name of order) {
    const t0 = process.hrtime.bigint();
    await cases[name]().catch(() => undefined);
    times[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(times['wrong password']);
console.log(`failed logins, ${ROUNDS} interleaved rounds (median ms, ratio to a wrong password):`);
for (const [name, xs] of Object.entries(times)) console.log(`  ${name.padEnd(15)} ${median(xs).toFixed(2).padStart(7)} ms  ${(median(xs) / base).toFixed(3)}`);
open.close();
locking.close();
