import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from "node:crypto";
import type { Store } from "../store/store.js";

/** An Ed25519 public key as `/.well-known/jwks.json` publishes it. */
export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: PublicJwk;
}

/** The keys of one deployment: one signs, all are published (the signing key first). */
export interface KeyRing {
  issuer: string;
  current: SigningKey;
  published: PublicJwk[];
}

/** What the environment configures: the signing key, and retired keys that stay published. */
export interface ConfiguredKeys {
  signing: KeyObject | null;
  retired: KeyObject[];
}

/** The store setting that holds the key hitl generated for itself, as a private JWK. */
export const GENERATED_KEY_SETTING = "receipts.signing-key";

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g;

/**
 * The key's id: its RFC 7638 thumbprint (SHA-256 of `{"crv","kty","x"}`, base64url), so the same
 * key has the same id wherever and however it is configured.
 */
export function keyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: "jwk" });
  return createHash("sha256").update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).digest("base64url");
}

export function publicJwk(key: KeyObject): PublicJwk {
  const publicKey = key.type === "private" ? createPublicKey(key) : key;
  const jwk = publicKey.export({ format: "jwk" });
  return { kty: "OKP", crv: "Ed25519", x: jwk.x!, kid: keyId(publicKey), alg: "EdDSA", use: "sig" };
}

function signingKey(privateKey: KeyObject): SigningKey {
  const jwk = publicJwk(privateKey);
  return { kid: jwk.kid, privateKey, publicJwk: jwk };
}

const isEd25519 = (key: KeyObject) => key.asymmetricKeyType === "ed25519";

/** One key from a JWK (private with `d`, or public), or null when it is not an Ed25519 key. */
function keyFromJwk(value: unknown, needPrivate: boolean): KeyObject | null {
  if (typeof value !== "object" || value === null) return null;
  const jwk = value as JsonWebKey;
  if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.x !== "string") return null;
  try {
    if (typeof jwk.d === "string") return createPrivateKey({ key: jwk, format: "jwk" });
    return needPrivate ? null : createPublicKey({ key: jwk, format: "jwk" });
  } catch {
    return null;
  }
}

/** One key from a PEM block: PKCS#8 `PRIVATE KEY`, or (when a public key will do) SPKI `PUBLIC KEY`. */
function keyFromPem(block: string, needPrivate: boolean): KeyObject | null {
  try {
    if (block.startsWith("-----BEGIN PRIVATE KEY-----")) return createPrivateKey({ key: block, format: "pem" });
    if (!needPrivate && block.startsWith("-----BEGIN PUBLIC KEY-----")) return createPublicKey({ key: block, format: "pem" });
  } catch {
    return null;
  }
  return null;
}

/**
 * The keys in a variable's value: PEM blocks, or JSON (one JWK, an array of them, or a JWK Set
 * `{"keys": […]}`). Escaped newlines (`\n`, as some secret stores keep PEM) are read as newlines.
 * Null when any part is not an Ed25519 key of the kind asked for.
 */
function readKeys(text: string, needPrivate: boolean): KeyObject[] | null {
  const value = text.trim().replace(/\\n/g, "\n");
  if (value.startsWith("-----BEGIN")) {
    const blocks = value.match(PEM_BLOCK) ?? [];
    if (blocks.length === 0 || value.replace(PEM_BLOCK, "").trim() !== "") return null;
    const keys = blocks.map((block) => keyFromPem(block, needPrivate));
    return keys.every((key): key is KeyObject => key !== null && isEd25519(key)) ? keys : null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  const list = Array.isArray(parsed) ? parsed : typeof parsed === "object" && parsed !== null && Array.isArray((parsed as { keys?: unknown }).keys) ? (parsed as { keys: unknown[] }).keys : [parsed];
  const keys = list.map((item) => keyFromJwk(item, needPrivate));
  return keys.length > 0 && keys.every((key): key is KeyObject => key !== null && isEd25519(key)) ? keys : null;
}

/**
 * `HITL_SIGNING_KEY` (the key that signs receipts: one Ed25519 private key, PKCS#8 PEM or a JWK)
 * and `HITL_RETIRED_SIGNING_KEYS` (keys that signed before and stay published: PEM blocks, public
 * or private, or JSON: a JWK, an array, or a JWK Set). Problems name the variable, never the value.
 */
export function readSigningKeys(env: Record<string, string | undefined>): { keys: ConfiguredKeys } | { errors: string[] } {
  const errors: string[] = [];
  let signing: KeyObject | null = null;
  if (env.HITL_SIGNING_KEY) {
    const keys = readKeys(env.HITL_SIGNING_KEY, true);
    if (keys?.length === 1) signing = keys[0]!;
    else errors.push("HITL_SIGNING_KEY: must be one Ed25519 private key, as PKCS#8 PEM (-----BEGIN PRIVATE KEY-----) or a JWK with kty OKP, crv Ed25519, x and d (e.g. `openssl genpkey -algorithm ed25519`)");
  }
  let retired: KeyObject[] = [];
  if (env.HITL_RETIRED_SIGNING_KEYS) {
    const keys = readKeys(env.HITL_RETIRED_SIGNING_KEYS, false);
    if (keys) retired = keys;
    else errors.push("HITL_RETIRED_SIGNING_KEYS: must be Ed25519 keys, as PEM blocks (PUBLIC KEY or PRIVATE KEY) or JSON (a JWK, an array of JWKs, or a JWK Set {\"keys\": [...]})");
  }
  return errors.length > 0 ? { errors } : { keys: { signing, retired } };
}

/** A new Ed25519 key, as the private JWK the store keeps. */
export function newSigningJwk(): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  return JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d });
}

function storedKey(value: string): KeyObject {
  const key = (() => {
    try {
      return keyFromJwk(JSON.parse(value), true);
    } catch {
      return null;
    }
  })();
  if (!key) throw new Error(`The store's setting ${GENERATED_KEY_SETTING} is not an Ed25519 private JWK; it was changed by hand. Set HITL_SIGNING_KEY, or restore it.`);
  return key;
}

/**
 * The deployment's keys. With `HITL_SIGNING_KEY`, that key signs; otherwise the key kept in the
 * store signs, generated by whichever replica came first (the store's create-if-absent makes
 * every replica agree on it). Published: the signing key, the retired ones, and a key the store
 * kept from before `HITL_SIGNING_KEY` was set, so receipts it signed stay verifiable.
 */
export async function loadKeyRing(options: { configured: ConfiguredKeys; store: Store; issuer: string }): Promise<KeyRing> {
  const { configured, store, issuer } = options;
  let current: SigningKey;
  const others: KeyObject[] = [...configured.retired];
  if (configured.signing) {
    current = signingKey(configured.signing);
    const kept = await store.setting(GENERATED_KEY_SETTING);
    if (kept !== null) others.push(storedKey(kept));
  } else {
    current = signingKey(storedKey(await store.createSetting(GENERATED_KEY_SETTING, newSigningJwk())));
  }
  const published = [current.publicJwk];
  for (const key of others) {
    const jwk = publicJwk(key);
    if (!published.some((known) => known.kid === jwk.kid)) published.push(jwk);
  }
  return { issuer, current, published };
}
