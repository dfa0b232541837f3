import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Redis as IORedis } from "ioredis";
import { startRedisServer } from "../fault/support/redis-server.js";
import { freePort } from "../support/ports.js";
import { join } from "node:path";
import { load, loadAll } from "js-yaml";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/server-process.js";

/**
 * The deployment files, read as the tools that use them would: the Dockerfile's instructions,
 * the compose file and the Kubernetes manifests as YAML, checked against each other and against
 * what the app does (its port, its probes, the Redis settings it needs).
 */

const read = (path: string) => readFileSync(join(REPO_ROOT, path), "utf8");

interface Instruction {
  keyword: string;
  args: string;
  stage: number;
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped; `stage` counts FROMs. */
function dockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (current === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push((current + line).trim());
    current = "";
  }
  let stage = -1;
  return logical.map((line) => {
    const [keyword = "", ...rest] = line.split(/\s+/);
    if (keyword.toUpperCase() === "FROM") stage += 1;
    return { keyword: keyword.toUpperCase(), args: rest.join(" "), stage };
  });
}

const instructions = dockerfile(read("Dockerfile"));
const stages = instructions.filter((i) => i.keyword === "FROM");
const lastStage = stages.length - 1;
const inRuntime = (keyword: string) => instructions.filter((i) => i.stage === lastStage && i.keyword === keyword);
const exposed = Number(inRuntime("EXPOSE")[0]?.args);

type Yaml = Record<string, any>;

describe("Dockerfile", () => {
  it("is multi-stage: production dependencies in one stage, the build with dev dependencies in another", () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    const runs = instructions.filter((i) => i.keyword === "RUN");
    expect(runs.some((i) => /npm ci --omit=dev\b/.test(i.args))).toBe(true);
    expect(runs.some((i) => /npm run build\b/.test(i.args) && i.stage !== lastStage)).toBe(true);
    // The native addon's toolchain is installed in a build stage only.
    expect(runs.filter((i) => /\bg\+\+/.test(i.args)).map((i) => i.stage)).not.toContain(lastStage);
    expect(runs.filter((i) => i.stage === lastStage).map((i) => i.args).join("\n")).not.toMatch(/npm (ci|install)|apt-get install/);
    // The runtime stage takes node_modules from the production-only stage, and dist from the build.
    const copies = inRuntime("COPY").map((i) => i.args);
    const productionStage = stages.findIndex((from) => instructions.some((i) => i.stage === stages.indexOf(from) && i.keyword === "RUN" && /--omit=dev/.test(i.args)));
    const stageName = (index: number) => /\bAS\s+(\S+)/i.exec(stages[index]!.args)?.[1];
    expect(copies).toContainEqual(expect.stringMatching(new RegExp(`--from=${stageName(productionStage)}\\b.*\\/app\\/node_modules`)));
    expect(copies).toContainEqual(expect.stringMatching(/--from=build\b.*\/app\/dist/));
  });

  it("runs node dist/main.js as a non-root user, on 0.0.0.0, with a health check on /healthz and a data volume", () => {
    const users = inRuntime("USER").map((i) => i.args);
    expect(users).toHaveLength(1);
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/);
    expect(inRuntime("CMD").map((i) => JSON.parse(i.args))).toEqual([["node", "dist/main.js"]]);
    expect(inRuntime("ENTRYPOINT")).toEqual([]);
    const env = inRuntime("ENV").map((i) => i.args).join(" ");
    expect(env).toMatch(/\bHOST=0\.0\.0\.0\b/);
    expect(env).toMatch(new RegExp(`\\bPORT=${exposed}\\b`));
    expect(env).toMatch(/\bHITL_DATA_DIR=\/data\b/);
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(exposed).toBe(3000);
    expect(inRuntime("VOLUME").map((i) => JSON.parse(i.args))).toEqual([["/data"]]);
    const healthcheck = inRuntime("HEALTHCHECK").map((i) => i.args);
    expect(healthcheck).toHaveLength(1);
    expect(healthcheck[0]).toContain("/healthz");
    // The USER comes after every RUN of the runtime stage, so nothing runs as root at run time.
    const runtime = instructions.filter((i) => i.stage === lastStage);
    const lastRun = Math.max(...runtime.map((i, index) => (i.keyword === "RUN" ? index : -1)));
    expect(runtime.findIndex((i) => i.keyword === "USER")).toBeGreaterThan(lastRun);
  });

  it(".dockerignore keeps secrets, local data and node_modules out of the build context", () => {
    const ignored = read(".dockerignore").split("\n").map((line) => line.trim());
    for (const entry of [".env", "node_modules", ".data", "*.pem", ".git", "dist"]) expect(ignored).toContain(entry);
    // Docker anchors a pattern at the context's root (`*.pem` is only `./x.pem`): keys and env
    // files in any folder (`src/`, which a stage copies, or `keys/`) need `**/`.
    for (const entry of ["**/.env", "**/.env.*", "**/*.pem", "**/*.key"]) expect(ignored).toContain(entry);
    // What the stages copy is not ignored.
    const copied = instructions.filter((i) => i.keyword === "COPY" && !i.args.includes("--from")).flatMap((i) => i.args.split(/\s+/).filter((arg) => !arg.startsWith("--")).slice(0, -1));
    expect(copied.sort()).toEqual(["LICENSE", "app.yml", "package-lock.json", "package.json", "package.json", "src", "tsconfig.build.json", "tsconfig.json"]);
    for (const path of copied) expect(ignored).not.toContain(path);
  });
});

