import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { open, parseSealingKeys, seal, SealError, type SealingKeys } from "../../src/sensitive/sealing.js";
import { presentPaths, restored, SENSITIVE_PLACEHOLDER, sensitiveNotice, withheld } from "../../src/sensitive/sensitive-fields.js";

const OLD = randomBytes(32).toString("base64");
const NEW = randomBytes(32).toString("base64");
const keysOf = (text: string): SealingKeys => {
  const parsed = parseSealingKeys(text);
  if ("errors" in parsed) throw new Error(parsed.errors.join("; "));
  return parsed.keys;
};

describe("sealing sensitive values", () => {
  it("round-trips, names its key, and keeps opening with the old key after a new one goes first", () => {
    const before = keysOf(`k1:${OLD}`);
    const sealed = seal(before, '{"card_number":"4111-1111-1111-1111"}', "req_1");
    expect(sealed).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("4111");
    expect(open(before, sealed, "req_1")).toBe('{"card_number":"4111-1111-1111-1111"}');

    const rotated = keysOf(`k2:${NEW}, k1:${OLD}`);
    expect(open(rotated, sealed, "req_1")).toBe('{"card_number":"4111-1111-1111-1111"}');
    const fresh = seal(rotated, "x", "req_2");
    expect(fresh.split(".")[1]).toBe("k2");
    expect(() => open(before, fresh, "req_2")).toThrow(new SealError('sensitive data: sealed with key id "k2", which HITL_ENCRYPTION_KEYS does not hold'));
  });

  it("fails closed on any altered byte, on another request's id, and on a malformed value", () => {
    const keys = keysOf(`k1:${OLD}`);
    const sealed = seal(keys, "secret", "req_1");
    const [prefix, id, iv, body] = sealed.split(".") as [string, string, string, string];
    const bytes = Buffer.from(body, "base64url");
    for (const index of [0, bytes.length - 1]) {
      const altered = Buffer.from(bytes);
      altered[index]! ^= 1;
      expect(() => open(keys, [prefix, id, iv, altered.toString("base64url")].join("."), "req_1")).toThrow(SealError);
    }
    expect(() => open(keys, sealed, "req_2")).toThrow(new SealError("sensitive data: the sealed value does not authenticate (altered, or another request's)"));
    expect(() => open(keys, "v1.k1.short.x", "req_1")).toThrow(new SealError("sensitive data: the sealed value is malformed"));
    expect(() => open(keys, "secret", "req_1")).toThrow(new SealError("sensitive data: not a sealed value"));
  });

  it("explains bad HITL_ENCRYPTION_KEYS by pair and id, never echoing a key", () => {
    const short = randomBytes(16).toString("base64");
    expect(parseSealingKeys(`k1:${short},k1:${OLD},:${OLD},k3:${OLD}`)).toEqual({
      errors: [
        "HITL_ENCRYPTION_KEYS: pair 1 (k1): the key must be 32 bytes, base64 (e.g. openssl rand -base64 32)",
        "HITL_ENCRYPTION_KEYS: pair 3: expected id:base64key, the id 1-40 letters, digits, '-' or '_'",
      ],
    });
    expect(parseSealingKeys(`k1:${OLD},k1:${NEW}`)).toEqual({ errors: ["HITL_ENCRYPTION_KEYS: pair 2 (k1): the id is used twice"] });
    expect(parseSealingKeys(" , ")).toEqual({ errors: ["HITL_ENCRYPTION_KEYS: expected id:base64key pairs, comma-separated"] });
  });
});

describe("sensitive fields", () => {
  const data = { amount: 120, card_number: "4111-1111-1111-1111", customer: { name: "Ann", email: "ann@example.com" } };

  it("takes values out by path, leaves a placeholder, and puts them back", () => {
    const paths = presentPaths(data, ["customer.email", "card_number", "missing", "customer.email", "amount.deeper"]);
    expect(paths).toEqual(["card_number", "customer.email"]);
    const { shown, values } = withheld(data, paths);
    expect(shown).toEqual({ amount: 120, card_number: SENSITIVE_PLACEHOLDER, customer: { name: "Ann", email: SENSITIVE_PLACEHOLDER } });
    expect(values).toEqual({ card_number: "4111-1111-1111-1111", "customer.email": "ann@example.com" });
    expect(restored(shown, values)).toEqual(data);
    expect(presentPaths(data, ["customer", "customer.email"])).toEqual(["customer"]);
  });

  it("says how many fields are kept off GitHub, which, and where to see them", () => {
    expect(sensitiveNotice(["card_number", "customer.email"], (path) => `\`${path}\``)).toBe(
      "2 sensitive fields are kept off GitHub: `card_number`, `customer.email`. Approvers see the values on the one-click confirmation page, or ask the requesting agent.",
    );
    expect(sensitiveNotice(["card_number"], (path) => path)).toBe("1 sensitive field is kept off GitHub: card_number. Approvers see the values on the one-click confirmation page, or ask the requesting agent.");
  });
});
