/**
 * template.yaml cannot be deployed here (no AWS account, no sam CLI), so its wiring is checked by
 * parsing it, with CloudFormation's short-form tags, and evaluating the intrinsic functions for both
 * ways of deploying it: with a bucket the stack creates, and with an existing bucket and a pinned version.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { type CollectionTag, parse, type ScalarTag } from 'yaml';
import { RANKING_FILE_NAME } from '../../scripts/build.ts';
import { loadConfig } from '../../src/function/config.ts';
import { ROUTES } from '../../src/function/routes/index.ts';
import { LAST_COMPLETE_WEEK } from '../../src/ranking/lambda.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const FUNCTION = 'ReviewScoringFunction';

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------
// CloudFormation YAML: short forms (!Ref, !Sub, ...) become their long forms ({"Fn::Sub": ...}).

const SHORT_FORMS = [
  'Ref',
  'Condition',
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'ImportValue',
  'Join',
  'Length',
  'Select',
  'Split',
  'Sub',
  'ToJsonString',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
];

function longForm(name: string): string {
  return name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
}

/** Every short form in its scalar, sequence and mapping variants (yaml matches tags per node kind). */
function cloudFormationTags(): (ScalarTag | CollectionTag)[] {
  return SHORT_FORMS.flatMap((name): (ScalarTag | CollectionTag)[] => {
    const key = longForm(name);
    const tag = `!${name}`;
    const scalar: ScalarTag = {
      tag,
      // !GetAtt Resource.Attribute is shorthand for [Resource, Attribute]; the attribute may hold dots.
      resolve: (value) => ({ [key]: name === 'GetAtt' ? splitAtFirstDot(value) : value }),
    };
    const seq: CollectionTag = { tag, collection: 'seq', resolve: (node) => ({ [key]: node.toJSON() }) };
    const map: CollectionTag = { tag, collection: 'map', resolve: (node) => ({ [key]: node.toJSON() }) };
    return [scalar, seq, map];
  });
}

function splitAtFirstDot(value: string): string[] {
  const dot = value.indexOf('.');
  return dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)];
}

function parseTemplate(text: string): Json {
  return parse(text, { customTags: cloudFormationTags(), prettyErrors: true }) as Json;
}

// ---------------------------------------------------------------------------------------------------
// A small evaluator of the intrinsics the template uses. A resource's Ref becomes "ref:<LogicalId>" and
// GetAtt "getatt:<LogicalId>.<Attribute>": placeholders for values only CloudFormation knows. Like
// CloudFormation, it refuses a reference to a resource whose condition is false in this deployment.

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': '123456789012',
  'AWS::NotificationARNs': '',
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::StackId': 'arn:aws:cloudformation:eu-west-1:123456789012:stack/review-sentiment/1',
  'AWS::StackName': 'review-sentiment',
  'AWS::URLSuffix': 'amazonaws.com',
};
const NO_VALUE = Symbol('AWS::NoValue');

class Evaluator {
  readonly template: Json;
  readonly parameters: Record<string, string | number>;

  constructor(template: Json, overrides: Record<string, string> = {}) {
    this.template = template;
    this.parameters = {};
    for (const [name, definition] of Object.entries(section(template, 'Parameters'))) {
      const fallback = (definition as Json).Default;
      const value = overrides[name] ?? fallback;
      assert.ok(value !== undefined, `parameter ${name} has no Default and no override`);
      this.parameters[name] = value as string | number;
    }
  }

  condition(name: string): boolean {
    const definition = section(this.template, 'Conditions')[name];
    assert.ok(definition !== undefined, `condition ${name} is not defined`);
    return this.eval(definition) === true;
  }

  eval(node: unknown): unknown {
    if (Array.isArray(node)) return node.map((item) => this.eval(item)).filter((v) => v !== NO_VALUE);
    if (typeof node !== 'object' || node === null) return node;
    // A property whose value is AWS::NoValue is left out, as CloudFormation does.
    const withoutNoValue = (entries: [string, unknown][]) => entries.filter(([, v]) => v !== NO_VALUE);
    const entries = Object.entries(node);
    const [key, arg] = entries[0] ?? [];
    if (
      entries.length === 1 &&
      key !== undefined &&
      (key === 'Ref' || key.startsWith('Fn::') || key === 'Condition')
    ) {
      return this.intrinsic(key, arg);
    }
    return Object.fromEntries(withoutNoValue(entries.map(([k, v]) => [k, this.eval(v)])));
  }

  intrinsic(key: string, arg: unknown): unknown {
    const list = (): unknown[] => (Array.isArray(arg) ? arg : assert.fail(`${key} needs a list`));
    switch (key) {
      case 'Ref':
        return this.ref(String(arg));
      case 'Condition':
        return this.condition(String(arg));
      case 'Fn::GetAtt': {
        const [resource, attribute] = list().map(String);
        return this.getAtt(`${resource}.${attribute}`);
      }
      case 'Fn::Sub':
        return this.sub(arg);
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = list();
        return this.eval(this.condition(String(name)) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [a, b] = list().map((v) => String(this.eval(v)));
        return a === b;
      }
      case 'Fn::Not':
        return !this.eval(list()[0]);
      case 'Fn::And':
        return list().every((v) => this.eval(v) === true);
      case 'Fn::Or':
        return list().some((v) => this.eval(v) === true);
      case 'Fn::Join': {
        const [separator, items] = list();
        return (this.eval(items) as unknown[]).join(String(separator));
      }
      case 'Fn::Select': {
        const [index, items] = list();
        return (this.eval(items) as unknown[])[Number(this.eval(index))];
      }
      case 'Fn::Split': {
        const [separator, text] = list();
        return String(this.eval(text)).split(String(separator));
      }
      default:
        return assert.fail(`the evaluator does not know ${key}`);
    }
  }

