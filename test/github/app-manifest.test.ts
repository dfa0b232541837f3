import { readFileSync } from "node:fs";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";

const manifest = load(readFileSync(new URL("../../app.yml", import.meta.url), "utf8")) as { default_events: string[]; default_permissions: Record<string, string> };
const wiring = readFileSync(new URL("../../src/app.ts", import.meta.url), "utf8");

describe("app.yml", () => {
  it("subscribes to every event the app handles, and to nothing else", () => {
    const calls = [...wiring.matchAll(/app\.on\(([^,]+(?:,[^,(]+)*?),\s*(?:once\(|counted\(|handle)/g)].map((match) => match[1]!);
    const handled = new Set(calls.flatMap((call) => [...call.matchAll(/"([a-z_]+)(?:\.[a-z_]+)?"/g)].map((match) => match[1]!)));
    expect([...handled].sort()).toEqual([...manifest.default_events].sort());
  });

  it("asks for what answering a deployment protection rule needs: deployments write, actions read", () => {
    expect(manifest.default_permissions).toMatchObject({ deployments: "write", actions: "read" });
  });
});
