import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export type ChatMessage = { role: string; content: string };

/**
 * How /v1/chat/completions misbehaves, for `faults` requests (then it answers normally):
 *  rate_limited  429 with retry-after (seconds in `retryAfter`)
 *  server_error  500
 *  hang          never answers (past any client timeout)
 *  malformed     200 whose content is not JSON
 *  bad_citation  the normal answer, its first key point citing a source that does not exist
 *  unsupported   the normal answer with a claim no source makes
 *  unknown_number the normal answer with a figure no source has
 */
export type ChatFault =
  | "rate_limited"
  | "server_error"
  | "hang"
  | "malformed"
  | "bad_citation"
  | "unsupported"
  | "unknown_number"
  /** A well-formed answer without its usage field (some OpenAI-compatible servers omit it). */
  | "no_usage";

export type FakeOpenAi = {
  baseURL: string;
  requests: { path: string; body: Record<string, unknown> }[];
  /** Replace how /v1/embeddings answers (texts in, status and vectors out). */
  embeddings: (texts: string[]) => { status: number; vectors?: number[][] };
  /** The normal JSON answer to a chat request. Default: `groundedSummary` of the prompt's sources. */
  chat: (messages: ChatMessage[]) => unknown;
  fault: ChatFault | null;
  /** How many chat requests the fault applies to (Infinity: all). */
  faults: number;
  retryAfter: string;
  chatRequests(): { path: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
};

/** Numbered sources as the summary prompt lists them: "[n] outlet: title\ntext". */
export function promptSources(user: string): { n: number; title: string; text: string }[] {
  const out: { n: number; title: string; text: string }[] = [];
  for (const block of user.split(/\n\n(?=\[\d+\] )/)) {
    const m = block.match(/^\[(\d+)\] ([^\n]*)\n([\s\S]*)$/);
    if (m)
      out.push({ n: Number(m[1]), title: m[2]!, text: m[3]!.split("\n\nYour previous answer")[0]!.trim() });
  }
  return out;
}

const firstSentences = (text: string) =>
  text
    .split(/(?<=[.!?])\s+(?=[A-Z0-9"“])/)
    .map((s) => s.trim())
    .filter((s) => s.split(/\s+/).length >= 4);

/** A faithful summary: each item is a sentence of the source it cites (what a good model does). */
export function groundedSummary(messages: ChatMessage[]) {
  const user = messages.find((m) => m.role === "user")?.content ?? "";
  const sources = promptSources(user);
  const items = sources.flatMap((s) => firstSentences(s.text).map((text) => ({ text, citations: [s.n] })));
  while (items.length < 5 && sources[0])
    items.push({ text: sources[0].title.replace(/^[^:]*: /, ""), citations: [1] });
  return {
    headline: sources[0]?.title.replace(/^[^:]*: /, "") ?? "News",
    keyPoints: items.slice(0, 2),
    analysis: items.slice(2, 6).length >= 3 ? items.slice(2, 6) : items.slice(0, 3),
  };
}

type Summaryish = { keyPoints: { text: string; citations: number[] }[]; analysis: unknown[] };

function corrupt(fault: ChatFault, answer: unknown): unknown {
  const a = structuredClone(answer) as Summaryish;
  if (!a?.keyPoints?.[0]) return answer;
  if (fault === "bad_citation") a.keyPoints[0].citations = [99];
  if (fault === "unsupported")
    a.keyPoints[0] = {
      text: "Astronomers confirmed the comet will return every winter, reshaping ocean tides worldwide.",
      citations: a.keyPoints[0].citations,
    };
  if (fault === "unknown_number") a.keyPoints[0].text = `${a.keyPoints[0].text.replace(/\.$/, "")}, up 73%.`;
  return a;
}

/**
 * A local OpenAI-compatible HTTP server on 127.0.0.1, so the real openai SDK is exercised over
 * HTTP in tests. Answers are deterministic and replaceable per test; faults are switched on per test.
 */
export async function startFakeOpenAi(): Promise<FakeOpenAi> {
  const sockets = new Set<Socket>();
  const fake: FakeOpenAi = {
    baseURL: "",
    requests: [],
    embeddings: () => ({ status: 500 }),
    chat: groundedSummary,
    fault: null,
    faults: Number.POSITIVE_INFINITY,
    retryAfter: "1",
    chatRequests: () => fake.requests.filter((r) => r.path === "/chat/completions"),
    close: async () => {},
  };
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const path = (req.url ?? "").replace(/^\/v1/, "");
    fake.requests.push({ path, body });
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(json));
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
    if (path === "/chat/completions") {
      const messages = (body.messages ?? []) as ChatMessage[];
      let fault: ChatFault | null = null;
      if (fake.fault && fake.faults > 0) {
        fault = fake.fault;
        fake.faults--;
      }
      if (fault === "hang") return; // the socket is left open until the client gives up
      if (fault === "rate_limited")
        return send(
          429,
          { error: { message: "slow down", type: "rate_limit" } },
          { "retry-after": fake.retryAfter },
        );
      if (fault === "server_error") return send(500, { error: { message: "boom", type: "server_error" } });
      let content: string;
      if (fault === "malformed") content = '{"headline": "Half an answ';
      else {
        const answer = fake.chat(messages);
        content = JSON.stringify(fault && fault !== "no_usage" ? corrupt(fault, answer) : answer);
      }
      const promptTokens = messages
        .map((m) => m.content)
        .join(" ")
        .split(/\s+/).length;
      return send(200, {
        id: `chatcmpl-${fake.requests.length}`,
        object: "chat.completion",
        created: 0,
        model: body.model,
        choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
        ...(fault === "no_usage"
          ? {}
          : {
              usage: {
                prompt_tokens: promptTokens,
                completion_tokens: content.split(/\s+/).length,
                total_tokens: promptTokens + content.split(/\s+/).length,
              },
            }),
      });
    }
    send(404, { error: { message: `no fake for ${path}` } });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fake.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  fake.close = () =>
    new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return fake;
}
