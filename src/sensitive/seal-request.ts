import type { ApprovalRequest } from "../core/types.js";
import { open, seal, SealError, type SealingKeys } from "./sealing.js";
import { restored, withheld } from "./sensitive-fields.js";
import { unhidden } from "./hidden-fields.js";

/**
 * The request as stored: the values at `paths` sealed with the current key and replaced by a
 * placeholder in `decisionData`, so no surface, log or store holds them in clear.
 */
export function sealRequest(keys: SealingKeys, request: ApprovalRequest, paths: readonly string[]): ApprovalRequest {
  if (paths.length === 0) return request;
  const { shown, values } = withheld(request.decisionData, paths);
  return { ...request, decisionData: shown, sensitive: { paths: Object.keys(values), sealed: seal(keys, JSON.stringify(values), request.id) } };
}

/**
 * The request with every withheld value back in `decisionData`, in memory only: those
 * `.hitl.yml` hides from GitHub (hidden-fields.ts), then the sensitive ones, sealed after being
 * taken out first. A request with none is returned as it is; one whose key is gone or whose
 * value was altered throws `SealError`.
 */
export function unsealRequest(keys: SealingKeys | null, stored: ApprovalRequest): ApprovalRequest {
  const request = unhidden(stored);
  if (!request.sensitive) return request;
  if (!keys) throw new SealError("sensitive data: this request's values are sealed, and HITL_ENCRYPTION_KEYS is not set");
  const values = JSON.parse(open(keys, request.sensitive.sealed, request.id)) as Record<string, unknown>;
  return { ...request, decisionData: restored(request.decisionData, values) };
}
