import { describe, expect, it } from "vitest";
import { markerKeyFrom, writtenBy } from "../../src/github/app-self.js";

const self = { appId: 7, markerKey: markerKeyFrom("webhook-secret") };
const ours = { id: 7, slug: "hitl" };
const theirs = { id: 8, slug: "other" };

describe("writtenBy", () => {
  it.each([
    ["the app, as GitHub names it", { user: { type: "Bot" }, performed_via_github_app: ours }, true],
    ["a bot, in a response without the field", { user: { type: "Bot" } }, true],
    ["another app", { user: { type: "Bot" }, performed_via_github_app: theirs }, false],
    ["a bot no app acted for", { user: { type: "Bot" }, performed_via_github_app: null }, false],
    ["a person", { user: { type: "User" }, performed_via_github_app: null }, false],
    ["a person, even with the app's id claimed", { user: { type: "User" }, performed_via_github_app: ours }, false],
    ["nobody", { user: null }, false],
  ])("%s", (_, item, expected) => {
    expect(writtenBy(self, item)).toBe(expected);
  });
});
