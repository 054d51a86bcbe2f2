# Lambda container image of the review-sentiment function. `sam build` builds it (template.yaml
# Metadata); by hand: docker build -t review-sentiment .
#   builder: installs every dependency from the lockfile and bundles src/ with esbuild (dist/index.mjs, the
#            API; dist/ranking.mjs, the ranking job's map/reduce handlers, picked by ImageConfig.Command).
#   runtime: the Lambda Node.js 24 image with the production dependencies, the native TensorFlow
#            binding, the bundle and the default model, smoke-tested in place before the image exists.

FROM public.ecr.aws/lambda/nodejs:24 AS builder
WORKDIR /build
# Dependencies before code: this layer is reused until package.json or the lockfile changes.
# --ignore-scripts: esbuild's JS API finds its platform binary without its install script, and the `node`
# devDependency's script would only download a second Node.js 24; `npm run build` uses the image's.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build.ts ./scripts/
COPY src/ ./src/
RUN npm run build

# tfjs-node's prebuilt libtensorflow and binding are x86_64 builds, and template.yaml declares x86_64.
FROM --platform=linux/amd64 public.ecr.aws/lambda/nodejs:24 AS runtime
WORKDIR ${LAMBDA_TASK_ROOT}
COPY package.json package-lock.json ./
# Only @tensorflow/* is used at run time (the bundle inlines everything else), but installing the
# production set from the lockfile keeps their versions exactly the tested ones. No dependency here
# needs an install script (core-js's only prints a banner), so none runs.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# Native TensorFlow for the backend selection's first choice. It must resolve the SAME @tensorflow/tfjs
# as the bundle, so it goes into this node_modules (deduplicated against the lockfile's 4.22.0).
#  - package.json declares it as an optional peer, which npm will not install on request: drop that
#    declaration from the image's copy first, or the install below silently does nothing.
#  - Its install script downloads libtensorflow and the prebuilt binding (node-pre-gyp). It is run
#    explicitly rather than by npm, so npm's install-script policy (package.json "allowScripts") cannot
#    skip it; it needs node_modules/.bin on PATH and exits non-zero if either download fails.
RUN npm pkg delete peerDependencies peerDependenciesMeta \
 && npm install --no-save --omit=dev --ignore-scripts --no-audit --no-fund @tensorflow/tfjs-node@4.22.0 \
 && cd node_modules/@tensorflow/tfjs-node \
 && PATH="${LAMBDA_TASK_ROOT}/node_modules/.bin:${PATH}" node scripts/install.js \
 && npm cache clean --force

COPY --from=builder /build/dist/ ./
# The default bundle, so the image can also serve with MODEL_URI=/var/task/models/review-sentiment/.
COPY models/ ./models/

# Smoke test: the built handler on a real API Gateway event with the bundled model, on native TensorFlow.
# A failure fails the image build. /tmp is replaced by Lambda's own scratch space at run time.
COPY scripts/smoke.ts /tmp/smoke/smoke.mts
COPY events/predictions-4-reviews.json /tmp/smoke/
RUN MODEL_URI="${LAMBDA_TASK_ROOT}/models/review-sentiment/" TFJS_BACKEND=auto \
    node /tmp/smoke/smoke.mts \
      --bundle "${LAMBDA_TASK_ROOT}/index.mjs" \
      --event /tmp/smoke/predictions-4-reviews.json \
      --expect-predictions 4 \
      --expect-backend tensorflow

CMD ["index.handler"]
