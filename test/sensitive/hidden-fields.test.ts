import { describe, expect, it } from "vitest";
import { HIDDEN_PLACEHOLDER, hiddenNames, hiddenNotice, hiddenPaths, hideRequest, unhidden } from "../../src/sensitive/hidden-fields.js";
import { SENSITIVE_PLACEHOLDER } from "../../src/sensitive/sensitive-fields.js";
import type { ApprovalRequest } from "../../src/core/types.js";

const DATA = { amount: 120, currency: "USD", customer: { name: "Ann", email: "ann@example.net", address: { city: "Oslo", street: "Main 1" } }, notes: "internal" };

describe("hiddenPaths: which decision-data paths .hitl.yml keeps off GitHub", () => {
  it.each([
    ["no context: nothing", undefined, [], []],
    ["empty hide and no show: nothing", { hide: [] }, [], []],
    ["hide names paths; absent ones are skipped", { hide: ["notes", "customer.email", "missing.path"] }, [], ["customer.email", "notes"]],
    ["show keeps only what it names, hiding each other value as high up as it can", { show: ["amount", "customer.name"] }, [], ["currency", "customer.address", "customer.email", "notes"]],
    ["show reaches into nested objects", { show: ["customer.address.city"] }, [], ["amount", "currency", "customer.address.street", "customer.email", "customer.name", "notes"]],
    ["show: [] hides every value", { show: [] }, [], ["amount", "currency", "customer", "notes"]],
    ["hide wins over show, under a shown path", { show: ["customer"], hide: ["customer.email"] }, [], ["amount", "currency", "customer.email", "notes"]],
    ["hide wins over show, above a shown path", { show: ["customer.email"], hide: ["customer"] }, [], ["amount", "currency", "customer", "notes"]],
    ["a path at or under a sensitive one is left to sealing", { hide: ["customer.email", "customer.address.city", "notes"] }, ["customer.email", "customer.address"], ["notes"]],
    ["a path above a sensitive one is still hidden", { hide: ["customer"] }, ["customer.email"], ["customer"]],
  ] as const)("%s", (_name, visibility, sensitive, expected) => {
    expect(hiddenPaths(DATA, visibility, sensitive)).toEqual({ paths: expected, unnamed: [] });
  });

  it("with show, names the keys with a dot that no path can address, instead of showing them", () => {
    expect(hiddenPaths({ amount: 1, "a.b": 2, nested: { "c.d": 3, e: 4 } }, { show: ["amount", "nested.e"] })).toEqual({ paths: [], unnamed: ["a.b", "nested.c.d"] });
    // A key with a dot that show names exactly is shown, as named.
    expect(hiddenPaths({ "a.b": 2 }, { show: ["a.b"] })).toEqual({ paths: [], unnamed: [] });
  });

  it("a path into a list or a scalar names nothing: the whole value is hidden under show", () => {
    expect(hiddenPaths({ items: [{ sku: "x" }], amount: 5 }, { show: ["items.0.sku", "amount.cents"] })).toEqual({ paths: ["amount", "items"], unnamed: [] });
  });
});

describe("hideRequest and unhidden", () => {
  const request = { id: "req_1", decisionData: DATA, availableActions: [{ id: "approve", label: "Approve" }] } as unknown as ApprovalRequest;

  it("takes the values out behind a placeholder, keeps them in clear, and puts them back", () => {
    const hidden = hideRequest(request, ["customer.email", "notes"]);
    expect(hidden.decisionData).toEqual({ ...DATA, customer: { ...DATA.customer, email: HIDDEN_PLACEHOLDER }, notes: HIDDEN_PLACEHOLDER });
    expect(hidden.hidden).toEqual({ paths: ["customer.email", "notes"], values: { "customer.email": "ann@example.net", notes: "internal" } });
    expect(hidden.availableActions).toEqual(request.availableActions);
    expect(unhidden(hidden).decisionData).toEqual(DATA);
    expect(hideRequest(request, [])).toBe(request);
    expect(unhidden(request)).toBe(request);
  });

  it("takes values out of each action's data too, and puts them back", () => {
    const withActions = {
      ...request,
      availableActions: [
        { id: "full", label: "Full refund", kind: "approve", data: { amount: 120, payee: { iban: "NO93 8601 1117 947" } } },
        { id: "half", label: "Half", kind: "approve", data: { amount: 60 } },
      ],
    } as ApprovalRequest;
    const hidden = hideRequest(withActions, [], { full: ["payee.iban"], half: [] });
    expect(hidden.decisionData).toEqual(DATA);
    expect(hidden.availableActions.map((action) => action.data)).toEqual([{ amount: 120, payee: { iban: HIDDEN_PLACEHOLDER } }, { amount: 60 }]);
    expect(hidden.hidden).toEqual({ paths: [], values: {}, actions: { full: { paths: ["payee.iban"], values: { "payee.iban": "NO93 8601 1117 947" } } } });
    expect(unhidden(hidden).availableActions).toEqual(withActions.availableActions);
    expect(hiddenNames(hidden.hidden!, (text) => `\`${text}\``)).toEqual(["`payee.iban` of action `full`"]);
  });

  it("composes with sensitive placeholders: a hidden object holding one gives it back as the placeholder", () => {
    const sealed = { ...request, decisionData: { ...DATA, customer: { ...DATA.customer, email: SENSITIVE_PLACEHOLDER } } } as ApprovalRequest;
    const hidden = hideRequest(sealed, ["customer"]);
    expect(hidden.decisionData.customer).toBe(HIDDEN_PLACEHOLDER);
    expect((unhidden(hidden).decisionData.customer as { email: string }).email).toBe(SENSITIVE_PLACEHOLDER);
  });
});

describe("hiddenNotice", () => {
  const code = (path: string) => `\`${path}\``;
  it("says how many, which, and where to see them", () => {
    expect(hiddenNotice(["notes"].map(code))).toBe(
      "1 field is not shown on GitHub (this repository's .hitl.yml `context`): `notes`. Approvers see the values on the one-click confirmation page, or ask the requesting agent.",
    );
    expect(hiddenNotice(["a", "b"].map(code))).toBe(
      "2 fields are not shown on GitHub (this repository's .hitl.yml `context`): `a`, `b`. Approvers see the values on the one-click confirmation page, or ask the requesting agent.",
    );
  });

  it("lists at most 20 names and counts the rest", () => {
    const paths = Array.from({ length: 23 }, (_, i) => `f${i}`);
    expect(hiddenNotice(paths.map(code))).toBe(
      `23 fields are not shown on GitHub (this repository's .hitl.yml \`context\`): ${paths.slice(0, 20).map(code).join(", ")} and 3 more. Approvers see the values on the one-click confirmation page, or ask the requesting agent.`,
    );
  });
});
