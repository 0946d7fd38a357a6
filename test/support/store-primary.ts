/**
 * A stand-in for the cluster primary: opens the embedded store in argv[2] and answers the
 * counter calls of its parent over the real IPC channel, as src/cluster-counters.ts does.
 */
import { answerRequest, isPrimaryRequest, openEmbeddedStore } from '../../src/storage/index.ts';

const store = await openEmbeddedStore({ dataDir: process.argv[2]! });
process.on('message', (message) => {
  if (!isPrimaryRequest(message)) return;
  void answerRequest(store, message).then((reply) => process.send!(reply));
});
process.once('disconnect', () => void store.close());
process.send!({ ready: true });
