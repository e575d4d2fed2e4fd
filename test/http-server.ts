import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type TestHttpServer = {
  /** http://127.0.0.1:<port> */
  origin: string;
  url(path: string): string;
  /** Requests seen, in arrival order. */
  requests: { path: string; headers: IncomingMessage["headers"]; at: number }[];
  close(): Promise<void>;
};

/**
 * A local HTTP server on 127.0.0.1 and a free port, for tests that go over real sockets. A
 * handler that throws answers 500; close() drops open connections so a test never waits on one.
 */
export async function startHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => unknown,
): Promise<TestHttpServer> {
  const requests: TestHttpServer["requests"] = [];
  const server = createServer((req, res) => {
    requests.push({ path: req.url ?? "/", headers: req.headers, at: performance.now() });
    // A client that hangs up mid-response is normal here (size caps, timeouts).
    res.on("error", () => {});
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(err));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (path) => `${origin}${path}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Writes `totalBytes` of `chunk` repeated, without a Content-Length (chunked), stopping as soon
 * as the client goes away; resolves with the number of bytes written.
 */
export function streamBytes(res: ServerResponse, totalBytes: number, chunk: Buffer): Promise<number> {
  return new Promise((resolve) => {
    let written = 0;
    const stop = () => resolve(written);
    res.on("close", stop);
    const pump = () => {
      while (written < totalBytes && !res.destroyed) {
        const piece = chunk.subarray(0, Math.min(chunk.length, totalBytes - written));
        written += piece.length;
        if (!res.write(piece)) return void res.once("drain", pump);
      }
      if (!res.destroyed) res.end();
      stop();
    };
    pump();
  });
}