  ref(name: string): unknown {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in PSEUDO) return PSEUDO[name];
    if (name in this.parameters) return this.parameters[name];
    this.assertDeployed(samGenerated(name) ?? name);
    return `ref:${name}`;
  }

  getAtt(target: string): string {
    this.assertDeployed(target.split('.')[0] ?? target);
    return `getatt:${target}`;
  }

  /** True when the resource (or output) has no condition or its condition holds. */
  deployed(definition: unknown): boolean {
    const condition = (definition as Json | undefined)?.Condition;
    return condition === undefined || this.condition(String(condition));
  }

  assertDeployed(resource: string): void {
    const definition = section(this.template, 'Resources')[resource];
    assert.ok(definition !== undefined, `${resource} names no resource`);
    assert.ok(this.deployed(definition), `${resource} is referred to but not created in this deployment`);
  }

  sub(arg: unknown): string {
    const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
    const locals = Object.fromEntries(
      Object.entries((variables ?? {}) as Json).map(([k, v]) => [k, this.eval(v)]),
    );
    return String(text).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in locals) return String(locals[name]);
      if (!name.startsWith('AWS::') && name.includes('.')) return this.getAtt(name);
      return String(this.ref(name));
    });
  }
}

/**
 * SAM's references to what it generates for a function with AutoPublishAlias: `Fn.Alias` (the alias)
 * and `Fn.Version`. Returns the function's logical id, or undefined for any other name.
 */
function samGenerated(name: string): string | undefined {
  const match = /^(\w+)\.(Alias|Version)$/.exec(name);
  const fn =
    match?.[1] === undefined ? undefined : (section(template, 'Resources')[match[1]] as Json | undefined);
  return fn && (fn.Properties as Json | undefined)?.AutoPublishAlias ? match?.[1] : undefined;
}

function section(template: Json, name: string): Json {
  return (template[name] ?? {}) as Json;
}

// ---------------------------------------------------------------------------------------------------

const template = parseTemplate(readFileSync(join(ROOT, 'template.yaml'), 'utf8'));
const resources = section(template, 'Resources');
const parameters = section(template, 'Parameters');
const fn = resources[FUNCTION] as Json;
const fnProps = (fn?.Properties ?? {}) as Json;
const globals = (section(template, 'Globals').Function ?? {}) as Json;

function ofType(type: string): [string, Json & { Properties: Json }][] {
  return Object.entries(resources).filter(([, r]) => (r as Json).Type === type) as [
    string,
    Json & { Properties: Json },
  ][];
}

/** A function property as deployed: the function's own value, else the Globals one. */
function effective(name: string): unknown {
  return fnProps[name] ?? globals[name];
}

/** The two ways to deploy: a bucket the stack creates, or an existing one with a pinned version. */
const SCENARIOS = {
  created: new Evaluator(template),
  existing: new Evaluator(template, {
    ModelBucketName: 'team-models',
    ModelPrefix: 'models/review-sentiment/20261121T214500Z-3f2a9c1b/',
    FeedbackPrefix: '',
  }),
};
const EXPECTED = {
  created: { bucket: 'ref:ModelBucket', prefix: 'models/review-sentiment/', feedback: 'feedback/' },
  existing: {
    bucket: 'team-models',
    prefix: 'models/review-sentiment/20261121T214500Z-3f2a9c1b/',
    feedback: null,
  },
};

function environment(evaluator: Evaluator): Record<string, string> {
  return evaluator.eval((fnProps.Environment as Json).Variables) as Record<string, string>;
}

/**
 * The function's configuration as deployed. The evaluator leaves a created bucket's name as a `ref:`
 * placeholder; a bucket name stands in for it, so loadConfig parses the URIs as it would in AWS.
 */
function deployedConfig(evaluator: Evaluator, extra: Record<string, string> = {}) {
  const variables = Object.entries(environment(evaluator)).map(([name, value]) => [
    name,
    String(value).replace('ref:ModelBucket', 'created-model-bucket'),
  ]);
  return loadConfig({ ...Object.fromEntries(variables), AWS_LAMBDA_FUNCTION_NAME: 'fn', ...extra });
}

describe('CloudFormation short-form tags', () => {
  test('parse to the long forms in scalar, sequence and mapping variants', () => {
    const parsed = parseTemplate(
      [
        'a: !Ref Bucket',
        'b: !GetAtt Fn.Arn',
        'c: !GetAtt [Fn, Arn]',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JS template
        "d: !Sub 'x-${AWS::Region}'",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JS template
        "e: !Sub ['${B}/k', { B: !Ref Bucket }]",
        'f: !If [IsNew, !Ref Bucket, !Ref AWS::NoValue]',
        "g: !Equals [!Ref Name, '']",
        "h: !Join ['', [a, !Select [1, !Split [',', 'x,y']]]]",
        'i: !FindInMap [Map, Top, Second]',
        'j: !Transform { Name: AWS::Include, Parameters: { Location: s3://b/k } }',
        'k: !Not [!Condition IsNew]',
      ].join('\n'),
    );
    assert.deepEqual(parsed, {
      a: { Ref: 'Bucket' },
      b: { 'Fn::GetAtt': ['Fn', 'Arn'] },
      c: { 'Fn::GetAtt': ['Fn', 'Arn'] },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JS template
      d: { 'Fn::Sub': 'x-${AWS::Region}' },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JS template
      e: { 'Fn::Sub': ['${B}/k', { B: { Ref: 'Bucket' } }] },
      f: { 'Fn::If': ['IsNew', { Ref: 'Bucket' }, { Ref: 'AWS::NoValue' }] },
      g: { 'Fn::Equals': [{ Ref: 'Name' }, ''] },
      h: { 'Fn::Join': ['', ['a', { 'Fn::Select': [1, { 'Fn::Split': [',', 'x,y'] }] }]] },
      i: { 'Fn::FindInMap': ['Map', 'Top', 'Second'] },
      j: { 'Fn::Transform': { Name: 'AWS::Include', Parameters: { Location: 's3://b/k' } } },
      k: { 'Fn::Not': [{ Condition: 'IsNew' }] },
    });
  });
});

