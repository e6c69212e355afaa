# syntax=docker/dockerfile:1
#
# The tracker and seeder images: static binaries on distroless, no shell,
# running as an unprivileged user, fine with a read-only root filesystem.
#   make images
# or one at a time:
#   docker build --target tracker --build-arg VERSION=v1.2.3 -t bitorigin/tracker:v1.2.3 .
#   docker build --target seeder  --build-arg VERSION=v1.2.3 -t bitorigin/seeder:v1.2.3 .
# For other platforms add --platform linux/arm64: the build stage runs on
# the build machine and cross-compiles.

FROM --platform=$BUILDPLATFORM golang:1.26.8-trixie AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X github.com/bitorigin/bitorigin/internal/version.Version=$VERSION" \
    -o /out/ ./cmd/tracker ./cmd/seeder

# Listens on 6969 (HTTP and UDP) and 6970 (admin).
FROM gcr.io/distroless/static-debian13:nonroot AS tracker
COPY --from=build /out/tracker /tracker
USER 65532:65532
EXPOSE 6969/tcp 6969/udp 6970/tcp
ENTRYPOINT ["/tracker"]

# Listens on 6881 (peers) and 6882 (admin); the data and torrents
# directories are volumes.
FROM gcr.io/distroless/static-debian13:nonroot AS seeder
COPY --from=build /out/seeder /seeder
USER 65532:65532
EXPOSE 6881/tcp 6882/tcp
ENTRYPOINT ["/seeder"]
CMD ["serve"]
