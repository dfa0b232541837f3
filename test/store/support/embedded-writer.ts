/**
 * Writes to an embedded store as fast as it can until it is killed: creates requests and
 * decides them from several concurrent loops. A line is printed only after its write resolved:
 * `created <id>` and `decided <id>`. Usage: node --import tsx embedded-writer.ts <dir>
 */
import { createEmbeddedStore } from "../../../src/store/embedded-store.js";
import { makeAudit, makeJob, makeRequest } from "../../support/fixtures.js";

const dir = process.argv[2];
if (!dir) throw new Error("usage: embedded-writer.ts <dir>");

const store = await createEmbeddedStore({ dir, log: () => undefined });
const prefix = `req_w${process.pid}_`;
let next = 0;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function loop(): Promise<never> {
  for (;;) {
    const request = makeRequest({ id: `${prefix}${next++}` });
    await store.create(request, { audit: [makeAudit(request)], jobs: [makeJob(request)] });
    say(`created ${request.id}`);
    const decided = { ...request, status: "approved" as const, escalation: { ...request.escalation, nextAt: null } };
    const stored = await store.update(decided, 1, { audit: [makeAudit(decided, { event: "decided", action: "approve" })] });
    if (!stored) throw new Error(`lost the compare-and-set on ${request.id}`);
    say(`decided ${request.id}`);
  }
}

say("ready");
await Promise.all(Array.from({ length: 8 }, loop));
