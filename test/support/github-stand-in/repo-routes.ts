import { createHash } from "node:crypto";
import { repoFrom } from "./lookup.js";
import { GitHubError, notFound, paginate, route, type Reply, type Route, type RouteContext, type StandInRequest } from "./router.js";
import type { Permission } from "./seed.js";
import { atLeast, isCollaborator, isOrgMember, permissionOf, teamMembers, type RepoRecord } from "./state.js";

/** The `permission` field still speaks the old vocabulary; `role_name` has the real role. */
const LEGACY_PERMISSION: Record<Permission, string> = {
  admin: "admin",
  maintain: "write",
  write: "write",
  triage: "read",
  read: "read",
  none: "none",
};

export const repoRoutes: Route[] = [
  route("GET", "/repos/:owner/:repo", (req, ctx) => ({ status: 200, body: ctx.shapes.repo(repoFrom(req, ctx)) })),
  route("GET", "/repos/:owner/:repo/contents", (req, ctx) => contents(req, ctx, "")),
  route("GET", "/repos/:owner/:repo/contents/:path+", (req, ctx) => contents(req, ctx, req.params.path ?? "")),

  route("GET", "/repos/:owner/:repo/collaborators/:username/permission", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    const login = req.params.username ?? "";
    const permission = permissionOf(repo, login);
    const user = {
      ...ctx.shapes.user(login),
      permissions: {
        admin: atLeast(permission, "admin"),
        maintain: atLeast(permission, "maintain"),
        push: atLeast(permission, "write"),
        triage: atLeast(permission, "triage"),
        pull: atLeast(permission, "read"),
      },
      role_name: permission,
    };
    return { status: 200, body: { permission: LEGACY_PERMISSION[permission], role_name: permission, user } };
  }),

  route("GET", "/repos/:owner/:repo/collaborators/:username", (req, ctx) => {
    const repo = repoFrom(req, ctx);
    return isCollaborator(repo, req.params.username ?? "") ? { status: 204 } : notFound();
  }),

  route("GET", "/orgs/:org/teams/:slug/memberships/:username", (req, ctx) => {
    const members = teamMembers(ctx.state, req.params.org ?? "", req.params.slug ?? "") ?? notFound();
    const login = (req.params.username ?? "").toLowerCase();
    if (!members.some((m) => m.toLowerCase() === login)) return notFound();
    return {
      status: 200,
      body: {
        url: `${ctx.apiUrl}/orgs/${req.params.org}/teams/${req.params.slug}/memberships/${req.params.username}`,
        role: "member",
        state: "active",
      },
    };
  }),

  route("GET", "/orgs/:org/memberships/:username", (req, ctx) => {
    const { org = "", username = "" } = req.params;
    if (!isOrgMember(ctx.state, org, username)) return notFound();
    return {
      status: 200,
      body: { url: `${ctx.apiUrl}/orgs/${org}/memberships/${username}`, state: "active", role: "member", organization_url: `${ctx.apiUrl}/orgs/${org}`, user: ctx.shapes.user(username) },
    };
  }),

  route("GET", "/orgs/:org/teams/:slug/members", (req, ctx) => {
    const members = teamMembers(ctx.state, req.params.org ?? "", req.params.slug ?? "") ?? notFound();
    return paginate(req, ctx, members.map(ctx.shapes.user));
  }),

  route("GET", "/orgs/:org/teams/:slug", (req, ctx) => {
    teamMembers(ctx.state, req.params.org ?? "", req.params.slug ?? "") ?? notFound();
    return { status: 200, body: ctx.shapes.team(req.params.org ?? "", req.params.slug ?? "") };
  }),

  route("GET", "/users/:username", (req, ctx) => ({ status: 200, body: ctx.shapes.user(req.params.username ?? "") })),
];

function normaliseRef(ref: string): string {
  return ref.replace(/^refs\/(heads|tags)\//, "").replace(/^heads\//, "");
}

function blobSha(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  return createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
}

function wantsRaw(req: StandInRequest): boolean {
  return /application\/vnd\.github(\.v3)?\.raw/.test(String(req.headers.accept ?? ""));
}

function contents(req: StandInRequest, ctx: RouteContext, path: string): Reply {
  const repo = repoFrom(req, ctx);
  const ref = normaliseRef(req.query.ref ?? repo.defaultBranch);
  const files = repo.files[ref];
  if (!files) {
    // A default branch with no seeded files is an empty tree, not a missing ref.
    if (ref === repo.defaultBranch) return notFound();
    throw new GitHubError(404, `No commit found for the ref ${ref}`);
  }
  const text = files[path];
  if (text !== undefined) {
    if (wantsRaw(req)) return { status: 200, text };
    return { status: 200, body: fileEntry(ctx, repo, ref, path, text, true) };
  }
  const prefix = path === "" ? "" : `${path}/`;
  const entries = new Map<string, Record<string, unknown>>();
  for (const [filePath, fileText] of Object.entries(files)) {
    if (!filePath.startsWith(prefix)) continue;
    const [name, ...rest] = filePath.slice(prefix.length).split("/");
    if (name === undefined || entries.has(name)) continue;
    entries.set(
      name,
      rest.length === 0
        ? fileEntry(ctx, repo, ref, filePath, fileText, false)
        : { type: "dir", name, path: `${prefix}${name}`, sha: blobSha(`${prefix}${name}`), size: 0 },
    );
  }
  if (entries.size === 0) return notFound();
  return { status: 200, body: [...entries.values()] };
}

function fileEntry(ctx: RouteContext, repo: RepoRecord, ref: string, path: string, text: string, withContent: boolean): Record<string, unknown> {
  const sha = blobSha(text);
  const url = `${ctx.apiUrl}/repos/${repo.fullName}/contents/${path}?ref=${encodeURIComponent(ref)}`;
  const htmlUrl = `https://github.com/${repo.fullName}/blob/${ref}/${path}`;
  const gitUrl = `${ctx.apiUrl}/repos/${repo.fullName}/git/blobs/${sha}`;
  return {
    type: "file",
    ...(withContent ? { encoding: "base64", content: base64Lines(text) } : {}),
    size: Buffer.byteLength(text, "utf8"),
    name: path.split("/").at(-1),
    path,
    sha,
    url,
    git_url: gitUrl,
    html_url: htmlUrl,
    download_url: `https://raw.githubusercontent.com/${repo.fullName}/${ref}/${path}`,
    _links: { self: url, git: gitUrl, html: htmlUrl },
  };
}

/** GitHub wraps base64 content at 60 characters. */
function base64Lines(text: string): string {
  return (Buffer.from(text, "utf8").toString("base64").match(/.{1,60}/g) ?? []).join("\n") + "\n";
}
