# The action's image, published by .github/workflows/release.yml for linux/amd64 and linux/arm64
# (each built natively): a static deploy-action binary, the Docker CLI and the buildx plugin,
# CA certificates, and nothing else.
#
# Every base image is an official image pinned by the digest of its multi-platform index, as
# docker-library/repo-info records it (repos/<image>/remote/<tag>.md; a digest cannot pull other
# content than it names, so a wrong one can only fail the build). Dependabot moves the pins.

# rust:1-alpine3.24: Rust 1.98.0 on Alpine 3.24.1 (repo-info 0db03f6, repos/rust/remote/1-alpine3.24.md).
FROM rust:1-alpine3.24@sha256:a10e64dd139b7387337c7fbe8aca31b959b57b2fd4c8ae20a02cf1d6ea424dce AS build
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

# alpine:3.24 (repo-info 1746b58, repos/alpine/remote/3.24.md).
FROM alpine:3.24@sha256:5b02b42e375f7426f8d65c3af331ca05d9878f9989230354504e0b9dfd431f60 AS base
# hadolint ignore=DL3018
RUN apk add --no-cache ca-certificates && mkdir -p /rootfs/tmp && chmod 1777 /rootfs/tmp

# docker:29-cli: the Docker CLI 29.7.1 and, verified by its sha256 in the image's Dockerfile, the buildx
# plugin v0.36.0 (repo-info 47e7cda, repos/docker/remote/29-cli.md). buildx must be v0.21+: it reads
# the GitHub cache service v2 (the only one on github.com since April 2025) from ACTIONS_RESULTS_URL;
# an older buildx drops a gha cache without a word. (docker/buildx-bin is not an official image.)
FROM docker:29-cli@sha256:27a51d5ab1cd38d9eeaba7b415b8c07bc10c31e1cf1ec8d78f6413fcfab3f44f AS docker-cli

FROM scratch
COPY --from=base /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=base /rootfs/tmp /tmp
COPY --from=docker-cli /usr/local/bin/docker /usr/local/bin/docker
COPY --from=docker-cli /usr/local/libexec/docker/cli-plugins/docker-buildx /usr/libexec/docker/cli-plugins/docker-buildx
COPY --from=build /src/target/release/deploy-action /usr/local/bin/deploy-action
ENV PATH=/usr/local/bin DOCKER_CLI_HINTS=false
LABEL org.opencontainers.image.title="deploy-action" \
      org.opencontainers.image.description="OIDC → ECR → arm64 build and push → ECS rollout, in one step" \
      org.opencontainers.image.source="https://github.com/operationcode/deploy-action" \
      org.opencontainers.image.licenses="MIT"
# Container actions run as root (GitHub's requirement), which the mounted docker socket needs too.
# Exec form: a shell in front would drop every INPUT_ variable whose name has a hyphen.
ENTRYPOINT ["/usr/local/bin/deploy-action"]
