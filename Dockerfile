# The service image: one image for every role (web, worker, scheduler), chosen by ROLE or the first argument.
# Build: docker build -t thidua-bot .    Run: see docker-compose.yml and README.md ("Docker").
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are not needed: esbuild (tsx) ships its binary as an optional dependency, and the
# Prisma client is generated offline below (scripts/generate.mjs).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run generate && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 3000
# Liveness of the web role; workers and the scheduler have no HTTP server (compose disables the check).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# TypeScript runs through tsx (a runtime dependency), as with `npm start`. SIGTERM reaches node directly
# (exec form), so shutdown is orderly: stop accepting, finish current jobs, close connections.
ENTRYPOINT ["node", "--import", "tsx", "src/main.ts"]
CMD ["all"]
