import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Answers `Expect: 100-continue` only when the route reads the body (RFC 9110 §10.1.1): the route's
 * reader judges the request first (its declared Content-Length against its limit, its media type and
 * coding) and refuses it without a byte read, so a client told 413 never uploads its body. Node's
 * default wrote "100 Continue" before any handler ran, and the client sent a body thrown away
 * (ADR 0404). A request refused unread is answered with `Connection: close` (Node's, for an owed
 * 100 not sent): the client may send its body anyway, which is not read as the next request.
 * An expectation other than 100-continue stays Node's 417.
 */
export function continueWhenBodyRead(server: Server): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    continueOnFirstRead(req, res);
    server.emit('request', req, res);
  });
}

/**
 * Reading is listening for 'data' or 'readable' (a pipe, an async iteration, body-parser, busboy);
 * `resume()` alone discards the body (Node's own dump after an answer), which no client should send for.
 */
function continueOnFirstRead(req: IncomingMessage, res: ServerResponse): void {
  const onListener = (event: string | symbol) => {
    if (event !== 'data' && event !== 'readable') return;
    req.off('newListener', onListener);
    // An answer begun (a refusal, then a discard) owes no 100: written now it would follow that answer.
    if (!res.headersSent && !res.writableEnded) res.writeContinue();
  };
  req.on('newListener', onListener);
  res.once('finish', () => req.off('newListener', onListener));
}
