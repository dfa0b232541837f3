import { createHash } from "node:crypto";
import { BATCH_MAX_SIZE, type HitlConfig } from "../config/schema.js";
import { parseDuration } from "./duration.js";
import { hasStages } from "./vote.js";
import type { ApprovalRequest } from "./types.js";

export type BatchConfig = NonNullable<HitlConfig["batch"]>;

/** Where a request would go: the counter of its group's current window and when that window's batches post. */
export interface BatchSlot {
  counter: string;
  postAt: Date;
  maxSize: number;
}

/** Why a request is shown on its own rather than in a batch. */
export type Unbatched = "no_batch_config" | "not_an_issue" | "critical" | "stages" | "deployment" | "due_before_post";

/**
 * The batch a pending issue request joins under `.hitl.yml` `batch:`, or why it stays alone.
 * Batches of a group start on whole multiples of `max_wait` (so every replica names the same
 * one without asking another); a request whose deadline, reminder or escalation falls before its
 * batch would post stays alone, so nobody is escalated to or timed out on an issue not yet shown.
 */
export function batchSlot(request: ApprovalRequest, config: BatchConfig | undefined, now: Date): { ok: true; slot: BatchSlot } | { ok: false; why: Unbatched } {
  if (!config) return { ok: false, why: "no_batch_config" };
  if (request.surface.type !== "issue") return { ok: false, why: "not_an_issue" };
  if (request.deployment) return { ok: false, why: "deployment" };
  if (request.priority === "critical" && !config.include.includes("critical")) return { ok: false, why: "critical" };
  if (hasStages(request) && !config.include.includes("stages")) return { ok: false, why: "stages" };
  const waitMs = parseDuration(config.max_wait)!;
  const window = Math.floor(now.getTime() / waitMs);
  const postAt = new Date((window + 1) * waitMs);
  const next = request.escalation.nextAt === null ? Infinity : Date.parse(request.escalation.nextAt);
  if (Math.min(next, Date.parse(request.deadline)) <= postAt.getTime()) return { ok: false, why: "due_before_post" };
  const group = [request.repo, config.by, groupValue(request, config.by), waitMs, window].join("\n");
  return { ok: true, slot: { counter: `batch:${digest(group)}`, postAt, maxSize: Math.min(config.max_size, BATCH_MAX_SIZE) } };
}

function groupValue(request: ApprovalRequest, by: BatchConfig["by"]): string {
  if (by === "priority") return request.priority;
  if (by === "request_type") return request.requestType ?? "";
  return [...request.approvers].map((who) => who.toLowerCase()).sort().join(",");
}

/** The row a counter's `seq`-th request takes: the `generation`-th batch of the window, its row in it, and the batch's id. */
export function placeInBatch(slot: BatchSlot, seq: number): { id: string; row: number; first: number } {
  const generation = Math.ceil(seq / slot.maxSize);
  const first = (generation - 1) * slot.maxSize + 1;
  return { id: `bat_${digest(`${slot.counter}\n${generation}`).slice(0, 20)}`, row: seq - first + 1, first };
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("base64url");
}
