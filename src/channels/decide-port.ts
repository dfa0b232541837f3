import type { ChannelDecision, ChannelOutcome } from "../engine/engine.js";

/** The engine's entry point for decisions made outside GitHub (`engine.decideFromChannel`), as the channels here use it. */
export type DecideFromChannel = (input: ChannelDecision) => Promise<ChannelOutcome>;
