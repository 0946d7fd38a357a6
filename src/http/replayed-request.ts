import { IncomingMessage } from 'node:http';

/**
 * A copy of a request whose body was already read, readable again from the start, for a handler
 * that parses the body itself (oidc-provider) after a middleware had to look at it.
 */
export function replayedRequest(original: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(original.socket);
  copy.method = original.method;
  copy.url = original.url;
  copy.headers = original.headers;
  copy.rawHeaders = original.rawHeaders;
  copy.httpVersion = original.httpVersion;
  copy.httpVersionMajor = original.httpVersionMajor;
  copy.httpVersionMinor = original.httpVersionMinor;
  copy.complete = true; // otherwise destroying the copy after it is read would close the socket
  copy.push(body);
  copy.push(null);
  return copy;
}
