import { z } from "zod";

export const jwksSchema = z
  .object({
    keys: z.array(
      z.object({
        kty: z.literal("OKP"),
        crv: z.literal("Ed25519"),
        x: z.string().describe("The public key, base64url"),
        kid: z.string().describe("The key's RFC 7638 thumbprint; a receipt's header names it"),
        alg: z.literal("EdDSA"),
        use: z.literal("sig"),
      }),
    ).describe("The key that signs now first, then retired keys"),
  })
  .meta({ id: "JsonWebKeySet" });
