/** What the agent API answered: the status, the body as text, and parsed (null when it is not JSON). */
export interface ApiAnswer {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

/**
 * Calls the agent API at `base` as an agent would. A string body is sent as it is, anything else
 * as JSON. The answer must come within `timeoutMs` (30 s by default; null waits as long as it takes).
 */
export async function callApi(
  base: string,
  method: string,
  path: string,
  options: { token: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number | null },
): Promise<ApiAnswer> {
  const timeoutMs = options.timeoutMs === undefined ? 30_000 : options.timeoutMs;
  const response = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${options.token}`,
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
    signal: timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: response.status, json, text, headers: response.headers };
}

/** The audit trail of `repo` as the API shows it. */
export async function auditOf(base: string, token: string, repo: string): Promise<Array<{ request_id: string; event: string; [key: string]: unknown }>> {
  const response = await callApi(base, "GET", `/audit?repo=${encodeURIComponent(repo)}`, { token });
  if (response.status !== 200) throw new Error(`audit answered ${response.status}: ${response.text}`);
  return response.text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}
