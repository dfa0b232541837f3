import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** `HITL_ENCRYPTION_KEYS`, parsed: the first key seals, every key opens. */
export interface SealingKeys {
  current: { id: string; key: Buffer };
  all: ReadonlyMap<string, Buffer>;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,40}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = "v1";

/** A sealed value that cannot be opened: its key id is not configured, or it was altered. */
export class SealError extends Error {}

/**
 * `id:base64key` pairs, comma-separated, each key 32 bytes; the first seals new values. Errors
 * name the pair by position and id, never the key.
 */
export function parseSealingKeys(text: string): { keys: SealingKeys } | { errors: string[] } {
  const errors: string[] = [];
  const all = new Map<string, Buffer>();
  const pairs = text.split(",").map((pair) => pair.trim()).filter((pair) => pair !== "");
  if (pairs.length === 0) return { errors: ["HITL_ENCRYPTION_KEYS: expected id:base64key pairs, comma-separated"] };
  pairs.forEach((pair, index) => {
    const colon = pair.indexOf(":");
    const id = colon < 0 ? "" : pair.slice(0, colon);
    const where = `HITL_ENCRYPTION_KEYS: pair ${index + 1}`;
    if (!KEY_ID.test(id)) return void errors.push(`${where}: expected id:base64key, the id 1-40 letters, digits, '-' or '_'`);
    const encoded = pair.slice(colon + 1);
    const key = Buffer.from(encoded, "base64");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.length !== KEY_BYTES) return void errors.push(`${where} (${id}): the key must be ${KEY_BYTES} bytes, base64 (e.g. openssl rand -base64 32)`);
    if (all.has(id)) return void errors.push(`${where} (${id}): the id is used twice`);
    all.set(id, key);
  });
  if (errors.length > 0) return { errors };
  const [id, key] = [...all.entries()][0]!;
  return { keys: { current: { id, key }, all } };
}

/**
 * AES-256-GCM with the current key: `v1.<key id>.<iv>.<ciphertext+tag>` (base64url). `context`
 * (the request id) is authenticated too, so a sealed value cannot be moved to another request.
 */
export function seal(keys: SealingKeys, plaintext: string, context: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", keys.current.key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return [PREFIX, keys.current.id, iv.toString("base64url"), body.toString("base64url")].join(".");
}

/** The plaintext of a sealed value; a `SealError` for an unknown key id or anything altered. */
export function open(keys: SealingKeys, sealed: string, context: string): string {
  const parts = sealed.split(".");
  if (parts.length !== 4 || parts[0] !== PREFIX) throw new SealError("sensitive data: not a sealed value");
  const [, id, ivText, bodyText] = parts as [string, string, string, string];
  const key = keys.all.get(id);
  if (!key) throw new SealError(`sensitive data: sealed with key id ${JSON.stringify(id)}, which HITL_ENCRYPTION_KEYS does not hold`);
  const iv = Buffer.from(ivText, "base64url");
  const body = Buffer.from(bodyText, "base64url");
  if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new SealError("sensitive data: the sealed value is malformed");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, iv);
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString("utf8");
  } catch {
    throw new SealError("sensitive data: the sealed value does not authenticate (altered, or another request's)");
  }
}
