import type { DecisionOutcome } from "../engine/engine.js";

/** A decision a person made outside GitHub, as the login `people:` maps them to. */
export interface ChannelDecisionInput {
  requestId: string;
  login: string;
  action: string;
  justification?: string | null;
  editedFields?: Record<string, unknown>;
  reasonCode?: string;
  via: "email" | "link" | "sms" | "slack";
}

/** The engine's entry point for such decisions: authorized exactly as the login's `/approve` would be. */
export type DecideFromChannel = (input: ChannelDecisionInput) => Promise<DecisionOutcome>;
