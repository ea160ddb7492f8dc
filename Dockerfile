# syntax=docker/dockerfile:1
# The one jsm-sso image: `jsm-sso operator|broker|portal`. The operator's Deployments run this
# image with `broker ...` or `portal ...` as arguments.

# ---- build: compile TypeScript with the dev dependencies -------------------------------------
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
COPY crds ./crds
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled JavaScript, production dependencies, the CRD ------------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Loaded at run time by the tenant validator (common/config/crd-schema.ts).
COPY --from=build /app/crds ./crds
RUN ln -s /app/dist/cli/main.js /usr/local/bin/jsm-sso \
 && chmod 0755 /app/dist/cli/main.js
# A fixed numeric non-root user, matching runAsUser in the pods the operator creates.
USER 10001:10001
EXPOSE 8080 9090
ENTRYPOINT ["jsm-sso"]
CMD ["--help"]
