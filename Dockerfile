# syntax=docker/dockerfile:1

# ---- build: dev dependencies, protobuf code generation, TypeScript compile ----
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` (= the build) needs the sources, which are not copied yet
RUN npm ci --ignore-scripts
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
USER node
EXPOSE 8080
# exec form: node is PID 1 and receives SIGTERM/SIGINT directly; extra flags go in CMD / `docker run IMAGE ...`
ENTRYPOINT ["node", "dist/cli/server.js", "--host", "0.0.0.0", "--port", "8080"]
CMD []
