import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
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
  store: Pick<Store, "getCached" | "putCached" | "dropCached">;
  /**
   * What the encryption key is derived from: the app's private key. Whoever holds it can mint
   * tokens anyway, so the copy in the store is no use to anyone with the store alone.
   */
  secret: string;
  clock: () => Date;
}

/** A token is used until this long before GitHub's expiry, then replaced. */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** Installation tokens live an hour; if the expiry cannot be read, assume it. */
const TOKEN_LIFETIME_MS = 60 * 60_000;
const VERSION = "v1";

export const tokenCacheKey = (authKey: string): string => `installation-token:${authKey}`;

/**
 * Installation tokens shared by every replica on one store: one replica asks GitHub for a
 * token, the others use it. They are stored sealed (AES-256-GCM, a key derived from the app's
 * private key, the store key as associated data, so a sealed token cannot be moved to another
 * installation), kept in memory too, replaced five minutes before they expire, and dropped
 * when GitHub answers 401. A store that fails makes the cache a miss, never a failed call.
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

  return {
    async get(authKey) {
      const storeKey = tokenCacheKey(authKey);
      const held = local.get(storeKey);
      if (held && held.refreshAt > now()) return held.value;
      local.delete(storeKey);
      const sealed = await options.store.getCached(storeKey).catch(() => null);
      const plain = sealed === null ? null : open(storeKey, sealed);
      if (plain === null) return undefined;
      const entry = JSON.parse(plain) as { value: string; refreshAt: number };
      if (entry.refreshAt <= now()) return undefined;
      local.set(storeKey, entry);
      return entry.value;
    },

    async set(authKey, value) {
      const storeKey = tokenCacheKey(authKey);
      const refreshAt = refreshTime(value, now());
      const ttlMs = refreshAt - now();
      if (ttlMs <= 0) return;
      const entry = { value, refreshAt };
      local.set(storeKey, entry);
      await options.store.putCached(storeKey, seal(storeKey, JSON.stringify(entry)), ttlMs).catch(() => undefined);
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
