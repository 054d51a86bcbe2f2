/**
 * CloudWatch metrics in embedded metric format (EMF), through Powertools Metrics: each JSON line in the
 * function's log becomes metric data, with no PutMetricData calls. Dimensions are kept to low-cardinality
 * values (service, route template, configured model name, status class); never a raw path, a model name
 * a client typed, or a request id, each of which would create a metric per value. `write` redirects the
 * lines, as the logger's does, so tests read exactly what CloudWatch would.
 *
 * Per request: Requests (1), Errors (1 for a 4xx/5xx, else 0: its average is the error rate),
 * RequestLatency (ms) and ReviewsScored, with dimensions service, route, model, statusClass.
 * Per model load: ModelLoadTime (ms) and ModelLoadFailures (0/1), with service and model.
 * Per execution environment: ColdStart (Powertools' own, with service and function_name).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { SERVICE_NAME } from './logger.ts';

export interface MetricsOptions {
  namespace: string;
  /** Receives each EMF line; default: stdout, as Powertools prints it. */
  write?: (line: string) => void;
}

export interface RequestFacts {
  /** The matched route template ("/models/{name}/predictions"), or "none" when no route matched. */
  route: string;
  /** A configured model's name, or "none" when the request used no model (or named an unknown one). */
  model: string;
  statusCode: number;
  latencyMs: number;
  reviewsScored: number;
}

export interface ServiceMetrics {
  request(facts: RequestFacts): void;
  modelLoad(model: string, outcome: { ok: boolean; ms: number }): void;
  /** Emits ColdStart on the first call of this execution environment only. */
  coldStart(functionName: string): void;
}

/** Powertools prints through a private console; this subclass sends the serialised EMF to `write` instead. */
class LineMetrics extends Metrics {
  // Not a #private field: Metrics' constructor may print (warnings) before it is assigned.
  write: ((line: string) => void) | undefined;
  readonly namespaceName: string;

  constructor(namespace: string, write: ((line: string) => void) | undefined, single = false) {
    super({ namespace, serviceName: SERVICE_NAME, singleMetric: single });
    this.namespaceName = namespace;
    this.write = write;
  }

  override publishStoredMetrics(): this {
    if (!this.write) return super.publishStoredMetrics();
    if (this.hasStoredMetrics() && !this.isDisabled()) this.write(JSON.stringify(this.serializeMetrics()));
    this.clearMetrics();
    this.clearDimensions();
    this.clearMetadata();
    return this;
  }

  /** Used by captureColdStartMetric: the single metric goes where this instance's lines go. */
  override singleMetric(): Metrics {
    return new LineMetrics(this.namespaceName, this.write, true);
  }
}

export function statusClass(statusCode: number): string {
  return `${Math.floor(statusCode / 100)}xx`;
}

export function createMetrics(options: MetricsOptions): ServiceMetrics {
  const metrics = new LineMetrics(options.namespace, options.write);
  // Each method adds its dimensions and values and publishes them in one synchronous step, so two
  // requests served concurrently (the local server) never share a dimension set.
  return {
    request: (facts) => {
      metrics.addDimension('route', facts.route);
      metrics.addDimension('model', facts.model);
      metrics.addDimension('statusClass', statusClass(facts.statusCode));
      metrics.addMetric('Requests', MetricUnit.Count, 1);
      metrics.addMetric('Errors', MetricUnit.Count, facts.statusCode >= 400 ? 1 : 0);
      metrics.addMetric('RequestLatency', MetricUnit.Milliseconds, facts.latencyMs);
      metrics.addMetric('ReviewsScored', MetricUnit.Count, facts.reviewsScored);
      metrics.publishStoredMetrics();
    },
    modelLoad: (model, outcome) => {
      metrics.addDimension('model', model);
      metrics.addMetric('ModelLoadTime', MetricUnit.Milliseconds, outcome.ms);
      metrics.addMetric('ModelLoadFailures', MetricUnit.Count, outcome.ok ? 0 : 1);
      metrics.publishStoredMetrics();
    },
    coldStart: (functionName) => metrics.captureColdStartMetric(functionName),
  };
}
