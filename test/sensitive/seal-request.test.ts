import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { purgeContext } from "../../src/core/retention.js";
import { sealRequest, unsealRequest } from "../../src/sensitive/seal-request.js";
import { parseSealingKeys, SealError, type SealingKeys } from "../../src/sensitive/sealing.js";
import { SENSITIVE_PLACEHOLDER } from "../../src/sensitive/sensitive-fields.js";
import { makeRequest } from "../support/fixtures.js";

const keysOf = (text: string): SealingKeys => {
  const parsed = parseSealingKeys(text);
  if ("errors" in parsed) throw new Error(parsed.errors.join("; "));
  return parsed.keys;
};

describe("a request's sensitive values", () => {
  const keys = keysOf(`k1:${randomBytes(32).toString("base64")}`);
  const request = makeRequest({ id: "req_a", decisionData: { amount: 120, card_number: "4111-1111-1111-1111" } });

  it("are sealed for the store and opened in memory; another request's sealed value does not open", () => {
    const sealed = sealRequest(keys, request, ["card_number"]);
    expect(sealed.decisionData).toEqual({ amount: 120, card_number: SENSITIVE_PLACEHOLDER });
    expect(sealed.sensitive?.paths).toEqual(["card_number"]);
    expect(JSON.stringify(sealed)).not.toContain("4111");
    expect(unsealRequest(keys, sealed).decisionData).toEqual(request.decisionData);
    expect(() => unsealRequest(keys, { ...sealed, id: "req_b" })).toThrow(SealError);
    expect(() => unsealRequest(null, sealed)).toThrow(new SealError("sensitive data: this request's values are sealed, and HITL_ENCRYPTION_KEYS is not set"));
    expect(sealRequest(keys, request, [])).toBe(request);
  });

  it("leave with the rest of the context when retention purges it", () => {
    const purged = purgeContext(sealRequest(keys, request, ["card_number"]), new Date("2027-01-01T00:00:00Z"));
    expect(purged.decisionData).toEqual({});
    expect("sensitive" in purged).toBe(false);
  });
});
