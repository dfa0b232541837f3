# syntax=docker/dockerfile:1
# hitl: build with the dev dependencies, run with the production ones only, as a non-root user.
#   docker build -t hitl .
#   docker run -p 3000:3000 --env-file .env -v hitl-data:/data hitl
# See docs/deploy.md.

ARG NODE_VERSION=22

# Production dependencies. better-sqlite3 is a native addon: when no prebuilt binary fits, it
# compiles here, so the toolchain lives in this stage only.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# The build: every dependency (TypeScript among them) to compile src/ to dist/.
FROM deps AS build
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# What runs: Node, the production node_modules, dist/ and app.yml. No compiler, no npm scripts.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    HITL_DATA_DIR=/data
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json app.yml LICENSE ./
# The embedded store's directory (unused with REDIS_URL or Upstash): the only place hitl writes.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
# `node` (uid 1000) comes with the official image; the code stays root-owned and read-only to it.
USER node
EXPOSE 3000
# Liveness only: /healthz answers while the process does (readiness, /readyz, also asks the store and GitHub).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Not `npm start`, which compiles first: the image runs the built output. hitl stops cleanly on SIGTERM.
CMD ["node", "dist/main.js"]
