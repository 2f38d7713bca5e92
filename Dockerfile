# orderflow worker image: Node 24 runs the TypeScript sources directly (type stripping).
FROM node:24.21.0-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency is not needed in the image (it has Node 24); production deps only.
RUN npm ci --omit=dev --no-audit --no-fund || npm install --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
USER node
ENTRYPOINT ["./bin/orderflow"]
CMD ["worker"]
