// One outbound call whose answer is read whole, in a process of its own started with a small heap
// (run by test/tls/answer-limits.test.ts): a call that held more than about its limit of memory kills
// this process, as a pod's memory limit would kill a broker or portal. Prints the bytes read, or the
// code the call failed with.
import { createTlsFetch } from '../../common/tls/index.js';

const [url, limit, path] = process.argv.slice(2) as [string, string, 'fetch' | 'exchange'];
const fetch = createTlsFetch({ maxResponseBytes: Number(limit) });
try {
  const response = await fetch(url, path === 'exchange' ? { redirect: 'manual' } : {});
  process.stdout.write(String((await response.arrayBuffer()).byteLength));
} catch (err) {
  process.stdout.write(String((err as { code?: unknown }).code ?? err));
} finally {
  await fetch.close();
}
