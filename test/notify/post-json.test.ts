import type { LookupAddress } from "node:dns";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { postJson } from "../../src/notify/post-json.js";
import { NO_ALLOWED_TARGETS, parseAllowedTargets, type Resolve } from "../../src/notify/private-targets.js";
import { startCallbackReceiver, type CallbackReceiver } from "../support/callback-receiver.js";

const BODY = JSON.stringify({ event: "request.approved", request: { id: "req_1" } });
const HEADERS = { "content-type": "application/json", "user-agent": "hitl" };

/** A resolver that answers from a table and notes every name it was asked. */
function fakeDns(table: Record<string, LookupAddress[]>): Resolve & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    asked.push(hostname);
    return table[hostname] ?? [];
  };
  return Object.assign(resolve, { asked });
}

describe("posting to callbacks and channels", () => {
  let receiver: CallbackReceiver;
  let elsewhere: CallbackReceiver;
  const port = () => new URL(receiver.base).port;

  beforeEach(async () => {
    receiver = await startCallbackReceiver();
    elsewhere = await startCallbackReceiver();
  });
  afterEach(async () => {
    await receiver.close();
    await elsewhere.close();
  });

  it("refuses, at the connection, a name that resolves to loopback, the metadata address or a mapped private address", async () => {
    const dns = fakeDns({
      "rebind.example": [{ address: "127.0.0.1", family: 4 }],
      "metadata.example": [{ address: "169.254.169.254", family: 4 }],
      "mixed.example": [{ address: "93.184.216.34", family: 4 }, { address: "10.0.0.5", family: 4 }],
      "mapped.example": [{ address: "::ffff:127.0.0.1", family: 6 }],
      "ec2v6.example": [{ address: "fd00:ec2::254", family: 6 }],
    });
    const outbound = { allowed: NO_ALLOWED_TARGETS, resolve: dns };
    const attempts = ["rebind", "metadata", "mixed", "mapped", "ec2v6"].map((name) =>
      postJson(outbound, `https://${name}.example:${port()}/hooks/hitl`, BODY, HEADERS).then(
        () => "delivered",
        (error: Error) => error.message,
      ),
    );
    expect(await Promise.all(attempts)).toEqual([
      "rebind.example resolves to 127.0.0.1, a private address; HITL_ALLOWED_PRIVATE_TARGETS does not list it",
      "metadata.example resolves to 169.254.169.254, a private address; HITL_ALLOWED_PRIVATE_TARGETS does not list it",
      "mixed.example resolves to 10.0.0.5, a private address; HITL_ALLOWED_PRIVATE_TARGETS does not list it",
      "mapped.example resolves to ::ffff:127.0.0.1, a private address; HITL_ALLOWED_PRIVATE_TARGETS does not list it",
      "ec2v6.example resolves to fd00:ec2::254, a private address; HITL_ALLOWED_PRIVATE_TARGETS does not list it",
    ]);
    expect(dns.asked.sort()).toEqual(["ec2v6.example", "mapped.example", "metadata.example", "mixed.example", "rebind.example"]);
    expect(receiver.connections()).toBe(0);
  });

  it("refuses localhost as the system resolves it", async () => {
    await expect(postJson({ allowed: NO_ALLOWED_TARGETS }, `https://localhost:${port()}/hooks/hitl`, BODY, HEADERS)).rejects.toThrow(
      /^localhost resolves to (127\.0\.0\.1|::1), a private address; HITL_ALLOWED_PRIVATE_TARGETS does not list it$/,
    );
    expect(receiver.connections()).toBe(0);
  });

  it("refuses an http URL or a literal private address before connecting", async () => {
    await expect(postJson({ allowed: NO_ALLOWED_TARGETS }, `${receiver.url}`, BODY, HEADERS)).rejects.toThrow(
      "refused to send: the URL must be an https URL (http only for hosts in HITL_ALLOWED_PRIVATE_TARGETS)",
    );
    await expect(postJson({ allowed: NO_ALLOWED_TARGETS }, `https://127.0.0.1:${port()}/hooks/hitl`, BODY, HEADERS)).rejects.toThrow(
      "refused to send: the URL must not be a private, loopback, link-local or metadata address unless HITL_ALLOWED_PRIVATE_TARGETS lists it",
    );
    expect(receiver.connections()).toBe(0);
  });

  it("sends to private targets HITL_ALLOWED_PRIVATE_TARGETS lists, by address or by name", async () => {
    await postJson({ allowed: parseAllowedTargets("127.0.0.0/8").targets }, receiver.url, BODY, HEADERS);
    const dns = fakeDns({ "receiver.internal": [{ address: "127.0.0.1", family: 4 }] });
    await postJson({ allowed: parseAllowedTargets("receiver.internal").targets, resolve: dns }, `http://receiver.internal:${port()}/by-name`, BODY, HEADERS);
    expect(dns.asked).toEqual(["receiver.internal"]);
    expect(receiver.received.map((call) => ({ path: call.path, body: call.body, type: call.headers["content-type"], length: call.headers["content-length"] }))).toEqual([
      { path: "/hooks/hitl", body: BODY, type: "application/json", length: String(BODY.length) },
      { path: "/by-name", body: BODY, type: "application/json", length: String(BODY.length) },
    ]);
  });

  it("does not follow a redirect: a 3xx is a failed delivery, and its target hears nothing", async () => {
    receiver.redirectNext(`${elsewhere.base}/stolen`);
    receiver.redirectNext(`${elsewhere.base}/stolen`, 307);
    const outbound = { allowed: parseAllowedTargets("127.0.0.1").targets };
    await expect(postJson(outbound, receiver.url, BODY, HEADERS)).rejects.toThrow("answered HTTP 302 (redirects are not followed)");
    await expect(postJson(outbound, receiver.url, BODY, HEADERS)).rejects.toThrow("answered HTTP 307 (redirects are not followed)");
    expect(receiver.received.map((call) => [call.status, call.body])).toEqual([
      [302, BODY],
      [307, BODY],
    ]);
    expect(elsewhere.received).toEqual([]);
    expect(elsewhere.connections()).toBe(0);
  });
});
