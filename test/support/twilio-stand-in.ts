import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export const TWILIO_SID = "AC00000000000000000000000000000001";
export const TWILIO_TOKEN = "twilio-auth-token-0123";

export interface SentSms {
  to: string;
  from: string;
  body: string;
  sid: string;
}

export interface TwilioStandIn {
  /** `http://127.0.0.1:<port>`, for HITL_TWILIO_API_URL. */
  url: string;
  sent: SentSms[];
  /** Every call, with what was refused and why (status, Twilio's error code). */
  calls: { path: string; status: number; code?: number }[];
  close(): Promise<void>;
}

/**
 * A Twilio-compatible Messages API on 127.0.0.1. It validates what Twilio validates for a send:
 * the path's account SID, basic auth with that SID and the token, a form body with `To` (E.164),
 * `From` and a non-empty `Body` of at most 1,600 characters; and answers 201 with a message SID,
 * or Twilio's error shape (`code`, `message`, `status`).
 */
export async function startTwilioStandIn(): Promise<TwilioStandIn> {
  const sent: SentSms[] = [];
  const calls: TwilioStandIn["calls"] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const answer = (status: number, body: Record<string, unknown>, code?: number) => {
        calls.push({ path: req.url ?? "", status, ...(code !== undefined ? { code } : {}) });
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      };
      const fail = (status: number, code: number, message: string) => answer(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, code);
      if (req.method !== "POST" || req.url !== `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`) return fail(404, 20404, "The requested resource was not found");
      const expected = `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString("base64")}`;
      if (req.headers.authorization !== expected) return fail(401, 20003, "Authentication Error - invalid username");
      if (!(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) return fail(400, 21601, "Body must be form-encoded");
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const to = form.get("To") ?? "";
      const from = form.get("From") ?? "";
      const body = form.get("Body") ?? "";
      if (!/^\+[1-9]\d{6,14}$/.test(to)) return fail(400, 21211, `The 'To' number ${to} is not a valid phone number.`);
      if (from === "") return fail(400, 21603, "A 'From' phone number is required.");
      if (body === "" || body.length > 1600) return fail(400, 21602, "Message body is required and at most 1600 characters.");
      const sid = `SM${String(sent.length + 1).padStart(32, "0")}`;
      sent.push({ to, from, body, sid });
      answer(201, { sid, status: "queued", to, from, body, account_sid: TWILIO_SID });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sent,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
