import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import type { Store } from "../store/store.js";

/** The cache `@octokit/auth-app` keeps installation tokens in (its `cache` option). */
export interface AuthAppCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export interface SharedTokenCache extends AuthAppCache {
  /** GitHub refused the installation's token (401): no replica uses it again. */
  drop(installationId: number | string): Promise<void>;
}

export interface TokenCacheOptions {
  store: Pick<Store, "getCached" | "putCached" | "dropCached" | "acquireLock" | "releaseLock">;
  /**
   * What the encryption key is derived from: the app's private key. Whoever holds it can mint
   * tokens anyway, so the copy in the store is no use to anyone with the store alone.
   */
  secret: string;
  clock: () => Date;
  /** How long a replica waits for the token another replica is fetching before it fetches one itself. Default 2 s. */
  waitForOtherMs?: number;
}

/** A token is used until this long before GitHub's expiry, then replaced. */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** Installation tokens live an hour; if the expiry cannot be read, assume it. */
const TOKEN_LIFETIME_MS = 60 * 60_000;
const VERSION = "v1";
/** How long one replica may take to fetch a token before the others stop waiting for it. */
const FETCH_LEASE_MS = 10_000;
const POLL_MS = 100;

export const tokenCacheKey = (authKey: string): string => `installation-token:${authKey}`;

/**
 * Installation tokens shared by every replica on one store: one replica asks GitHub for a
 * token, the others use it. They are stored sealed (AES-256-GCM, a key derived from the app's
 * private key, the store key as associated data, so a sealed token cannot be moved to another
 * installation), kept in memory too, replaced five minutes before they expire, and dropped
 * when GitHub answers 401. On a miss one replica asks GitHub (it takes a lease in the store)
 * and the others wait for its token a moment. A store that fails makes the cache a miss, never
 * a failed call.
 */
export function createTokenCache(options: TokenCacheOptions): SharedTokenCache {
  const key = Buffer.from(hkdfSync("sha256", options.secret, "hitl installation-token cache", VERSION, 32));
  const local = new Map<string, { value: string; refreshAt: number }>();
  const now = () => options.clock().getTime();

  function seal(storeKey: string, plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(Buffer.from(storeKey));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return [VERSION, iv.toString("base64url"), body.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
  }

  /** The plain text, or null for anything not sealed by this key for this store key. */
  function open(storeKey: string, sealed: string): string | null {
    const [version, iv, body, tag] = sealed.split(".");
    if (version !== VERSION || !iv || body === undefined || !tag) return null;
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url")).setAAD(Buffer.from(storeKey));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      return null;
    }
  }

  const owner = randomBytes(9).toString("base64url");
  const waitForOtherMs = options.waitForOtherMs ?? 2_000;

  /** The token in the store, unsealed, or undefined; kept in memory once read. */
  async function read(storeKey: string): Promise<string | undefined> {
    const sealed = await options.store.getCached(storeKey).catch(() => null);
    const plain = sealed === null ? null : open(storeKey, sealed);
    if (plain === null) return undefined;
    const entry = JSON.parse(plain) as { value: string; refreshAt: number };
    if (entry.refreshAt <= now()) return undefined;
    local.set(storeKey, entry);
    return entry.value;
  }

  return {
    async get(authKey) {
      const storeKey = tokenCacheKey(authKey);
      const held = local.get(storeKey);
      if (held && held.refreshAt > now()) return held.value;
      local.delete(storeKey);
      const found = await read(storeKey);
      if (found !== undefined) return found;
      // A miss: this replica fetches the token, unless another already is; then wait for its.
      const lock = `token-fetch:${authKey}`;
      if (await options.store.acquireLock(lock, owner, FETCH_LEASE_MS).catch(() => true)) {
        // Another replica may have stored its token and let go between the read and the lease.
        const stored = await read(storeKey);
        if (stored !== undefined) await options.store.releaseLock(lock, owner).catch(() => undefined);
        return stored;
      }
      for (let waited = 0; waited < waitForOtherMs; waited += POLL_MS) {
        await delay(POLL_MS);
        const fetched = await read(storeKey);
        if (fetched !== undefined) return fetched;
      }
      return undefined;
    },

    async set(authKey, value) {
      const storeKey = tokenCacheKey(authKey);
      const refreshAt = refreshTime(value, now());
      const ttlMs = refreshAt - now();
      if (ttlMs > 0) {
        const entry = { value, refreshAt };
        local.set(storeKey, entry);
        await options.store.putCached(storeKey, seal(storeKey, JSON.stringify(entry)), ttlMs).catch(() => undefined);
      }
      await options.store.releaseLock(`token-fetch:${authKey}`, owner).catch(() => undefined);
    },

    async drop(installationId) {
      const storeKey = tokenCacheKey(String(installationId));
      local.delete(storeKey);
      await options.store.dropCached(storeKey).catch(() => undefined);
    },
  };
}

/**
 * When to replace a token: `@octokit/auth-app` caches `token|createdAt|expiresAt|…`; five
 * minutes before `expiresAt`, or before an hour from now when that does not parse.
 */
function refreshTime(value: string, nowMs: number): number {
  const expiresAt = Date.parse(value.split("|")[2] ?? "");
  return (Number.isNaN(expiresAt) ? nowMs + TOKEN_LIFETIME_MS : expiresAt) - REFRESH_BEFORE_EXPIRY_MS;
}
