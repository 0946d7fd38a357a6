import cluster, { type Worker } from 'node:cluster';
import { answerRequest, isPrimaryRequest, PrimaryClient, type Store } from './storage/index.ts';

/**
 * The primary's side: answers its workers' counter calls (see PrimaryCountedStore) from its own
 * store, in the order each worker sent them. An answer to a worker that has died meanwhile is
 * dropped; the count it carried is already in the store.
 */
export function answerWorkers(store: Store): () => void {
  const onMessage = (worker: Worker, message: unknown) => {
    if (!isPrimaryRequest(message)) return;
    void answerRequest(store, message).then((reply) => {
      if (worker.isConnected()) worker.send(reply, ignoreClosedChannel);
    });
  };
  cluster.on('message', onMessage);
  return () => void cluster.off('message', onMessage);
}

/** A worker's side: calls to the primary over the cluster's IPC channel. */
export function primaryOverIpc(): PrimaryClient {
  const client = new PrimaryClient((request, failed) => {
    if (!process.send) throw new Error('not a cluster worker');
    process.send(request, undefined, undefined, failed);
  });
  process.on('message', (message) => client.receive(message));
  process.once('disconnect', () => client.close());
  return client;
}

function ignoreClosedChannel(): void {
  // The worker exited after asking; there is nobody left to answer.
}
