import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FakeOpenAi = {
  baseURL: string;
  requests: { path: string; body: Record<string, unknown> }[];
  /** Replace how /v1/embeddings answers (texts in, status and vectors out). */
  embeddings: (texts: string[]) => { status: number; vectors?: number[][] };
  close(): Promise<void>;
};

/**
 * A local OpenAI-compatible HTTP server on 127.0.0.1, so the real openai SDK is exercised over
 * HTTP in tests. Answers are deterministic and replaceable per test.
 */
export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  const fake: FakeOpenAi = {
    baseURL: "",
    requests: [],
    embeddings: () => ({ status: 500 }),
    close: async () => {},
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const path = (req.url ?? "").replace(/^\/v1/, "");
    fake.requests.push({ path, body });
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    };
    if (path === "/embeddings") {
      const input = body.input;
      const texts = Array.isArray(input) ? (input as string[]) : [String(input)];
      const r = fake.embeddings(texts);
      if (r.status !== 200 || !r.vectors)
        return send(r.status, { error: { message: "embedding failed", type: "server_error" } });
      return send(200, {
        object: "list",
        model: body.model,
        data: r.vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
        usage: {
          prompt_tokens: texts.join(" ").split(/\s+/).length,
          total_tokens: texts.join(" ").split(/\s+/).length,
        },
      });
    }
    send(404, { error: { message: `no fake for ${path}` } });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fake.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  fake.close = () => new Promise((r) => server.close(() => r()));
  return fake;
}
