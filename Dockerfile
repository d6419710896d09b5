# CPU image of the resmlp translation server: tfjs on the `cpu` backend with the native OpenBLAS
# kernels (native/, N-API). Multi-stage: build (compilers, libopenblas-dev, libdnnl-dev, npm ci, tsc,
# node-gyp) → slim runtime (node, libopenblas0, libdnnl2 for int8 decoding, dist/, production
# node_modules, the built addon).
#
# UNTESTED HERE: the machine this was written on has no Docker engine. The steps mirror
# scripts/setup.sh and `npm run build`, which are tested; the image itself has never been built.
#
#   docker build -t resmlp-serve .
#   docker run -p 8080:8080 -v $PWD/runs:/app/runs:ro resmlp-serve
#   (the serve config's checkpoint paths are relative to /app; override the config with
#    -v my.json:/app/configs/serve/serve.json:ro and --config configs/serve/serve.json)
#
# The optional @tensorflow/tfjs-node{,-gpu} packages are omitted (--omit=optional): this image
# uses the native kernels (RESMLP_BACKEND=native). See Dockerfile.gpu for the CUDA image.

ARG NODE_IMAGE=node:20-bookworm

FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends build-essential python3 libopenblas-dev libdnnl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY native ./native
# `npm ci` runs the package's install script (node native/build.mjs): the addon is built here.
RUN npm ci --omit=optional --no-audit --no-fund \
 && test -f native/build/Release/resmlp_native.node || (cat native/build/BUILD_FAILED.txt; exit 1)
COPY tsconfig.json ./
COPY src ./src
COPY configs ./configs
RUN npm run build && npm prune --omit=dev --omit=optional

FROM ${NODE_IMAGE}-slim AS runtime
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libopenblas0 libdnnl2 tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production RESMLP_BACKEND=native
# The native backend's pool of recycled kernel outputs is capped at a quarter of the memory the
# container may use (its cgroup v2 memory.max, which Node reports as process.constrainedMemory()),
# at most 8 GiB; set RESMLP_POOL_MB to choose (e.g. -e RESMLP_POOL_MB=512). Without a limit on the
# container the cap is a quarter of the host's memory.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/native/build/Release/resmlp_native.node ./native/build/Release/resmlp_native.node
COPY --from=build /app/configs ./configs
USER node
EXPOSE 8080
# tini forwards SIGTERM to node: the server stops accepting, finishes in-flight work, exits.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/cli/main.js", "serve"]
CMD ["--config", "configs/serve/multi30k-en-de.json", "--host", "0.0.0.0", "--port", "8080"]