describe("the production dependencies (what `npm ci --omit=dev` installs in the image)", () => {
  it("hold every package the built code imports at run time", () => {
    const files = (function walk(dir: string): string[] {
      return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []));
    })(join(REPO_ROOT, "src"));
    const imported = new Set<string>();
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      // Type-only imports vanish when compiled; everything else is loaded at run time.
      for (const match of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^;"']*?\sfrom\s+)?["']([^"']+)["']/gm)) imported.add(match[1]!);
      for (const match of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) imported.add(match[1]!);
    }
    const packages = [...imported].filter((spec) => !spec.startsWith(".") && !spec.startsWith("node:")).map((spec) => spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/"));
    const { dependencies } = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };
    expect(packages.length).toBeGreaterThan(5);
    expect([...new Set(packages)].filter((name) => !(name in dependencies))).toEqual([]);
  });
});

describe("docker-compose.yml", () => {
  const compose = load(read("docker-compose.yml")) as Yaml;
  const { hitl, redis } = compose.services;

  it("runs Redis as hitl needs it: append-only persistence, no eviction, a health check", () => {
    const command: string[] = redis.command;
    const flag = (name: string) => command[command.indexOf(`--${name}`) + 1];
    expect(flag("appendonly")).toBe("yes");
    expect(flag("maxmemory-policy")).toBe("noeviction");
    expect(redis.healthcheck.test).toEqual(["CMD", "redis-cli", "ping"]);
    expect(redis.volumes).toEqual(["redis-data:/data"]);
    expect(compose.volumes).toHaveProperty("redis-data");
    // Redis 7 or later (the store's scripts and the figures in docs/deploy.md were measured on 7).
    expect(Number(/^redis:(\d+)/.exec(redis.image)?.[1])).toBeGreaterThanOrEqual(7);
  });

  it("gives a real redis-server a configuration it accepts, with those settings in force", async () => {
    const command: string[] = redis.command;
    expect(command[0]).toBe("redis-server");
    const dir = await mkdtemp(join(tmpdir(), "hitl-compose-redis-"));
    const server = await startRedisServer(await freePort(), [...command.slice(1), "--dir", dir]);
    const client = new IORedis(server.url);
    try {
      const config = async (name: string) => (await client.config("GET", name))[1];
      expect(await config("appendonly")).toBe("yes");
      expect(await config("appendfsync")).toBe("everysec");
      expect(await config("maxmemory-policy")).toBe("noeviction");
      expect(await config("maxmemory")).toBe(String(512 * 1024 * 1024));
      expect(await config("save")).toBe("3600 1 300 100 60 10000");
    } finally {
      client.disconnect();
      await server.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("runs hitl on that Redis, on the Dockerfile's port, with env from .env and a readiness health check", () => {
    expect(hitl.build).toBe(".");
    expect(hitl.environment.REDIS_URL).toBe("redis://redis:6379/0");
    expect(hitl.environment.HOST).toBe("0.0.0.0");
    expect(Number(hitl.environment.PORT)).toBe(exposed);
    expect(hitl.ports).toEqual([`${exposed}:${exposed}`]);
    expect(hitl.env_file).toEqual([{ path: ".env", required: false }]);
    expect(hitl.depends_on).toEqual({ redis: { condition: "service_healthy" } });
    expect(hitl.healthcheck.test.join(" ")).toContain(`http://127.0.0.1:${exposed}/readyz`);
    expect(hitl.read_only).toBe(true);
    // As the Kubernetes manifests: no capabilities, no privilege escalation.
    expect(hitl.cap_drop).toEqual(["ALL"]);
    expect(hitl.security_opt).toEqual(["no-new-privileges:true"]);
    expect(hitl.stop_grace_period).toBe("15s");
  });
});

describe("Kubernetes manifests (deploy/kubernetes)", () => {
  const dir = join(REPO_ROOT, "deploy/kubernetes");
  const files = readdirSync(dir).filter((name) => name.endsWith(".yaml")).sort();
  const documents = files.flatMap((file) => (loadAll(readFileSync(join(dir, file), "utf8")) as Yaml[]).map((doc) => ({ file, doc })));
  const kind = (name: string) => documents.filter(({ doc }) => doc.kind === name).map(({ doc }) => doc);
  const [deployment] = kind("Deployment");
  const container = deployment!.spec.template.spec.containers[0];
  const podSecurity = deployment!.spec.template.spec.securityContext;

  it("parse, each with apiVersion, kind and name, and the kustomization lists every manifest but the Secret example", () => {
    expect(files).toEqual(["configmap.yaml", "deployment.yaml", "kustomization.yaml", "poddisruptionbudget.yaml", "secret.example.yaml", "service.yaml"]);
    for (const { file, doc } of documents) {
      expect(doc.apiVersion, file).toEqual(expect.any(String));
      expect(doc.kind, file).toEqual(expect.any(String));
      if (doc.kind !== "Kustomization") expect(doc.metadata?.name, file).toBe("hitl");
    }
    const [kustomization] = kind("Kustomization");
    expect(kustomization!.resources.sort()).toEqual(files.filter((file) => file !== "kustomization.yaml" && file !== "secret.example.yaml"));
    expect(kustomization!.images).toEqual([{ name: container.image.split(":")[0], newTag: expect.any(String) }]);
  });

  it("probe liveness on /healthz and readiness on /readyz, on the container's port, which is the Dockerfile's", () => {
    expect(container.ports).toEqual([{ name: "http", containerPort: exposed, protocol: "TCP" }]);
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(container.startupProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    const env = Object.fromEntries(container.env.map((entry: { name: string; value: string }) => [entry.name, entry.value]));
    expect(env).toMatchObject({ HOST: "0.0.0.0", PORT: String(exposed) });
    // The readiness probe waits longer than the app's checks (store ping 5 s, GitHub 5 s, in parallel).
    expect(container.readinessProbe.timeoutSeconds).toBeGreaterThan(5);
    // hitl stops within 10 s of SIGTERM.
    expect(deployment!.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(10);
  });

  it("run as non-root on a read-only root filesystem, with resources set", () => {
    expect(podSecurity).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: 1000, capabilities: { drop: ["ALL"] } });
    expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits.memory).toEqual(expect.any(String));
    // The only writable places: /tmp and the data directory.
    expect(container.volumeMounts.map((mount: { mountPath: string }) => mount.mountPath).sort()).toEqual(["/data", "/tmp"]);
  });

  it("run several replicas only with REDIS_URL from the Secret, whose example lists every key the app needs", () => {
    expect(deployment!.spec.replicas).toBeGreaterThan(1);
    expect(container.envFrom).toEqual([{ configMapRef: { name: "hitl" } }, { secretRef: { name: "hitl" } }]);
    const [secret] = kind("Secret");
    expect(Object.keys(secret!.stringData).sort()).toEqual(["APP_ID", "HITL_AGENT_TOKENS", "HITL_MARKER_SECRET", "PRIVATE_KEY", "REDIS_URL", "WEBHOOK_SECRET"]);
    expect(secret!.stringData.REDIS_URL).toMatch(/^rediss?:\/\//);
    const [config] = kind("ConfigMap");
    expect(Object.keys(config!.data)).not.toContain("REDIS_URL");
  });

  it("route the Service and the PodDisruptionBudget to the Deployment's pods", () => {
    const labels = deployment!.spec.template.metadata.labels;
    expect(deployment!.spec.selector.matchLabels).toEqual(labels);
    const [service] = kind("Service");
    expect(service!.spec.selector).toEqual(labels);
    expect(service!.spec.ports).toEqual([{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
    const [budget] = kind("PodDisruptionBudget");
    expect(budget!.spec.selector.matchLabels).toEqual(labels);
    expect(budget!.spec.minAvailable).toBeLessThan(deployment!.spec.replicas);
  });
});

describe("CI and releases", () => {
  const workflow = (name: string) => load(read(`.github/workflows/${name}`)) as Yaml;

  it("tests on Node 20, 22 and 24", () => {
    const test = workflow("test.yml");
    expect(test.jobs.test.strategy.matrix.node).toEqual([20, 22, 24]);
    expect(test.jobs.test.steps.map((step: Yaml) => step.run).filter(Boolean)).toContain(".ci/run");
  });

  it("releases a v* tag: tests first, then the image on ghcr.io and a GitHub release from the changelog", () => {
    const release = workflow("release.yml");
    expect(release.on).toEqual({ push: { tags: ["v*"] } });
    expect(release.jobs.test.strategy.matrix.node).toEqual([20, 22, 24]);
    expect(release.jobs.release.needs).toBe("test");
    expect(release.jobs.release.permissions).toEqual({ contents: "write", packages: "write" });
    const steps: Yaml[] = release.jobs.release.steps;
    const push = steps.find((step) => String(step.uses).startsWith("docker/build-push-action"))!;
    expect(push.with.push).toBe(true);
    expect(push.with.tags).toContain("${{ steps.image.outputs.name }}:${{ steps.version.outputs.version }}");
    expect(steps.find((step) => String(step.uses).startsWith("docker/login-action"))!.with.registry).toBe("ghcr.io");
    expect(steps.at(-1)!.run).toContain("gh release create \"$GITHUB_REF_NAME\"");
    expect(steps.at(-1)!.run).toContain("--notes-file release-notes.md");
  });

  it("takes a version's release notes from its CHANGELOG.md section (the workflow's own awk program)", () => {
    const script: string = (load(read(".github/workflows/release.yml")) as Yaml).jobs.release.steps.find((step: Yaml) => step.id === "version").run;
    const program = /awk -v v="\$version" '([\s\S]*?)' CHANGELOG\.md/.exec(script)![1]!;
    const changelog = "# Changelog\n\n## [Unreleased]\n\n- next\n\n## [1.2.0] - 2027-01-05\n\n### Added\n\n- a thing\n\n## [1.1.0] - 2026-12-01\n\n- older\n";
    const notes = (version: string) => execFileSync("awk", ["-v", `v=${version}`, program], { input: changelog, encoding: "utf8" });
    expect(notes("1.2.0")).toBe("\n### Added\n\n- a thing\n\n");
    expect(notes("1.1.0")).toBe("\n- older\n");
    expect(notes("1.3.0")).toBe("");
  });

  it("keeps a changelog in Keep a Changelog's format, with SemVer and an Unreleased section", () => {
    const changelog = read("CHANGELOG.md");
    expect(changelog).toMatch(/^# Changelog\n/);
    expect(changelog).toContain("[Keep a Changelog]");
    expect(changelog).toContain("[Semantic Versioning]");
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
    for (const heading of changelog.match(/^### .*$/gm) ?? []) expect(["### Added", "### Changed", "### Deprecated", "### Removed", "### Fixed", "### Security"]).toContain(heading);
    const license = read("LICENSE");
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} hitl contributors\n/);
    expect(JSON.parse(read("package.json")).license).toBe("MIT");
  });
});
