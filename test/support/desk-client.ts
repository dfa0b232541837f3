import type { GitHubStandIn } from "./github-stand-in.js";

export const CLIENT_ID = "Iv1.desk0123456789ab";
export const CLIENT_SECRET = "desk-client-secret-0123456789abcdef";

/** The stand-in's web base (github.com's) and API base, for the desk's OAuth settings. */
export function oauthFor(github: GitHubStandIn, secret = CLIENT_SECRET) {
  return { clientId: CLIENT_ID, clientSecret: secret, webBase: `http://${github.host}`, apiBase: github.url };
}

export interface DeskResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * A browser without script: keeps the cookies the desk sets (by name), follows nothing on its
 * own, and sends forms as a browser does (`Origin` and `Sec-Fetch-Site` of the page).
 */
export class DeskBrowser {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  private keep(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const [name = "", ...value] = pair.split("=");
      if (/Max-Age=0\b/.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value.join("="));
    }
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<DeskResponse> {
    const url = path.startsWith("http") ? path : `${this.base}${path}`;
    const response = await fetch(url, { redirect: "manual", headers: { cookie: this.cookieHeader(), ...headers } });
    this.keep(response.headers);
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  async post(path: string, form: Record<string, string | string[]>, headers: Record<string, string> = {}): Promise<DeskResponse> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(form)) for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
    const response = await fetch(`${this.base}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: this.cookieHeader(), "content-type": "application/x-www-form-urlencoded", origin: new URL(this.base).origin, "sec-fetch-site": "same-origin", ...headers },
      body,
    });
    this.keep(response.headers);
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  /** Signs in as `login` (who is signed in on the stand-in's github.com), through the whole OAuth round trip; returns where it landed. */
  async signIn(github: GitHubStandIn, login: string, next = "/desk"): Promise<DeskResponse> {
    github.state.oauth!.signedIn = login;
    const start = await this.get(`/desk/login?next=${encodeURIComponent(next)}`);
    if (start.status !== 302) throw new Error(`sign-in did not start: ${start.status}`);
    const authorize = await fetch(start.headers.get("location")!, { redirect: "manual" });
    const back = authorize.headers.get("location");
    if (!back) throw new Error(`GitHub did not send back: ${authorize.status}`);
    return this.get(back);
  }
}

/** The text a person reads: tags gone, entities read, white space collapsed. */
export function readable(html: string): string {
  return html
    .replace(/<head>[\s\S]*?<\/head>/g, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

/** The CSRF token the page's forms carry. */
export function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error("no CSRF token on the page");
  return match[1]!;
}
