# The action's image: the deploy-action binary, the Docker CLI and the buildx plugin.
# The runner mounts the host's /var/run/docker.sock; builds run on the host's engine.

FROM rust:1-bookworm AS build
WORKDIR /src
# Dependencies first, in their own layer: source edits do not rebuild the AWS SDK.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked --bin deploy-action \
    && rm -rf src
COPY src src
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin deploy-action

FROM docker:28-cli AS docker-cli
FROM docker/buildx-bin:0.19 AS buildx

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git \
    && rm -rf /var/lib/apt/lists/*
COPY --from=docker-cli /usr/local/bin/docker /usr/local/bin/docker
COPY --from=buildx /buildx /usr/libexec/docker/cli-plugins/docker-buildx
COPY --from=build /src/target/release/deploy-action /usr/local/bin/deploy-action
LABEL org.opencontainers.image.title="deploy-action" \
      org.opencontainers.image.description="OIDC → ECR → arm64 build and push → ECS rollout, in one step" \
      org.opencontainers.image.source="https://github.com/operationcode/deploy-action"
# Exec form: a shell in front would drop every INPUT_ variable whose name has a hyphen.
ENTRYPOINT ["/usr/local/bin/deploy-action"]
