# spikeloop image (docs/deploy.md). Two stages:
#   build    the toolchains (AVR gcc, simavr headers, a C++ compiler for better-sqlite3) and the dev
#            dependencies: compiles the app (dist/), the dashboard (web/dist) and the DAQ firmware image
#            with its simavr harness (firmware/build), then drops the dev dependencies;
#   runtime  Node, simavr (runs the virtual DAQ board), ngspice (twin reference), socat (pseudo-terminals)
#            and the compiled app: no compilers, browsers or docker-compose. Runs as the user `node`.
FROM node:20-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc-avr avr-libc arduino-core-avr simavr libsimavr-dev libelf-dev pkg-config make g++ python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY bin/spikeloop.js bin/spikeloop.js
COPY common common
COPY drivers drivers
COPY server server
COPY web web
COPY firmware firmware
COPY scripts/build.mjs scripts/build.mjs
COPY scripts/setup.d scripts/setup.d
RUN node scripts/build.mjs && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends simavr ngspice socat \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/bin/spikeloop.js bin/spikeloop.js
COPY --from=build /src/dist dist
COPY --from=build /src/web/dist web/dist
COPY --from=build /src/firmware/build/uno firmware/build/uno
COPY --from=build /src/firmware/build/mega firmware/build/mega
COPY --from=build /src/firmware/build/virtual_board firmware/build/virtual_board
RUN mkdir /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
ENV NODE_ENV=production
# Alive when /api/health answers 200 (with the token from SPIKELOOP_TOKEN, as every client sends it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/api/health',{headers:{authorization:'Bearer '+(process.env.SPIKELOOP_TOKEN??'')}}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=4", "bin/spikeloop.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--db", "/data/spikeloop.db", "--source", "auto"]
