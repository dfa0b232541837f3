import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../engine/ports.js";
import { sendError } from "../api/http.js";
import type { ReceiptSigner } from "./receipt-signer.js";

export const JWKS_PATH = "/.well-known/jwks.json";

/** How long verifiers may cache the key set: a new key is published well before anything is signed with it only by configuration, so minutes are enough. */
const MAX_AGE_SECONDS = 300;

/**
 * `GET /.well-known/jwks.json`, with no token: every public key receipts are signed with, the
 * current one first and then the retired ones, which stay published so old receipts still verify.
 */
export function createJwksHandler(deps: { signer: Pick<ReceiptSigner, "jwks">; log: Logger }) {
  return async function jwksHandler(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== JWKS_PATH) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      sendError(res, 405, "method_not_allowed", `${req.method} is not allowed on ${JWKS_PATH}.`);
      return true;
    }
    let body: string;
    try {
      body = JSON.stringify(await deps.signer.jwks());
    } catch (error) {
      deps.log.error({ err: error }, "could not load the receipt signing keys");
      res.setHeader("retry-after", "5");
      sendError(res, 503, "store_unavailable", "The signing keys could not be loaded from the store. Retry shortly.");
      return true;
    }
    res.writeHead(200, {
      "content-type": "application/jwk-set+json; charset=utf-8",
      "cache-control": `public, max-age=${MAX_AGE_SECONDS}`,
      "access-control-allow-origin": "*",
      "content-length": Buffer.byteLength(body),
    });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  };
}
