# callbridge: one Node 20 process; TypeScript runs through tsx (a runtime dependency), no build step.
# Build: docker build -t callbridge .   Run: docker run --env-file .env -p 3000:3000 callbridge

# --- deps: production dependencies only, from the lockfile ---------------------------------------
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Optional dependencies stay: esbuild (under tsx) needs its platform binary; @ngrok/ngrok is
# optional and only used by `npm run tunnel`.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime: non-root, source + production node_modules ----------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json package-lock.json tsconfig.json ./
COPY --chown=node:node src ./src
COPY --chown=node:node migrations ./migrations
COPY --chown=node:node assets ./assets
# The embedded store and logs write here (DATA_DIR, LOGS_DIR); mount a volume on Railway to keep them.
RUN mkdir -p data logs && chown node:node data logs
USER node
EXPOSE 3000
# One process (no npm/sh wrapper), so SIGTERM from the platform reaches the drain handler directly.
CMD ["node", "--import", "tsx", "src/index.ts"]