describe('template.yaml', () => {
  test('is a SAM template', () => {
    assert.equal(template.Transform, 'AWS::Serverless-2016-10-31');
    assert.equal(template.AWSTemplateFormatVersion, '2010-09-09');
  });

  test('every Ref, GetAtt, Sub variable and condition names a parameter, resource, pseudo parameter or condition', () => {
    const problems: string[] = [];
    const conditions = section(template, 'Conditions');
    const known = (name: string) =>
      name in parameters ||
      name in resources ||
      name in PSEUDO ||
      name === 'AWS::NoValue' ||
      samGenerated(name) !== undefined;
    walk(template, (key, value, locals) => {
      if (key === 'Ref' && !known(String(value))) problems.push(`Ref ${String(value)}`);
      if (key === 'Fn::GetAtt') {
        const [target] = value as string[];
        if (!(String(target) in resources)) problems.push(`GetAtt ${String(target)}`);
      }
      if (key === 'Fn::If' || key === 'Condition') {
        const name = key === 'Fn::If' ? (value as unknown[])[0] : value;
        if (typeof name === 'string' && !(name in conditions)) problems.push(`condition ${name}`);
      }
      if (key === 'Fn::Sub') {
        const text = Array.isArray(value) ? value[0] : value;
        for (const [, name] of String(text).matchAll(/\$\{([^}!][^}]*)\}/g)) {
          const target = name?.startsWith('AWS::') ? name : name?.split('.')[0];
          if (target !== undefined && !locals.has(target) && !known(target)) problems.push(`\${${name}}`);
        }
      }
    });
    assert.deepEqual(problems, []);
  });

  test('the function is a container image built from the Dockerfile', () => {
    assert.equal(fn.Type, 'AWS::Serverless::Function');
    assert.equal(fnProps.PackageType, 'Image');
    const metadata = fn.Metadata as Json;
    const dockerfile = join(ROOT, String(metadata.DockerContext), String(metadata.Dockerfile));
    assert.ok(existsSync(dockerfile), `Metadata names ${dockerfile}, which does not exist`);
    assert.match(String(metadata.DockerTag), /^[\w][\w.-]{0,127}$/);
    for (const zipOnly of ['Handler', 'Runtime', 'CodeUri', 'Layers']) {
      assert.equal(effective(zipOnly), undefined, `${zipOnly} is not allowed on an image function`);
    }
    assert.deepEqual(effective('Architectures'), ['x86_64']);
  });

  test('memory buys at least one vCPU and the timeout ends before API Gateway gives up (30 s)', () => {
    const memory = Number(effective('MemorySize'));
    const timeout = Number(effective('Timeout'));
    assert.ok(memory >= 1769 && memory <= 10240, `MemorySize ${memory}`);
    assert.ok(timeout >= 10 && timeout < 30, `Timeout ${timeout}`);
  });

  test('HTTP API routes are exactly the routes the handler serves (no $default), each invoking the alias', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(
      ([, r]) => SCENARIOS.created.eval(r.Properties) as Json,
    );
    const served = Object.entries(ROUTES).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m} ${path}`),
    );
    assert.deepEqual(routes.map((r) => r.RouteKey).sort(), served.sort());
    assert.deepEqual(served.sort(), [
      'GET /',
      'GET /health',
      'GET /models',
      'GET /openapi.json',
      'GET /rankings/latest',
      'GET /rankings/{period}',
      'GET /v2/health/live',
      'GET /v2/health/ready',
      'GET /v2/models/{name}',
      'GET /v2/models/{name}/ready',
      'POST /feedback',
      'POST /models/{name}/predictions',
      'POST /predictions',
      'POST /v2/models/{name}/infer',
    ]);
    assert.equal(
      Object.values(fnProps.Events ?? {}).length,
      0,
      'no SAM events: they would add routes of their own',
    );
    const [integrationId, integration] = ofType('AWS::ApiGatewayV2::Integration')[0] ?? [];
    for (const route of routes) {
      assert.equal(route.ApiId, 'ref:ReviewApi');
      assert.equal(route.Target, `integrations/ref:${integrationId}`);
    }
    const target = SCENARIOS.created.eval(integration?.Properties) as Json;
    assert.equal(target.IntegrationType, 'AWS_PROXY');
    assert.equal(target.PayloadFormatVersion, '2.0');
    assert.equal(target.IntegrationUri, `ref:${FUNCTION}.Alias`);
    const stage = SCENARIOS.created.eval(ofType('AWS::ApiGatewayV2::Stage')[0]?.[1].Properties) as Json;
    assert.equal(stage.StageName, '$default');
    assert.equal(stage.AutoDeploy, true);
    const permission = SCENARIOS.created.eval(ofType('AWS::Lambda::Permission')[0]?.[1].Properties) as Json;
    assert.equal(
      permission.FunctionName,
      `ref:${FUNCTION}.Alias`,
      'API Gateway may invoke the alias it targets',
    );
    assert.equal(permission.Principal, 'apigateway.amazonaws.com');
    assert.equal(permission.SourceArn, 'arn:aws:execute-api:eu-west-1:123456789012:ref:ReviewApi/*');
  });

  test('AuthMode: none, iam (AWS_IAM on every route) or jwt (an authorizer with issuer and audience)', () => {
    const authOf = (evaluator: Evaluator) =>
      ofType('AWS::ApiGatewayV2::Route').map(([, r]) => {
        const props = evaluator.eval(r.Properties) as Json;
        return `${String(props.AuthorizationType)} ${String(props.AuthorizerId ?? '-')}`;
      });
    assert.equal((parameters.AuthMode as Json).Default, 'iam', 'safe unless said otherwise');
    assert.deepEqual((parameters.AuthMode as Json).AllowedValues, ['none', 'iam', 'jwt']);
    assert.deepEqual(new Set(authOf(new Evaluator(template, { AuthMode: 'none' }))), new Set(['NONE -']));
    assert.deepEqual(new Set(authOf(new Evaluator(template, { AuthMode: 'iam' }))), new Set(['AWS_IAM -']));
    const jwt = new Evaluator(template, {
      AuthMode: 'jwt',
      JwtIssuer: 'https://issuer.example.com',
      JwtAudience: 'client-a,client-b',
    });
    assert.deepEqual(new Set(authOf(jwt)), new Set(['JWT ref:JwtAuthorizer']));
    const authorizer = resources.JwtAuthorizer as Json;
    assert.ok(
      jwt.deployed(authorizer) && !SCENARIOS.created.deployed(authorizer),
      'the authorizer exists only for jwt',
    );
    const props = jwt.eval(authorizer.Properties) as Json;
    assert.equal(props.AuthorizerType, 'JWT');
    assert.deepEqual(props.IdentitySource, ['$request.header.Authorization']);
    assert.deepEqual(props.JwtConfiguration, {
      Issuer: 'https://issuer.example.com',
      Audience: ['client-a', 'client-b'],
    });
    // The template's Rules refuse jwt without an issuer or an audience before anything is created.
    const rule = (section(template, 'Rules').JwtNeedsIssuerAndAudience ?? {}) as Json;
    const holds = (evaluator: Evaluator) =>
      !evaluator.eval(rule.RuleCondition) ||
      (rule.Assertions as Json[]).every((a) => evaluator.eval(a.Assert) === true);
    assert.equal(holds(jwt), true);
    assert.equal(holds(new Evaluator(template, { AuthMode: 'jwt', JwtAudience: 'a' })), false);
    assert.equal(holds(new Evaluator(template, { AuthMode: 'jwt', JwtIssuer: 'https://i.example' })), false);
    assert.equal(holds(SCENARIOS.created), true);
  });

  test('CORS: none by default; CorsAllowOrigins configures API Gateway and the function alike', () => {
    const api = (evaluator: Evaluator) => evaluator.eval((resources.ReviewApi as Json).Properties) as Json;
    assert.equal(api(SCENARIOS.created).CorsConfiguration, undefined);
    assert.equal(environment(SCENARIOS.created).CORS_ALLOW_ORIGINS, '');
    const origins = 'https://shop.example.com,http://localhost:5173';
    const evaluator = new Evaluator(template, { CorsAllowOrigins: origins });
    const cors = api(evaluator).CorsConfiguration as Json;
    assert.deepEqual(cors.AllowOrigins, ['https://shop.example.com', 'http://localhost:5173']);
    assert.deepEqual(cors.AllowMethods, ['GET', 'POST', 'OPTIONS']);
    assert.ok((cors.AllowHeaders as string[]).includes('content-type'));
    assert.ok(Number(cors.MaxAge) > 0);
    const config = deployedConfig(evaluator);
    assert.deepEqual(
      config.corsAllowOrigins,
      cors.AllowOrigins,
      'the function allows what API Gateway allows',
    );
    const pattern = new RegExp(String((parameters.CorsAllowOrigins as Json).AllowedPattern));
    for (const good of ['', '*', origins, 'https://*.example.com']) assert.match(good, pattern);
    for (const bad of ['https://a.example/', 'https://a.example, https://b.example', 'a.example'])
      assert.doesNotMatch(bad, pattern);
  });

  test('reserved concurrency caps cost (0: no reservation)', () => {
    assert.equal(SCENARIOS.created.eval(fnProps.ReservedConcurrentExecutions), 10);
    const none = new Evaluator(template, { ReservedConcurrency: '0' });
    assert.equal((none.eval(fnProps) as Json).ReservedConcurrentExecutions, undefined);
    assert.equal(
      new Evaluator(template, { ReservedConcurrency: '3' }).eval(fnProps.ReservedConcurrentExecutions),
      '3',
    );
  });

  test('deploys through the alias `live` with a canary that alarms on errors and 5xx roll back', () => {
    assert.equal(fnProps.AutoPublishAlias, 'live');
    const preference = SCENARIOS.created.eval(fnProps.DeploymentPreference) as Json;
    assert.equal(preference.Type, 'Canary10Percent5Minutes');
    const types = (parameters.DeploymentType as Json).AllowedValues as string[];
    for (const type of types)
      assert.match(type, /^(Canary10Percent\d+Minutes|Linear10PercentEvery\d+Minutes?|AllAtOnce)$/);
    const alarms = (preference.Alarms as string[]).map((ref) => {
      const id = ref.replace(/^ref:/, '');
      const alarm = resources[id] as Json;
      assert.equal(alarm?.Type, 'AWS::CloudWatch::Alarm', id);
      return SCENARIOS.created.eval(alarm.Properties) as Json;
    });
    const metric = (a: Json) => `${String(a.Namespace)} ${String(a.MetricName)}`;
    assert.deepEqual(alarms.map(metric).sort(), ['AWS/ApiGateway 5xx', 'AWS/Lambda Errors']);
    const dims = (a: Json) =>
      Object.fromEntries((a.Dimensions as { Name: string; Value: string }[]).map((d) => [d.Name, d.Value]));
    const errors = alarms.find((a) => a.MetricName === 'Errors') as Json;
    assert.deepEqual(dims(errors), {
      Resource: `ref:${FUNCTION}:live`,
      FunctionName: `ref:${FUNCTION}`,
      ExecutedVersion: `getatt:${FUNCTION}.Version.Version`,
    });
    assert.deepEqual(dims(alarms.find((a) => a.MetricName === '5xx') as Json), {
      ApiId: 'ref:ReviewApi',
      Stage: '$default',
    });
    for (const alarm of alarms) {
      assert.equal(alarm.ComparisonOperator, 'GreaterThanThreshold');
      assert.equal(alarm.TreatMissingData, 'notBreaching');
    }
  });

  for (const [scenario, evaluator] of Object.entries(SCENARIOS)) {
    const { bucket, prefix, feedback } = EXPECTED[scenario as keyof typeof EXPECTED];

    test(`MODEL_URI is the model bucket and prefix (${scenario} bucket)`, () => {
      assert.equal(environment(evaluator).MODEL_URI, `s3://${bucket}/${prefix}`);
      assert.equal(evaluator.condition('CreateModelBucket'), scenario === 'created');
    });

    test(`the function's configuration loads with the deployed environment (${scenario} bucket)`, () => {
      // The created bucket's name is only known once deployed; URIs are validated, so give it a real one.
      const named = (text: string) => text.replaceAll('ref:ModelBucket', 'stack-model-bucket');
      const env = Object.fromEntries(
        Object.entries(environment(evaluator)).map(([k, v]) => [k, named(String(v))]),
      );
      const config = loadConfig({ ...env, AWS_LAMBDA_FUNCTION_NAME: 'review-sentiment' });
      assert.equal(config.modelUri, named(`s3://${bucket}/${prefix}`));
      assert.equal(config.backend, env.TFJS_BACKEND);
      assert.equal(config.logLevel, env.LOG_LEVEL);
      assert.equal(config.logReviewText, false);
      assert.equal(config.rankingsUri, named(`s3://${bucket}/rankings/`));
      assert.equal(config.feedbackUri, feedback === null ? null : named(`s3://${bucket}/${feedback}`));
    });

    test(`every resource and output deployed refers only to resources deployed (${scenario} bucket)`, () => {
      for (const [id, definition] of Object.entries({ ...resources, ...section(template, 'Outputs') })) {
        if (!evaluator.deployed(definition)) continue;
        assert.doesNotThrow(
          () => evaluator.eval((definition as Json).Properties ?? (definition as Json).Value),
          id,
        );
      }
    });

    test(`the role may only read the model and rankings prefixes and create under the feedback prefix (${scenario} bucket)`, () => {
      const policies = fnProps.Policies as unknown[];
      assert.ok(Array.isArray(policies) && policies.length > 0, 'Policies must list the inline policy');
      assert.equal(fnProps.Role, undefined, 'a Role would bypass these policies');
      const statements = policies.flatMap((p) => {
        // Managed policy names and SAM policy templates (S3ReadPolicy: bucket-wide) are not allowed.
        assert.ok(
          typeof p === 'object' && p !== null && 'Statement' in p,
          `not an inline policy: ${JSON.stringify(p)}`,
        );
        // Evaluated as a list, so a statement whose condition is false (AWS::NoValue) drops out.
        return evaluator.eval((p as { Statement: unknown[] }).Statement) as Json[];
      });
      const grants = statements.map((st) => {
        assert.equal(st.Effect, 'Allow');
        assert.equal(st.Condition, undefined);
        return [[st.Action].flat(), [st.Resource].flat()];
      });
      assert.deepEqual(grants, [
        [['s3:GetObject'], [`arn:aws:s3:::${bucket}/${prefix}*`]],
        [['s3:GetObject'], [`arn:aws:s3:::${bucket}/rankings/*`]],
        ...(feedback === null ? [] : [[['s3:PutObject'], [`arn:aws:s3:::${bucket}/${feedback}*`]]]),
      ]);
      // The URIs the function reads or writes and the ARNs it may use must name the same objects.
      const env = environment(evaluator);
      const arn = (uri: unknown) => `arn:aws:s3:::${String(uri).slice('s3://'.length)}*`;
      assert.equal(statements[0]?.Resource, arn(env.MODEL_URI));
      assert.equal(statements[1]?.Resource, arn(env.RANKINGS_URI));
      if (feedback !== null) assert.equal(statements[2]?.Resource, arn(env.FEEDBACK_URI));
      else assert.equal(env.FEEDBACK_URI, undefined);
    });

    test(`outputs name the API, the function, the bucket and MODEL_URI (${scenario} bucket)`, () => {
      const outputs = evaluator.eval(section(template, 'Outputs')) as Record<string, { Value: unknown }>;
      assert.equal(outputs.ApiUrl?.Value, 'https://ref:ReviewApi.execute-api.eu-west-1.amazonaws.com/');
      assert.equal(outputs.FunctionArn?.Value, `getatt:${FUNCTION}.Arn`);
      assert.equal(outputs.ModelBucketName?.Value, bucket);
      assert.equal(outputs.ModelUri?.Value, environment(evaluator).MODEL_URI);
    });
  }

  test('MODELS, when given, replaces MODEL_URI; the namespace parameter is one the function accepts', () => {
    const several = new Evaluator(template, {
      ModelPrefix: 'models/',
      Models: 'review-sentiment=s3://b/models/review-sentiment/,emotion=s3://b/models/emotion/',
      MetricsNamespace: 'Team/Reviews',
    });
    assert.equal(environment(several).MODEL_URI, undefined);
    const config = deployedConfig(several);
    assert.deepEqual(
      config.models.map((m) => m.name),
      ['review-sentiment', 'emotion'],
    );
    assert.equal(config.metricsNamespace, 'Team/Reviews');
    const single = environment(SCENARIOS.created);
    assert.equal(single.MODELS, '');
    assert.equal(deployedConfig(SCENARIOS.created).metricsNamespace, 'ReviewSentiment');
    const pattern = new RegExp(String((parameters.MetricsNamespace as Json).AllowedPattern));
    for (const good of ['ReviewSentiment', 'Team/Reviews', 'a.b-c_d#e:f']) assert.match(good, pattern);
    for (const bad of ['AWS/Lambda', '', 'has space']) assert.doesNotMatch(bad, pattern);
  });

  test('parameter choices are values the function accepts', () => {
    const allowed = (name: string) => (parameters[name] as Json).AllowedValues as string[];
    for (const level of allowed('LogLevel')) {
      assert.equal(loadConfig({ MODEL_URI: 'x', LOG_LEVEL: level }).logLevel, level);
      // Lambda's ApplicationLogLevel takes the same parameter.
      assert.ok(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].includes(level));
    }
    for (const backend of allowed('TfjsBackend')) {
      assert.equal(loadConfig({ MODEL_URI: 'x', TFJS_BACKEND: backend }).backend, backend);
    }
  });

  test('ModelPrefix and ModelBucketName patterns accept their defaults and refuse malformed values', () => {
    const pattern = (name: string) => new RegExp(String((parameters[name] as Json).AllowedPattern));
    const prefix = pattern('ModelPrefix');
    assert.match(String((parameters.ModelPrefix as Json).Default), prefix);
    assert.match('models/review-sentiment/20261121T214500Z-3f2a9c1b/', prefix);
    for (const bad of ['models/review-sentiment', '/models/', 'models//x/', ''])
      assert.doesNotMatch(bad, prefix);
    const bucket = pattern('ModelBucketName');
    for (const good of ['', 'team-models', 'models.example.com']) assert.match(good, bucket);
    for (const bad of ['Team_Models', 'x', '-models']) assert.doesNotMatch(bad, bucket);
  });

  test('the log group is the function`s, with retention and JSON logging', () => {
    const [name, group] =
      Object.entries(resources).find(([, r]) => (r as Json).Type === 'AWS::Logs::LogGroup') ?? [];
    assert.ok(name !== undefined && group !== undefined, 'no AWS::Logs::LogGroup');
    const props = SCENARIOS.created.eval((group as Json).Properties) as Json;
    assert.equal(props.LogGroupName, `/aws/lambda/ref:${FUNCTION}`);
    const retention = (parameters.LogRetentionDays as Json).AllowedValues as number[];
    assert.ok(
      retention.includes(Number(props.RetentionInDays)),
      `retention ${String(props.RetentionInDays)}`,
    );
    const logging = SCENARIOS.created.eval(fnProps.LoggingConfig) as Json;
    assert.equal(logging.LogFormat, 'JSON');
    assert.equal(logging.ApplicationLogLevel, environment(SCENARIOS.created).LOG_LEVEL);
    // Lambda's START and REPORT lines (init duration, max memory used) are INFO: they must get through.
    assert.equal(logging.SystemLogLevel, 'INFO');
    // Lambda writes to /aws/lambda/<name> unless told otherwise: the group above must be the one used.
    assert.ok(logging.LogGroup === undefined || logging.LogGroup === props.LogGroupName);
  });

  test('a bucket the stack creates is versioned, encrypted, private and kept on stack deletion', () => {
    const bucket = resources.ModelBucket as Json;
    assert.equal(bucket.Type, 'AWS::S3::Bucket');
    assert.equal(bucket.Condition, 'CreateModelBucket');
    assert.equal(bucket.DeletionPolicy, 'Retain');
    const props = bucket.Properties as Json;
    assert.deepEqual(props.VersioningConfiguration, { Status: 'Enabled' });
    assert.deepEqual(props.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    const encryption = props.BucketEncryption as { ServerSideEncryptionConfiguration: Json[] };
    const algorithm = (encryption.ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault as Json)
      ?.SSEAlgorithm;
    assert.ok(algorithm === 'AES256' || algorithm === 'aws:kms', `SSEAlgorithm ${String(algorithm)}`);
  });
});

