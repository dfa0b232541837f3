import { createHmac } from "node:crypto";
import type { Octokit } from "./octokit.js";

/** Who hitl is on GitHub, to sign its markers and know its own issues and comments from anyone else's. */
export interface AppSelf {
  appId: number;
  /** Signs hitl's markers (core/render/markers.ts). */
  markerKey: string;
}

/**
 * The marker key, derived from a secret only the app holds (`HITL_MARKER_SECRET`, else the
 * webhook secret), so the secret itself never appears next to anything public.
 */
export function markerKeyFrom(secret: string): string {
  return createHmac("sha256", secret).update("hitl marker key").digest("base64url");
}

interface Authored {
  user?: { type?: string } | null;
  performed_via_github_app?: { id: number } | null;
}

/**
 * Whether GitHub says this app wrote the issue or comment: its author is a bot, and the app that
 * acted is this one. GitHub gives `performed_via_github_app` (null when no app acted); only a
 * response without the field at all is judged by the author alone.
 */
export function writtenBy(self: AppSelf, item: Authored): boolean {
  if (item.user?.type !== "Bot") return false;
  return item.performed_via_github_app === undefined || item.performed_via_github_app?.id === self.appId;
}

/**
 * The login GitHub gives this app's own edits and comments (`<slug>[bot]`), asked once of GitHub
 * as the app itself (`GET /app`). Null while GitHub cannot say: callers then treat the account as
 * someone else's, the safe side.
 */
export function appBotLogin(appOctokit: () => Promise<Octokit>): () => Promise<string | null> {
  let known: string | null = null;
  return async () => {
    if (known) return known;
    try {
      const { data } = await (await appOctokit()).rest.apps.getAuthenticated();
      known = data?.slug ? `${data.slug}[bot]` : null;
    } catch {
      known = null;
    }
    return known;
  };
}
