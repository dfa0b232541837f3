import { randomBytes } from "node:crypto";
import { GitHubError, route, type Reply, type Route, type RouteContext, type StandInRequest } from "./router.js";

/**
 * GitHub's web flow for a GitHub App's user authorization, as github.com answers it:
 * `GET /login/oauth/authorize` (the person is signed in on GitHub: straight back to the
 * redirect URI with a code), `POST /login/oauth/access_token` (errors are 200 with `error`), and
 * `GET /user` with the user token.
 */

export interface OAuthState {
  clientId: string;
  clientSecret: string;
  /** The App's callback URLs; a redirect URI must be one of them or under one. */
  callbackUrls: string[];
  /** Who is signed in on "github.com" in the browser; null shows GitHub's sign-in page. */
  signedIn: string | null;
  /** The person presses "Cancel" on the authorization page. */
  denies: boolean;
  codes: Record<string, { login: string; redirectUri: string; used: boolean; expiresAt: number }>;
  /** User tokens (`ghu_…`) and whose they are. */
  userTokens: Record<string, string>;
}

const CODE_LIFETIME_MS = 10 * 60_000;

export function createOAuthState(seed: { clientId: string; clientSecret: string; callbackUrls?: string[] } | undefined): OAuthState | null {
  if (!seed) return null;
  return { clientId: seed.clientId, clientSecret: seed.clientSecret, callbackUrls: seed.callbackUrls ?? [], signedIn: null, denies: false, codes: {}, userTokens: {} };
}

const matchesCallback = (oauth: OAuthState, redirectUri: string) => oauth.callbackUrls.length === 0 || oauth.callbackUrls.some((url) => redirectUri === url || redirectUri.startsWith(`${url.replace(/\/$/, "")}/`));

const redirectTo = (target: string, params: Record<string, string>): Reply => {
  const url = new URL(target);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return { status: 302, headers: { location: url.toString() }, text: "" };
};

function authorize(req: StandInRequest, ctx: RouteContext): Reply {
  const oauth = ctx.state.oauth;
  if (!oauth || req.query.client_id !== oauth.clientId) return { status: 404, text: "Not Found" };
  const redirectUri = req.query.redirect_uri ?? oauth.callbackUrls[0] ?? "";
  const state = req.query.state;
  if (!matchesCallback(oauth, redirectUri)) {
    return redirectTo(oauth.callbackUrls[0]!, { error: "redirect_uri_mismatch", error_description: "The redirect_uri MUST match the registered callback URL for this application.", ...(state ? { state } : {}) });
  }
  if (oauth.denies) return redirectTo(redirectUri, { error: "access_denied", error_description: "The user has denied your application access.", ...(state ? { state } : {}) });
  if (!oauth.signedIn) return { status: 200, headers: { "content-type": "text/html; charset=utf-8" }, text: "<!doctype html><title>Sign in to GitHub</title><h1>Sign in to GitHub</h1>" };
  const code = randomBytes(10).toString("hex");
  oauth.codes[code] = { login: oauth.signedIn, redirectUri, used: false, expiresAt: Date.parse(ctx.now()) + CODE_LIFETIME_MS };
  return redirectTo(redirectUri, { code, ...(state ? { state } : {}) });
}

function accessToken(req: StandInRequest, ctx: RouteContext): Reply {
  const oauth = ctx.state.oauth;
  // GitHub takes the parameters as JSON, as a form, or in the query.
  const body: Record<string, string> = typeof req.body === "string" ? Object.fromEntries(new URLSearchParams(req.body)) : ((req.body ?? {}) as Record<string, string>);
  const given = { ...req.query, ...body };
  const error = (code: string, description: string): Reply => ({ status: 200, body: { error: code, error_description: description, error_uri: "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors" } });
  if (!oauth) return { status: 404, text: "Not Found" };
  if (given.client_id !== oauth.clientId || given.client_secret !== oauth.clientSecret) return error("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.");
  const grant = given.code ? oauth.codes[given.code] : undefined;
  if (!grant || grant.used || grant.expiresAt <= Date.parse(ctx.now())) return error("bad_verification_code", "The code passed is incorrect or expired.");
  if (given.redirect_uri !== undefined && given.redirect_uri !== grant.redirectUri) return error("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application.");
  grant.used = true;
  const token = `ghu_${randomBytes(18).toString("hex")}`;
  oauth.userTokens[token] = grant.login;
  if (!String(req.headers.accept ?? "").includes("application/json")) return { status: 200, text: new URLSearchParams({ access_token: token, scope: "", token_type: "bearer" }).toString() };
  return { status: 200, body: { access_token: token, expires_in: 28_800, token_type: "bearer", scope: "" } };
}

function user(req: StandInRequest, ctx: RouteContext): Reply {
  const [, token = ""] = String(req.headers.authorization ?? "").split(/\s+/, 2);
  if (ctx.installationId !== undefined) throw new GitHubError(403, "Resource not accessible by integration");
  const login = ctx.state.oauth?.userTokens[token];
  if (!login) throw new GitHubError(401, "Bad credentials");
  return { status: 200, body: ctx.shapes.user(login) };
}

export const oauthRoutes: Route[] = [route("GET", "/login/oauth/authorize", authorize, "none"), route("POST", "/login/oauth/access_token", accessToken, "none"), route("GET", "/user", user)];