/** Calls `visit` for every intrinsic, with the Fn::Sub variable names in scope. */
function walk(
  node: unknown,
  visit: (key: string, value: unknown, locals: Set<string>) => void,
  locals = new Set<string>(),
): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit, locals);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    let scope = locals;
    if (key === 'Fn::Sub' && Array.isArray(value))
      scope = new Set([...locals, ...Object.keys((value[1] ?? {}) as Json)]);
    if (key === 'Ref' || key === 'Condition' || key.startsWith('Fn::')) visit(key, value, scope);
    // A resource's or output's "Condition: Name" attribute is a condition name too.
    walk(value, visit, scope);
  }
}

// ---------------------------------------------------------------------------------------------------
// The weekly ranking: functions, state machine (definition file + substitutions), schedule, IAM.

describe('template.yaml: the weekly ranking', () => {
  const evaluator = SCENARIOS.existing;
  const bucket = 'team-models';
  const props = (id: string): Json => {
    const resource = resources[id] as Json | undefined;
    assert.ok(resource, `no resource ${id}`);
    return evaluator.eval(resource.Properties) as Json;
  };
  const statements = (policies: unknown): Json[] =>
    (policies as { Statement: Json[] }[]).flatMap((p) => p.Statement);
  const machine = resources.RankingStateMachine as Json;
  const machineProps = props('RankingStateMachine');
  const substitutions = machineProps.DefinitionSubstitutions as Record<string, string | number>;
  const definitionText = readFileSync(join(ROOT, String(machineProps.DefinitionUri)), 'utf8');
  // What CloudFormation does with DefinitionSubstitutions: replace ${Name} in the text, then parse.
  const definition = JSON.parse(
    definitionText.replace(/\$\{(\w+)\}/g, (_, name: string) => String(substitutions[name])),
  ) as { StartAt: string; States: Record<string, Json> };
  const states = definition.States;
  const map = states['Score input objects'] as Json;
  const processor = map.ItemProcessor as {
    ProcessorConfig: Json;
    StartAt: string;
    States: Record<string, Json>;
  };
  const child = processor.States[processor.StartAt] as Json;
  const reduce = states['Merge and publish'] as Json;
  const LAMBDA_ERRORS = [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
  ];

  test('the definition file is valid JSON before substitution, and uses exactly the substitutions given', () => {
    assert.equal(machine.Type, 'AWS::Serverless::StateMachine');
    assert.doesNotThrow(() => JSON.parse(definitionText));
    const used = new Set([...definitionText.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
    assert.deepEqual([...used].sort(), Object.keys(substitutions).sort());
  });

  test('states: default period, settings, a Distributed Map over the input objects, then reduce', () => {
    assert.equal(definition.StartAt, 'Period given?');
    const nexts = (state: Json): string[] => [
      ...((state.Choices as Json[] | undefined) ?? []).map((c) => String(c.Next)),
      ...[state.Default, state.Next].filter((n): n is string => typeof n === 'string'),
    ];
    const seen = new Set<string>();
    const visit = (name: string): void => {
      if (seen.has(name)) return;
      assert.ok(states[name], `${name} is not a state`);
      seen.add(name);
      for (const next of nexts(states[name] as Json)) visit(next);
    };
    visit(definition.StartAt);
    assert.deepEqual([...seen].sort(), Object.keys(states).sort(), 'every state is reachable');
    assert.equal(states['Last complete week']?.Result, LAST_COMPLETE_WEEK);
    assert.equal(map.Type, 'Map');
    assert.equal(map.Next, 'Merge and publish');
    assert.equal(reduce.End, true);
  });

  test('the map reads the input prefix with listObjectsV2 and runs one child per object', () => {
    assert.deepEqual(processor.ProcessorConfig, { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    assert.deepEqual(map.ItemReader, {
      Resource: 'arn:aws:states:::s3:listObjectsV2',
      Parameters: { Bucket: bucket, Prefix: 'reviews/' },
    });
    assert.deepEqual(map.ItemSelector, {
      bucket,
      'key.$': '$$.Map.Item.Value.Key',
      'period.$': '$.period',
      // One timestamp for every child, so they agree on "the last complete week".
      'asOf.$': '$$.Execution.StartTime',
    });
    // The concurrency parameter reaches MaxConcurrencyPath as a number.
    assert.equal(map.MaxConcurrencyPath, '$.settings.maxConcurrency');
    assert.deepEqual(states.Settings?.Parameters, { 'maxConcurrency.$': "States.StringToJson('40')" });
    assert.equal(states.Settings?.ResultPath, '$.settings');
    assert.equal(map.ToleratedFailurePercentage, 0);
  });

  test('children invoke the map function, reduce the reduce function, wired through substitutions', () => {
    for (const [task, fn] of [
      [child, 'RankingMapFunction'],
      [reduce, 'RankingReduceFunction'],
    ] as const) {
      assert.equal(task.Type, 'Task');
      assert.equal(task.Resource, 'arn:aws:states:::lambda:invoke');
      assert.equal((task.Parameters as Json).FunctionName, `getatt:${fn}.Arn`);
    }
    assert.deepEqual(child.Parameters, { FunctionName: 'getatt:RankingMapFunction.Arn', 'Payload.$': '$' });
    // The map result keeps only each partial's URI; reduce gets them all.
    assert.deepEqual(child.ResultSelector, { 'partial.$': '$.Payload.partial' });
    assert.equal(map.ResultPath, '$.mapped');
    assert.deepEqual((reduce.Parameters as Json).Payload, { 'partials.$': '$.mapped[*].partial' });
  });

  test('every Lambda task retries Lambda service errors with exponential backoff', () => {
    for (const task of [child, reduce]) {
      const retriers = task.Retry as Json[];
      const lambda = retriers.find((r) =>
        LAMBDA_ERRORS.every((e) => (r.ErrorEquals as string[]).includes(e)),
      );
      assert.ok(lambda, 'no retrier for the Lambda service errors');
      assert.ok(Number(lambda.MaxAttempts) >= 3);
      assert.ok(Number(lambda.BackoffRate) > 1);
      assert.ok(Number(lambda.IntervalSeconds) >= 1);
      // The function's own transient failure (storage) is retried too, never bad input.
      const own = retriers.flatMap((r) => r.ErrorEquals as string[]);
      assert.ok(own.includes('UnavailableError'));
      assert.ok(!own.includes('States.ALL') && !own.includes('BadRequestError'));
    }
  });

  test('both functions are the same image with the ranking entry, and the handlers exist', async () => {
    const api = fn.Metadata as Json;
    const lambda = await import('../../src/ranking/lambda.ts');
    for (const [id, handler] of [
      ['RankingMapFunction', 'mapHandler'],
      ['RankingReduceFunction', 'reduceHandler'],
    ] as const) {
      const resource = resources[id] as Json;
      assert.deepEqual(resource.Metadata, api, `${id} builds the same image`);
      const p = props(id);
      assert.equal(p.PackageType, 'Image');
      assert.deepEqual((p.ImageConfig as Json).Command, [
        `${RANKING_FILE_NAME.replace(/\.mjs$/, '')}.${handler}`,
      ]);
      assert.equal(typeof lambda[handler], 'function');
      assert.ok(Number(p.Timeout) <= 900);
    }
  });

  test('environments: the same model as the API, partials handed from map to reduce, rankings the API reads', () => {
    const api = environment(evaluator);
    const mapEnv = (props('RankingMapFunction').Environment as Json).Variables as Json;
    const reduceEnv = (props('RankingReduceFunction').Environment as Json).Variables as Json;
    assert.equal(mapEnv.MODEL_URI, api.MODEL_URI);
    assert.equal(mapEnv.RANKING_PARTIALS_URI, `s3://${bucket}/ranking-partials/`);
    assert.equal(reduceEnv.RANKINGS_URI, api.RANKINGS_URI);
  });

  test('least privilege: each function, the state machine and the scheduler get only what they use', () => {
    const arn = (key: string) => `arn:aws:s3:::${bucket}/${key}`;
    const model = 'models/review-sentiment/20261121T214500Z-3f2a9c1b/*';
    const grants = (p: unknown) => statements(p).map((s) => [[s.Action].flat(), [s.Resource].flat()]);
    assert.deepEqual(grants(props('RankingMapFunction').Policies), [
      [['s3:GetObject'], [arn('reviews/*'), arn(model)]],
      [['s3:PutObject'], [arn('ranking-partials/*')]],
    ]);
    assert.deepEqual(grants(props('RankingReduceFunction').Policies), [
      [['s3:GetObject'], [arn('ranking-partials/*')]],
      [['s3:GetObject', 's3:PutObject'], [arn('rankings/*')]],
    ]);
    const name = 'review-sentiment-ranking';
    assert.equal(machineProps.Name, name);
    const sm = statements(machineProps.Policies);
    assert.deepEqual(grants(machineProps.Policies), [
      [
        ['lambda:InvokeFunction'],
        [
          'getatt:RankingMapFunction.Arn',
          'getatt:RankingMapFunction.Arn:*',
          'getatt:RankingReduceFunction.Arn',
          'getatt:RankingReduceFunction.Arn:*',
        ],
      ],
      [['s3:ListBucket'], [`arn:aws:s3:::${bucket}`]],
      [['states:StartExecution'], [`arn:aws:states:eu-west-1:123456789012:stateMachine:${name}`]],
      [
        ['states:DescribeExecution', 'states:StopExecution'],
        [`arn:aws:states:eu-west-1:123456789012:execution:${name}/*`],
      ],
    ]);
    assert.deepEqual(sm[1]?.Condition, { StringLike: { 's3:prefix': 'reviews/*' } });
    for (const s of sm) assert.equal(s.Effect, 'Allow');
  });

  test('EventBridge Scheduler starts the state machine weekly (Monday 03:00 UTC by default)', () => {
    const schedule = resources.RankingScheduleEntry as Json;
    assert.equal(schedule.Type, 'AWS::Scheduler::Schedule');
    const p = props('RankingScheduleEntry');
    assert.equal((parameters.RankingSchedule as Json).Default, 'cron(0 3 ? * MON *)');
    assert.equal(p.ScheduleExpression, 'cron(0 3 ? * MON *)');
    assert.equal(p.ScheduleExpressionTimezone, 'UTC');
    assert.equal(p.State, 'ENABLED');
    const target = p.Target as Json;
    assert.equal(target.Arn, 'ref:RankingStateMachine');
    assert.equal(target.RoleArn, 'getatt:RankingSchedulerRole.Arn');
    assert.deepEqual(JSON.parse(String(target.Input)), { period: LAST_COMPLETE_WEEK });
    const role = props('RankingSchedulerRole');
    const trust = statements([role.AssumeRolePolicyDocument]);
    assert.deepEqual(trust[0]?.Principal, { Service: 'scheduler.amazonaws.com' });
    const allowed = (role.Policies as { PolicyDocument: Json }[]).flatMap((p) =>
      statements([p.PolicyDocument]),
    );
    assert.deepEqual(
      allowed.map((s) => [s.Action, s.Resource]),
      [['states:StartExecution', 'ref:RankingStateMachine']],
    );
  });
});
