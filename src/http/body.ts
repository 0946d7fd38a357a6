import type { IncomingMessage } from 'node:http';

/** A request the server will not read: too large, or not in the expected form. */
export class BodyError extends Error {
  override readonly name = 'BodyError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * Reads a whole request body, refusing with 413 as soon as it (or its declared length) passes
 * `limitBytes`. A refused body is left unread, never destroyed: destroying the request would
 * close the socket under the response still to be sent (see unread-body.ts for what happens to it).
 */
export async function readBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  refuseDeclaredLength(request, limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limitBytes) throw tooLarge(limitBytes);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof BodyError) throw error;
    // The client hung up or the stream broke: nobody may be left to answer, but it is no server error.
    throw new BodyError(400, 'the request body was not received in full');
  }
  return Buffer.concat(chunks);
}

/** The 413 of `readBody` for a body declared larger than `limitBytes`, without reading it (another handler will). */
export function refuseDeclaredLength(request: IncomingMessage, limitBytes: number): void {
  if (Number(request.headers['content-length']) > limitBytes) throw tooLarge(limitBytes);
}

const tooLarge = (limitBytes: number) => new BodyError(413, `the request body is larger than ${limitBytes} bytes`);
