import { describe, expect, it } from "vitest";
import { endsWithOutcomeMarker, findRequestMarker, outcomeMarker, requestMarker } from "../../../src/core/render/markers.js";

const KEY = "marker-key-for-tests";

describe("request markers", () => {
  it("carry the request id and an HMAC of it", () => {
    expect(requestMarker("req_abc", KEY)).toBe("<!-- hitl:request:req_abc:KIbjr6ka2YghLztANEzRsM -->");
    expect(requestMarker("req_abc", "another key")).not.toBe(requestMarker("req_abc", KEY));
  });

  it("are read from the first line of a body", () => {
    expect(findRequestMarker(`${requestMarker("req_abc", KEY)}\nthe summary`, KEY)).toBe("req_abc");
    expect(findRequestMarker(`${requestMarker("req_abc", KEY)}\r\nedited on github.com`, KEY)).toBe("req_abc");
    expect(findRequestMarker(requestMarker("req_abc", KEY), KEY)).toBe("req_abc");
  });

  it("count nowhere else in the body", () => {
    expect(findRequestMarker(`the summary\n${requestMarker("req_abc", KEY)}`, KEY)).toBeNull();
    expect(findRequestMarker(` ${requestMarker("req_abc", KEY)}\n`, KEY)).toBeNull();
    expect(findRequestMarker(`\`${requestMarker("req_abc", KEY)}\`\n`, KEY)).toBeNull();
  });

  it("count only when signed with the key, for the id they name", () => {
    const copied = requestMarker("req_abc", KEY).replace("req_abc", "req_other");
    expect(findRequestMarker(`${copied}\n`, KEY)).toBeNull();
    expect(findRequestMarker(`${requestMarker("req_abc", "a guessed key")}\n`, KEY)).toBeNull();
    expect(findRequestMarker("<!-- hitl:request:req_abc -->\n", KEY)).toBeNull();
    expect(findRequestMarker(`${outcomeMarker("req_abc", KEY).replace("outcome", "request")}\n`, KEY)).toBeNull();
  });
});

describe("outcome markers", () => {
  const comment = (id: string, key = KEY) => `Approved by @alice on 24 Nov 2026 10:05 UTC. The agent has been told.\n\n${outcomeMarker(id, key)}`;

  it("carry the request id and an HMAC of it", () => {
    expect(outcomeMarker("req_abc", KEY)).toBe("<!-- hitl:outcome:req_abc:JIQAZO-Et7TIbqth0QoSAg -->");
  });

  it("are read from the last line of a comment", () => {
    expect(endsWithOutcomeMarker(comment("req_abc"), "req_abc", KEY)).toBe(true);
    expect(endsWithOutcomeMarker(`${comment("req_abc")}\r\n`, "req_abc", KEY)).toBe(true);
    expect(endsWithOutcomeMarker(`${comment("req_abc")}\nmore`, "req_abc", KEY)).toBe(false);
    expect(endsWithOutcomeMarker(`/approve ${outcomeMarker("req_abc", KEY)}`, "req_abc", KEY)).toBe(false);
  });

  it("count only for their own request and key", () => {
    expect(endsWithOutcomeMarker(comment("req_other"), "req_abc", KEY)).toBe(false);
    expect(endsWithOutcomeMarker(comment("req_abc", "a guessed key"), "req_abc", KEY)).toBe(false);
    expect(endsWithOutcomeMarker("/approve\n\n<!-- hitl:outcome:req_abc -->", "req_abc", KEY)).toBe(false);
  });
});
