# syntax=docker/dockerfile:1

# ---- build: dev dependencies, the SQLite addon, protobuf code generation, TypeScript compile ----
FROM node:24-bookworm-slim AS build
# better-sqlite3 compiles its native addon from source against Node's headers.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (= the build) needs the sources, which are not copied yet; the one
# install script that is needed, better-sqlite3's compile, runs on its own.
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

# ---- runtime: production dependencies and the compiled server only ----
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The database lives in a volume: users and the messages waiting for them outlive the container.
RUN mkdir -p /data && chown node:node /data
VOLUME /data
USER node
EXPOSE 8080
# exec form: node is PID 1 and receives SIGTERM/SIGINT directly; extra flags go in CMD / `docker run IMAGE ...`
# On the open internet: limits on (see README.md, "Limits"); any of them can be given again after
# the image, the last one counting.
ENTRYPOINT ["node", "dist/cli/server.js", "--host", "0.0.0.0", "--port", "8080", "--db", "/data/chat.db", \
  "--idle-timeout", "600", "--max-clients-per-ip", "100", "--max-msgs-per-sec", "500"]
CMD []
