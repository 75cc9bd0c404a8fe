# syntax=docker/dockerfile:1
# Einsatz: a static binary in a distroless image, running as non-root, with
# its database on the /data volume. Build:
#   docker build --build-arg VERSION=$(git describe --tags --always) -t einsatz .
# Run (secrets from the environment, see docs/deploy.md):
#   docker run -d --name einsatz -p 127.0.0.1:8080:8080 -v einsatz-data:/data \
#     --env-file einsatz.env --memory 512m einsatz

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO off: Badger and everything else here is pure Go, so the binary is
# static and needs no libc in the image.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/einsatz . \
 && mkdir -p /out/data

# distroless/static: CA certificates and time zone data, no shell, no
# package manager; the nonroot user is 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/einsatz /usr/local/bin/einsatz
COPY --from=build --chown=65532:65532 /out/data /data
COPY config.yaml /etc/einsatz/config.yaml
# The licence and the notices of every module the binary links.
COPY LICENSE THIRD_PARTY_NOTICES /usr/share/doc/einsatz/
# The shipped config.yaml reads these; mount your own config over
# /etc/einsatz/config.yaml (or set EINSATZ_CONFIG) to change the rest.
ENV EINSATZ_CONFIG=/etc/einsatz/config.yaml \
    EINSATZ_DATA=/data \
    EINSATZ_WEB_ADDR=0.0.0.0:8080
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080
# No HEALTHCHECK: the image has no shell or curl; let the orchestrator or
# the reverse proxy probe GET /healthz (alive) and GET /readyz (ready).
ENTRYPOINT ["/usr/local/bin/einsatz"]
CMD ["run"]
