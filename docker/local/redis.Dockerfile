# Stand-in for the official redis image built from the local Debian base: Debian's Redis 7.0.
# Local use only.
ARG DEBIAN_IMAGE=local/debian:bookworm
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
