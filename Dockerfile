# syntax=docker/dockerfile:1

# Build: compile TypeScript with the dev dependencies. The workspace package of the embedded
# database is development-only: its manifest is copied so `npm ci` accepts the lock file, and
# nothing of it reaches the runtime image.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/embedded-mongo/package.json ./packages/embedded-mongo/
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies and the compiled JavaScript only, as a non-root user.
# `--workspaces=false`: plain `--omit=dev` would still install every workspace and its
# dependencies (the embedded server, mingo).
FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=4000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --workspaces=false && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# SIGTERM goes straight to node (no npm wrapper), which drains requests and exits.
CMD ["node", "dist/index.js"]
