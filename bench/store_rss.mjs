// bench/store_rss.mjs <dir> — run by bench/store.mjs in a child process: opens the token, logs in,
// finds and uses 300 keys, and prints the process's RSS in bytes.
import { SealHsm } from '../dist/index.js';

const hsm = await SealHsm.open({ dir: process.argv[2] });
await hsm.login('user', 'user-pin-0');
for (let i = 0; i < 300; i++) {
  const [k] = await hsm.keys.find({ label: `key-${i}` });
  if (k) await k.encrypt(Buffer.from('rss'));
}
await hsm.keys.generateAes({ label: 'session-only' });
if (global.gc) global.gc();
console.log(process.memoryUsage().rss);
hsm.close();
