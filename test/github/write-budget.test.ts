import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createWriteBudget } from "../../src/github/write-budget.js";
import { createEmbeddedStore } from "../../src/store/embedded-store.js";
import type { Store } from "../../src/store/store.js";

const T0 = Date.parse("2026-12-01T10:00:00.000Z");
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function embedded(): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), "hitl-budget-"));
  const store = await createEmbeddedStore({ dir, fsync: false, log: () => undefined });
  closers.push(async () => (await store.close(), await rm(dir, { recursive: true, force: true })));
  return store;
}

/** A budget on a clock that moves only when it waits, recording each wait. */
function budgetOn(store: Store) {
  let now = T0;
  const waits: number[] = [];
  const budget = createWriteBudget({
    store,
    clock: () => new Date(now),
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { budget, waits, advance: (ms: number) => (now += ms) };
}

describe("write budget", () => {
  it("spaces an installation's writes a second apart and its notifying writes three, each installation on its own", async () => {
    const { budget, waits } = budgetOn(await embedded());
    const ran: string[] = [];
    const task = (name: string) => () => void ran.push(name);
    await Promise.all([
      budget.write.key("1").schedule({}, task("a")),
      budget.write.key("1").schedule({}, task("b")),
      budget.write.key("1").schedule({}, task("c")),
      budget.write.key("2").schedule({}, task("other installation")),
      budget.notifications.key("1").schedule({}, task("issue")),
      budget.notifications.key("1").schedule({}, task("comment")),
    ]);
    expect(waits).toEqual([1000, 2000, 3000]);
    expect(ran.sort()).toEqual(["a", "b", "c", "comment", "issue", "other installation"]);
  });

  it("passes the task's arguments and its result through", async () => {
    const { budget } = budgetOn(await embedded());
    const result = await budget.write.key("1").schedule({}, (a, b) => `${String(a)}+${String(b)}`, "x", "y");
    expect(result).toBe("x+y");
  });

  it("holds every write of an installation back after a secondary rate limit", async () => {
    const { budget, waits, advance } = budgetOn(await embedded());
    await budget.write.key("1").schedule({}, () => undefined);
    await budget.pause("1", 60_000);
    advance(10_000);
    await budget.write.key("1").schedule({}, () => undefined);
    await budget.write.key("2").schedule({}, () => undefined);
    expect(waits).toEqual([51_000]);
  });
});
