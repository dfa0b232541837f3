import type { ApprovalRequest } from "../core/types.js";
import type { DecisionOutcome } from "../engine/engine.js";

/** A decision a person made outside GitHub, as the login `people:` maps them to. */
export interface ChannelDecisionInput {
  requestId: string;
  login: string;
  action: string;
  via: "email" | "link" | "sms" | "slack";
  justification?: string | null;
  editedFields?: Record<string, unknown>;
  reasonCode?: string;
  /** What the person was shown: a request whose content changed since is `stale`. */
  contextHash?: string;
  /** Pull requests: the head commit the person saw. */
  headSha?: string;
}

export type ChannelDecisionOutcome = DecisionOutcome | { type: "not_found"; requestId: string } | { type: "stale"; request: ApprovalRequest };

/** The engine's entry point for such decisions: authorized exactly as the login's `/approve` would be. */
export type DecideFromChannel = (input: ChannelDecisionInput) => Promise<ChannelDecisionOutcome>;
