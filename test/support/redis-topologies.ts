import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';
import { EPHEMERAL, spawnRedis, stopChild } from './redis-server.ts';

const run = promisify(execFile);

/** redis-cli against one of the test's own servers; the reply as text. */
export async function redisCli(port: number, ...command: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...command]);
  return stdout.trim();
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export interface OwnCluster {
  /** "127.0.0.1:port" of every master, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  stop(): Promise<void>;
}

/** A Redis Cluster of `masters` masters (no replicas) on free loopback ports, every slot assigned. */
export async function startOwnCluster(masters = 3): Promise<OwnCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-cluster-'));
  const ports = await Promise.all(Array.from({ length: masters }, () => freePort()));
  const children: ChildProcess[] = [];
  try {
    for (const port of ports) {
      children.push(await spawnRedis('redis-server', [
        '--port', String(port), ...EPHEMERAL, '--dir', dir, '--cluster-enabled', 'yes',
        '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000',
      ]));
    }
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of ports) await until(`cluster node ${port}`, async () => (await redisCli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'));
    return {
      nodes,
      async stop() {
        await Promise.all(children.map(stopChild));
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(children.map(stopChild));
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface OwnSentinelSetup {
  /** "127.0.0.1:port" of every sentinel, as REDIS_SENTINELS takes them. */
  sentinels: string[];
  name: string;
  /** The port of the current primary, as the sentinels report it. */
  primaryPort(): Promise<number>;
  /** Kills the current primary outright (SIGKILL) and waits until the sentinels have promoted the replica. */
  failOver(): Promise<{ from: number; to: number }>;
  stop(): Promise<void>;
}

/**
 * One primary, `replicas` replicas and `sentinelCount` sentinels (quorum 1), with short timeouts so
 * that a failover takes a few seconds. With two replicas, the promoted one still has a replica.
 */
export async function startOwnSentinelSetup(options: { replicas?: number; sentinels?: number } = {}): Promise<OwnSentinelSetup> {
  const { replicas = 1, sentinels: sentinelCount = 1 } = options;
  const name = 'portcullis-test';
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-sentinel-'));
  const servers = new Map<number, ChildProcess>();
  const sentinels: ChildProcess[] = [];
  const stopAll = async () => {
    await Promise.all([...sentinels, ...servers.values()].map(stopChild));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // A new replica syncs at once instead of waiting 5 s for others to join it; a replica's copy
    // of the data set lands in the test's directory, not the working directory.
    const server = ['--repl-diskless-sync-delay', '0', '--dir', dir];
    const primary = await freePort();
    servers.set(primary, await spawnRedis('redis-server', ['--port', String(primary), ...EPHEMERAL, ...server]));
    for (let index = 0; index < replicas; index++) {
      const replica = await freePort();
      servers.set(replica, await spawnRedis('redis-server', ['--port', String(replica), ...EPHEMERAL, ...server, '--replicaof', '127.0.0.1', String(primary)]));
      await until('the replica in sync', async () => (await redisCli(replica, 'INFO', 'replication')).includes('master_link_status:up'));
    }
    const sentinelPorts: number[] = [];
    for (let index = 0; index < sentinelCount; index++) {
      const port = await freePort();
      const file = join(dir, `sentinel-${port}.conf`);
      // A sentinel rewrites its configuration file, so each gets its own.
      await writeFile(file, [
        `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${primary} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 5000`,
        '',
      ].join('\n'));
      sentinels.push(await spawnRedis('redis-server', [file, '--sentinel']));
      sentinelPorts.push(port);
    }
    const primaryPort = async () => Number((await redisCli(sentinelPorts[0]!, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)).split('\n')[1]);
    for (const port of sentinelPorts) {
      await until('the sentinel to see the replicas', async () => (await redisCli(port, 'SENTINEL', 'REPLICAS', name)).match(/^flags\nslave$/gm)?.length === replicas);
    }
    return {
      sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`),
      name,
      primaryPort,
      async failOver() {
        const from = await primaryPort();
        const child = servers.get(from)!;
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
        await until('the sentinels to promote the replica', async () => (await primaryPort()) !== from
          && (await redisCli(await primaryPort(), 'ROLE')).startsWith('master'));
        return { from, to: await primaryPort() };
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
