import type { DecisionVia } from "../types.js";

const CHANNEL_WORDS: Partial<Record<DecisionVia, string>> = {
  slack: "Slack",
  email: "email",
  link: "a one-click link",
  sms: "SMS",
  desk: "the approver's desk",
};

/** " via Slack" for a decision or vote made outside GitHub; "" for one made on GitHub or by policy. */
export function viaWords(via: DecisionVia): string {
  const words = CHANNEL_WORDS[via];
  return words ? ` via ${words}` : "";
}
