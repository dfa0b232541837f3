/**
 * Sign-in with GitHub through the app's own OAuth credentials (a GitHub App's user
 * authorization). The user token only identifies the login (`GET /user`); it is never kept and
 * never used to decide who may decide.
 */

export interface OAuthSettings {
  clientId: string;
  clientSecret: string;
  /** `https://github.com`, or the GitHub Enterprise Server's `https://<GHE_HOST>`. */
  webBase: string;
  /** `https://api.github.com`, or `https://<GHE_HOST>/api/v3`. */
  apiBase: string;
}

const TIMEOUT_MS = 10_000;

/** Web and API base for github.com, or for the GitHub Enterprise Server Probot's `GHE_HOST` names. */
export function githubBases(gheHost: string | undefined, gheProtocol: string | undefined): { webBase: string; apiBase: string } {
  if (!gheHost) return { webBase: "https://github.com", apiBase: "https://api.github.com" };
  const base = `${gheProtocol === "http" ? "http" : "https"}://${gheHost}`;
  return { webBase: base, apiBase: `${base}/api/v3` };
}

export function authorizeUrl(settings: OAuthSettings, redirectUri: string, state: string): string {
  const url = new URL("/login/oauth/authorize", settings.webBase);
  url.search = new URLSearchParams({ client_id: settings.clientId, redirect_uri: redirectUri, state }).toString();
  return url.toString();
}

export type SignInResult = { ok: true; login: string } | { ok: false; error: string };

/** Exchanges the code for a user token and asks GitHub whose it is. */
export async function loginFromCode(settings: OAuthSettings, code: string, redirectUri: string, fetcher: typeof fetch = fetch): Promise<SignInResult> {
  const exchanged = await fetcher(new URL("/login/oauth/access_token", settings.webBase), {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: JSON.stringify({ client_id: settings.clientId, client_secret: settings.clientSecret, code, redirect_uri: redirectUri }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  // GitHub answers errors here with 200 and an `error` field.
  const token = (await exchanged.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown };
  if (!exchanged.ok || typeof token.access_token !== "string") return { ok: false, error: typeof token.error === "string" ? token.error : `status ${exchanged.status}` };
  const user = await fetcher(`${settings.apiBase.replace(/\/+$/, "")}/user`, {
    headers: { accept: "application/vnd.github+json", authorization: `Bearer ${token.access_token}`, "x-github-api-version": "2022-11-28" },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const body = (await user.json().catch(() => ({}))) as { login?: unknown; type?: unknown };
  if (!user.ok || typeof body.login !== "string") return { ok: false, error: `GET /user answered ${user.status}` };
  if (body.type === "Bot") return { ok: false, error: "bot_account" };
  return { ok: true, login: body.login };
}
