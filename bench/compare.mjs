// bench/compare.mjs — shared by the bench scripts: sealhsm beside node:crypto, interleaved round by
// round so machine noise hits both sides alike; the best round counts. Asynchronous cases keep
// `inFlight` operations outstanding on both sides; synchronous ones run back to back on the main
// thread. Environment: BENCH_SECONDS (per side per round, default 1), BENCH_ROUNDS (default 3),
// BENCH_IN_FLIGHT (overrides the default).

export function comparison({ inFlight }) {
  const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? inFlight);

  async function timeAsync(fn, seconds) {
    const end = performance.now() + seconds * 1000;
    let ops = 0;
    const worker = async () => {
      while (performance.now() < end) {
        await fn();
        ops++;
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    return ops / ((performance.now() - start) / 1000);
  }

  function timeSync(fn, seconds) {
    const start = performance.now();
    const end = start + seconds * 1000;
    let ops = 0;
    while (performance.now() < end) {
      for (let i = 0; i < 16; i++) fn();
      ops += 16;
    }
    return ops / ((performance.now() - start) / 1000);
  }

  const results = [];
  async function compare(name, ours, theirs, { sync = false, seconds = SECONDS } = {}) {
    let best = { ours: 0, theirs: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const a = sync ? timeSync(ours, seconds) : await timeAsync(ours, seconds);
      const b = sync ? timeSync(theirs, seconds) : await timeAsync(theirs, seconds);
      best = { ours: Math.max(best.ours, a), theirs: Math.max(best.theirs, b) };
    }
    const row = { case: name, sealhsm: Math.round(best.ours), node: Math.round(best.theirs), ratio: +(best.ours / best.theirs).toFixed(2) };
    results.push(row);
    console.log(`${name.padEnd(44)} ${String(row.sealhsm).padStart(9)} ${String(row.node).padStart(9)} ${row.ratio.toFixed(2).padStart(6)}x`);
  }

  return { compare, results, SECONDS, ROUNDS, IN_FLIGHT };
}

/** A pkcs11-profile memory token with its crypto user logged in, and a read-write session on it. */
export async function benchToken(native, label) {
  const slot = native.createToken('pkcs11', label);
  await native.activate(slot, 'so-pin-1234');
  await native.login(slot, 'so', 'so-pin-1234');
  await native.createUser(slot, 'user', 'user-pin-1234', 'crypto-user');
  native.logout(slot);
  await native.login(slot, 'user', 'user-pin-1234');
  return { slot, session: native.openSession(slot, true) };
}
