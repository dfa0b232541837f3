import { randomBytes } from "node:crypto";
import { findRepo, installationFor } from "./state.js";
import { notFound, paginate, route, type Route } from "./router.js";

const ONE_HOUR_MS = 60 * 60 * 1000;

export const appRoutes: Route[] = [
  route("GET", "/app", (_req, ctx) => ({ status: 200, body: ctx.shapes.app() }), "jwt"),

  route("GET", "/app/installations", (req, ctx) => paginate(req, ctx, ctx.state.installations.map(ctx.shapes.installation)), "jwt"),

  route(
    "GET",
    "/app/installations/:id",
    (req, ctx) => {
      const installation = ctx.state.installations.find((i) => String(i.id) === req.params.id) ?? notFound();
      return { status: 200, body: ctx.shapes.installation(installation) };
    },
    "jwt",
  ),

  route(
    "POST",
    "/app/installations/:id/access_tokens",
    (req, ctx) => {
      const installation = ctx.state.installations.find((i) => String(i.id) === req.params.id) ?? notFound();
      const token = `ghs_${randomBytes(18).toString("hex")}`;
      ctx.state.tokens[token] = installation.id;
      const shape = ctx.shapes.installation(installation);
      return {
        status: 201,
        body: {
          token,
          expires_at: new Date(Date.parse(ctx.now()) + ONE_HOUR_MS).toISOString().replace(/\.\d{3}Z$/, "Z"),
          permissions: shape.permissions,
          repository_selection: shape.repository_selection,
        },
      };
    },
    "jwt",
  ),

  route(
    "GET",
    "/repos/:owner/:repo/installation",
    (req, ctx) => {
      const repo = findRepo(ctx.state, req.params.owner ?? "", req.params.repo ?? "") ?? notFound();
      const installation = installationFor(ctx.state, repo) ?? notFound();
      return { status: 200, body: ctx.shapes.installation(installation) };
    },
    "jwt",
  ),

  ...["/orgs/:account/installation", "/users/:account/installation"].map((pattern) =>
    route(
      "GET",
      pattern,
      (req, ctx) => {
        const account = (req.params.account ?? "").toLowerCase();
        const installation = ctx.state.installations.find((i) => i.account.toLowerCase() === account) ?? notFound();
        return { status: 200, body: ctx.shapes.installation(installation) };
      },
      "jwt",
    ),
  ),
];
