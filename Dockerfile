# Lambda container image of the review-sentiment function. `sam build` builds it (template.yaml
# Metadata); by hand: docker build -t review-sentiment .
#   builder: installs every dependency from the lockfile and bundles src/ with esbuild (dist/index.mjs,
#            the API; dist/ranking.mjs, the ranking job's map/reduce handlers, picked by ImageConfig.Command;
#            chunks/ loaded on demand).
#   runtime: the Lambda Node.js 24 image with ONNX Runtime (linux-x64 only) and the TensorFlow.js wasm
#            fallback, the bundle and the default model, smoke-tested in place before the image exists.

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

# ONNX Runtime's prebuilt library is an x86_64 build here (the arm64 one is pruned), and template.yaml
# declares x86_64.
FROM --platform=linux/amd64 public.ecr.aws/lambda/nodejs:24 AS runtime
WORKDIR ${LAMBDA_TASK_ROOT}
COPY package.json package-lock.json ./
# Only what the bundle leaves external, from the lockfile at its exact versions: package.json
# `dependencies` lists exactly those (test/integration/build.test.ts holds them equal to esbuild's
# externals): onnxruntime-node, and tfjs-core/-layers/-backend-wasm/-backend-cpu as the fallback for
# bundles without model.onnx. Everything esbuild inlined (AWS SDK, middy, Powertools) and everything
# training needs is a devDependency or optional (tfjs-node-gpu), so none of it is installed twice.
# --ignore-scripts: onnxruntime-node's postinstall would only download CUDA providers.
# ONNX Runtime ships every platform's library (~290 MB); Lambda runs linux/x64, so the others go. The
# tfjs packages carry 50 MB of source maps and compiled tests that nothing loads.
RUN npm ci --omit=dev --omit=optional --omit=peer --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin \
           node_modules/onnxruntime-node/bin/napi-v*/win32 \
           node_modules/onnxruntime-node/bin/napi-v*/linux/arm64 \
 && find node_modules/@tensorflow \( -name '*.map' -o -name '*_test.js' -o -name '*_test.d.ts' \) -delete \
 && npm cache clean --force

COPY --from=builder /build/dist/ ./
# The bundled models (review-sentiment, emotion), so the image can also serve from its own files:
# MODEL_URI=/var/task/models/review-sentiment/ or MODELS=...=/var/task/models/<name>/.
COPY models/ ./models/

# Smoke test: the built handler on a real API Gateway event with the bundled model, on ONNX Runtime (the
# default bundle carries model.onnx), then forced onto the TensorFlow.js wasm fallback. A failure fails the
# image build on any Node version. /tmp is replaced by Lambda's own scratch space at run time.
COPY scripts/smoke.ts /tmp/smoke/smoke.mts
COPY events/predictions-4-reviews.json /tmp/smoke/
RUN MODEL_URI="${LAMBDA_TASK_ROOT}/models/review-sentiment/" RUNTIME=auto \
    node /tmp/smoke/smoke.mts \
      --bundle "${LAMBDA_TASK_ROOT}/index.mjs" \
      --event /tmp/smoke/predictions-4-reviews.json \
      --expect-predictions 4 \
      --expect-runtime onnx \
 && MODEL_URI="${LAMBDA_TASK_ROOT}/models/review-sentiment/" RUNTIME=tfjs TFJS_BACKEND=auto \
    node /tmp/smoke/smoke.mts \
      --bundle "${LAMBDA_TASK_ROOT}/index.mjs" \
      --event /tmp/smoke/predictions-4-reviews.json \
      --expect-predictions 4 \
      --expect-runtime tfjs \
      --expect-backend wasm

CMD ["index.handler"]
