# The action's image, published by .github/workflows/release.yml for linux/amd64 and linux/arm64
# (each built natively): a static deploy-action binary, the Docker CLI and the buildx plugin,
# CA certificates, and nothing else.

FROM rust:1-alpine AS build
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev build-base cmake perl
WORKDIR /src
# Dependencies in a layer of their own: a source edit does not rebuild the AWS SDK.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked --bin deploy-action \
    && rm -rf src
COPY src src
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin deploy-action

FROM alpine:3.20 AS base
# hadolint ignore=DL3018
RUN apk add --no-cache ca-certificates && mkdir -p /rootfs/tmp && chmod 1777 /rootfs/tmp

FROM docker:28-cli AS docker-cli
# v0.21+: reads the GitHub cache service v2 (the only one on github.com since April 2025) from
# ACTIONS_RESULTS_URL; older buildx drops a gha cache without a word.
FROM docker/buildx-bin:0.21 AS buildx

FROM scratch
COPY --from=base /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=base /rootfs/tmp /tmp
COPY --from=docker-cli /usr/local/bin/docker /usr/local/bin/docker
COPY --from=buildx /buildx /usr/libexec/docker/cli-plugins/docker-buildx
COPY --from=build /src/target/release/deploy-action /usr/local/bin/deploy-action
ENV PATH=/usr/local/bin DOCKER_CLI_HINTS=false
LABEL org.opencontainers.image.title="deploy-action" \
      org.opencontainers.image.description="OIDC → ECR → arm64 build and push → ECS rollout, in one step" \
      org.opencontainers.image.source="https://github.com/operationcode/deploy-action" \
      org.opencontainers.image.licenses="MIT"
# Container actions run as root (GitHub's requirement), which the mounted docker socket needs too.
# Exec form: a shell in front would drop every INPUT_ variable whose name has a hyphen.
ENTRYPOINT ["/usr/local/bin/deploy-action"]
