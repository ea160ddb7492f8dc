# syntax=docker/dockerfile:1
# The one jsm-sso image: `jsm-sso operator|broker|portal`. The operator's Deployments run this
# image with `broker ...` or `portal ...` as arguments. `npm run image` (.ci/image.sh) builds the same
# contents without a Docker engine, on a smaller Debian rootfs; keep the two in step.

# ---- build: compile the runtime with the dev dependencies -----------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
# Dependencies first, so a source change does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
# Only the runtime sources: the dev stack, tests and benchmarks are not built (tsconfig.build.json).
COPY tsconfig.json tsconfig.build.json ./
COPY cli ./cli
COPY common ./common
COPY broker ./broker
COPY portal ./portal
COPY operator ./operator
ARG REVISION=unknown
# What `jsm-sso --version` and jsm_sso_build_info report (as scripts/build-info.ts writes it).
RUN npx tsc -p tsconfig.build.json --incremental false --sourceMap false \
 && printf '{"revision":"%s"}\n' "${REVISION}" > dist/common/build-info.json \
 && rm -rf node_modules \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: compiled JavaScript, production dependencies, the CRD ------------------------
FROM node:22-bookworm-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="jsm-sso" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/jsm-sso/jsm-sso" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
# LICENSE through a pattern, so that the build also works on a tree without one.
COPY package.json LICENS[E] ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Loaded at run time by the tenant validator (common/config/crd-schema.ts).
COPY crds ./crds
# A fixed numeric non-root user, matching runAsUser in the pods the operator creates.
USER 10001:10001
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/cli/main.js"]
CMD ["--help"]
