import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export const BUCKET = 'audit-bucket';

export interface LoopbackS3 {
  port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port and directory (after stop). */
  restart(): Promise<void>;
}

/** An S3-compatible server (s3rver) on loopback, keeping its objects in `directory`. */
export async function startLoopbackS3(directory: string, port = 0): Promise<LoopbackS3> {
  let server = new S3rver({ port, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: BUCKET }] });
  const started = await server.run();
  return {
    port: started.port,
    stop: () => server.close(),
    async restart() {
      server = new S3rver({ port: started.port, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: BUCKET }] });
      await server.run();
    },
  };
}

export interface SentRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

/** An SDK client for the loopback server that records every request as it goes on the wire (signed, headers final). */
export function capturingClient(port: number): { client: S3Client; sent: SentRequest[] } {
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const sent: SentRequest[] = [];
  client.middlewareStack.add((next) => async (args) => {
    const request = args.request as { method: string; path: string; headers: Record<string, string> };
    sent.push({ method: request.method, path: decodeURIComponent(request.path), headers: { ...request.headers } });
    return next(args);
  }, { step: 'finalizeRequest', priority: 'low', name: 'captureSentRequests' });
  return { client, sent };
}
