# syntax=docker/dockerfile:1
# The one jsm-sso image: `jsm-sso operator|broker|portal`. The operator's Deployments run this
# image with `broker ...` or `portal ...` as arguments. It is the image CI builds and tests without
# a Docker engine (`npm run image`, .ci/image.sh): the same Debian packages, the same Node.js binary
# path, the same /app (.ci/image-app.sh), the same user, entrypoint and environment. No shell, no
# package manager, no program but node. test/image/dockerfile.test.ts holds the two together.

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- rootfs: the Debian packages Node.js needs, and nothing else -----------------------------
FROM ${NODE_IMAGE} AS rootfs
# What the Node binary links against, and /etc/services for getaddrinfo (.ci/image.sh DEB_PACKAGES).
ARG DEB_PACKAGES=libc6,libgcc-s1,libstdc++6,netbase
COPY .ci/image-rootfs.sh /usr/local/share/jsm-sso/
RUN bash /usr/local/share/jsm-sso/image-rootfs.sh /rootfs "${DEB_PACKAGES}"

# ---- build: compile the runtime with the dev dependencies, then keep the production ones ------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
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
COPY scripts ./scripts
COPY .ci/image-app.sh .ci/image-build-args.sh ./.ci/
# LICENSE through a pattern, so that the build also works on a tree without one.
COPY LICENS[E] ./
# What the labels say (README, "The image"): VERSION is package.json's; CREATED defaults to the Unix
# epoch, the reproducible-build convention for an image whose build gives no time (as ko and rules_oci
# do), so a plain `docker build .` still builds; .ci/image-build-args.sh refuses a malformed one (ADR 0364).
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
COPY --from=rootfs /rootfs/var/lib/dpkg/status /tmp/dpkg-status
# The runtime build stamped with REVISION (what `jsm-sso --version` reports), /app as CI lays it
# out, the production node_modules, and the SBOM of everything the image holds.
RUN bash .ci/image-build-args.sh "${VERSION}" "${CREATED}" \
 && JSM_SSO_REVISION="${REVISION}" npm run build \
 && bash .ci/image-app.sh /out/app \
 && npm sbom --omit=dev --package-lock-only --sbom-format=spdx --sbom-type=application >/tmp/npm.spdx.json \
 && node --import tsx scripts/image-sbom.ts --npm /tmp/npm.spdx.json --dpkg-status /tmp/dpkg-status \
      --deb-arch "$(dpkg --print-architecture)" --node "$(node --version)" --name jsm-sso-image \
      --version "${VERSION}" --created "${CREATED}" >/out/app/sbom.spdx.json \
 && rm -rf node_modules \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && mv node_modules /out/app/node_modules \
 && install -D -m 0755 "$(command -v node)" /out/usr/local/bin/node

# ---- runtime: nothing to exec into ------------------------------------------------------------
FROM scratch
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
LABEL org.opencontainers.image.title="jsm-sso" \
      org.opencontainers.image.description="Single sign-on for Jira Service Management Cloud help centers: SAML broker, customer portal and Kubernetes operator" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/jsm-sso/jsm-sso" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=rootfs /rootfs/ /
COPY --from=build /out/ /
ENV NODE_ENV=production
ENV PATH=/usr/local/bin:/usr/bin:/bin
WORKDIR /app
# A fixed numeric non-root user, matching runAsUser in the pods the chart and the operator create.
USER 10001:10001
EXPOSE 8080/tcp 9090/tcp
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/cli/main.js"]
CMD ["--help"]
