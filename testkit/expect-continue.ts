// A client of `Expect: 100-continue` on a raw socket, as curl and .NET send large posts: the head
// first, the body only once the server has said "100 Continue" (ADR 0404).
import { connect } from 'node:net';

export interface ExpectContinueAnswer {
  /** Whether the server wrote "100 Continue" (and so was sent the body). */
  continued: boolean;
  status: number;
  /** The final answer's header fields, names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `POST path` with `Expect: 100-continue` (unless `headers` names another) and `headers`
 * (Content-Length taken from `body`, or `contentLength` when it is to claim more than is ever sent);
 * sends the body only after a 100.
 * Resolves with the final answer once the server has closed the connection (the request asks it to).
 */
export function postExpectingContinue(
  url: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | string,
  contentLength = Buffer.byteLength(body),
): Promise<ExpectContinueAnswer> {
  const { hostname, port } = new URL(url);
  const head = Object.entries({
    host: `${hostname}:${port}`,
    'content-length': String(contentLength),
    expect: '100-continue',
    connection: 'close',
    ...headers,
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    let continued = false;
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (!continued && /^HTTP\/1\.1 100 [^\r]*\r\n\r\n/.test(received.toString('latin1'))) {
        continued = true;
        socket.write(body);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ continued, ...finalAnswer(received.toString('utf8')) }));
    socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
  });
}

function finalAnswer(raw: string): Omit<ExpectContinueAnswer, 'continued'> {
  const text = raw.replace(/^HTTP\/1\.1 100 [^\r]*\r\n\r\n/, '');
  const end = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...fields] = text.slice(0, end < 0 ? text.length : end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const field of fields) {
    const colon = field.indexOf(':');
    headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
  }
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: end < 0 ? '' : text.slice(end + 4),
  };
}
