import http from "node:http";
import type { AddressInfo } from "node:net";

/** One request as the proxy received it, body included. */
export interface ProxiedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Whether it was passed on to the target (a dropped one never reached it). */
  forwarded: boolean;
}

/** An answer the proxy gives in the target's place, for a fault the target cannot be made to show. */
export interface Answer {
  status: number;
  headers?: http.OutgoingHttpHeaders;
  body: string;
}

export type Decision = "forward" | "drop" | Answer;

/**
 * What happens to a request: passed on, dropped (its connection reset, as a server that went away
 * does), or answered by the proxy. Awaited before anything is sent, so a test can act at an exact
 * point of a client's work: stop the server, abort the client, before the request goes on.
 */
export type Intercept = (request: ProxiedRequest) => Decision | Promise<Decision>;

export interface RecordingProxy {
  /** http://127.0.0.1:<port>, to use in place of the target's endpoint. */
  endpoint: string;
  /** Every request that arrived, in order. */
  requests: ProxiedRequest[];
  /** Closes the proxy and every connection it holds. */
  stop(): Promise<void>;
}

/**
 * An HTTP proxy on a free port of 127.0.0.1 in front of `target` that records every request and lets
 * a test decide, request by request, whether it goes on. A request the target cannot be reached for
 * has its connection reset, as the target itself would. Hand-written: the point is the test's hook
 * between a request's arrival and its forwarding, which general proxies do not offer.
 */
export async function startRecordingProxy(target: string, intercept: Intercept = () => "forward"): Promise<RecordingProxy> {
  const targetUrl = new URL(target);
  const requests: ProxiedRequest[] = [];
  const server = http.createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", async () => {
      const request: ProxiedRequest = {
        method: incoming.method ?? "GET",
        url: incoming.url ?? "/",
        headers: incoming.headers,
        body: Buffer.concat(chunks),
        forwarded: false,
      };
      requests.push(request);
      const decision = await intercept(request);
      if (decision === "drop") {
        incoming.socket.destroy();
        return;
      }
      if (decision !== "forward") {
        outgoing.writeHead(decision.status, decision.headers).end(decision.body);
        return;
      }
      request.forwarded = true;
      const upstream = http.request(
        { host: targetUrl.hostname, port: targetUrl.port, method: request.method, path: request.url, headers: request.headers },
        (response) => {
          outgoing.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(outgoing);
        },
      );
      upstream.on("error", () => incoming.socket.destroy());
      upstream.end(request.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
