/**
 * Which decision-data values `.hitl.yml`'s `context: {show, hide}` keeps off GitHub and out of
 * notifications, and the request with them taken out (pure). Unlike sensitive values they are
 * not secret: they stay in clear in the store, for the agent, the desk and one-click pages.
 */
import type { ApprovalRequest } from "../core/types.js";
import { presentPaths, restored, withheld } from "./sensitive-fields.js";

/** What every surface shows in place of a hidden value. */
export const HIDDEN_PLACEHOLDER = "[hidden: not shown on GitHub]";

/** `.hitl.yml` `context:`. `show`: only these paths appear; `hide`: these never do. */
export interface ContextVisibility {
  show?: readonly string[] | undefined;
  hide?: readonly string[] | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

/**
 * The paths of `data` that `show` does not name (nor lie on the way to), each as high up as it
 * can be; and the keys with a dot among them, which no path can name (so they cannot be taken out).
 */
function unshown(data: Record<string, unknown>, show: readonly string[], prefix: string): { paths: string[]; unnamed: string[] } {
  const out = { paths: [] as string[], unnamed: [] as string[] };
  for (const [key, value] of Object.entries(data)) {
    const path = `${prefix}${key}`;
    if (show.includes(path)) continue;
    if (key.includes(".")) {
      out.unnamed.push(path);
      continue;
    }
    if (isRecord(value) && show.some((shown) => shown.startsWith(`${path}.`))) {
      const inner = unshown(value, show, `${path}.`);
      out.paths.push(...inner.paths);
      out.unnamed.push(...inner.unnamed);
    } else {
      out.paths.push(path);
    }
  }
  return out;
}

/**
 * The paths of `data` to keep off GitHub: everything `show` (when given) does not name, and
 * everything `hide` names. Paths at or under a sensitive path are left to sealing, which keeps
 * them off already. `unnamed`: keys with a dot that `show` would hide but no path can address;
 * a request with any is refused rather than shown.
 */
export function hiddenPaths(data: Record<string, unknown>, visibility: ContextVisibility | undefined, sensitive: readonly string[] = []): { paths: string[]; unnamed: string[] } {
  if (!visibility || (visibility.show === undefined && !visibility.hide?.length)) return { paths: [], unnamed: [] };
  const fromShow = visibility.show ? unshown(data, visibility.show, "") : { paths: [], unnamed: [] };
  const underSensitive = (path: string) => sensitive.some((other) => path === other || path.startsWith(`${other}.`));
  return { paths: presentPaths(data, [...fromShow.paths, ...(visibility.hide ?? [])]).filter((path) => !underSensitive(path)), unnamed: fromShow.unnamed };
}

/**
 * The request with the values at `paths` (of `decisionData`) and at `actionPaths` (of each
 * action's `data`, by action id) replaced by the placeholder and kept in `hidden`.
 */
export function hideRequest(request: ApprovalRequest, paths: readonly string[], actionPaths: Readonly<Record<string, readonly string[]>> = {}): ApprovalRequest {
  const actions: Record<string, { paths: string[]; values: Record<string, unknown> }> = {};
  const availableActions = request.availableActions.map((action) => {
    const at = actionPaths[action.id] ?? [];
    if (!action.data || at.length === 0) return action;
    const { shown, values } = withheld(action.data, at, HIDDEN_PLACEHOLDER);
    actions[action.id] = { paths: Object.keys(values), values };
    return { ...action, data: shown };
  });
  if (paths.length === 0 && Object.keys(actions).length === 0) return request;
  const { shown, values } = withheld(request.decisionData, paths, HIDDEN_PLACEHOLDER);
  return { ...request, decisionData: shown, availableActions, hidden: { paths: Object.keys(values), values, ...(Object.keys(actions).length > 0 ? { actions } : {}) } };
}

/** The request with its hidden values back in `decisionData` and the actions' data (sensitive ones stay sealed). */
export function unhidden(request: ApprovalRequest): ApprovalRequest {
  if (!request.hidden) return request;
  const actions = request.hidden.actions ?? {};
  const availableActions = request.hidden.actions
    ? request.availableActions.map((action) => (action.data && actions[action.id] ? { ...action, data: restored(action.data, actions[action.id]!.values) } : action))
    : request.availableActions;
  return { ...request, decisionData: restored(request.decisionData, request.hidden.values), availableActions };
}

/** Every hidden path, for a notice: decision data's as they are, an action's as `<path> of action <id>`. */
export function hiddenNames(hidden: NonNullable<ApprovalRequest["hidden"]>, code: (text: string) => string): string[] {
  return [...hidden.paths.map(code), ...Object.entries(hidden.actions ?? {}).flatMap(([id, entry]) => entry.paths.map((path) => `${code(path)} of action ${code(id)}`))];
}

const NAMES_LISTED = 20;

/** What a surface says instead of the hidden values: how many, which, and where people see them. */
export function hiddenNotice(names: readonly string[]): string {
  const listed = names.slice(0, NAMES_LISTED).join(", ");
  const shown = names.length > NAMES_LISTED ? `${listed} and ${names.length - NAMES_LISTED} more` : listed;
  const count = names.length === 1 ? "1 field is" : `${names.length} fields are`;
  return `${count} not shown on GitHub (this repository's .hitl.yml \`context\`): ${shown}. Approvers see the values on the one-click confirmation page, or ask the requesting agent.`;
}
