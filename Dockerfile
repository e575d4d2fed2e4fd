# Daybreak: one image for the API and the workers (the command picks the role).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# tsx runs the TypeScript sources directly: it is a runtime dependency, there is no build step.
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY templates ./templates
COPY drizzle ./drizzle
COPY samples ./samples
COPY tsconfig.json ./
USER node
EXPOSE 3000
ENTRYPOINT ["node", "bin/daybreak.js"]
CMD ["serve"]
