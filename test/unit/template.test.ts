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
import { loadConfig } from '../../src/function/config.ts';
import { ROUTES } from '../../src/function/routes/index.ts';

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
    const entries = Object.entries(node);
    const [key, arg] = entries[0] ?? [];
    if (
      entries.length === 1 &&
      key !== undefined &&
      (key === 'Ref' || key.startsWith('Fn::') || key === 'Condition')
    ) {
      return this.intrinsic(key, arg);
    }
    // As in CloudFormation, a property whose value is AWS::NoValue is removed.
    return Object.fromEntries(entries.map(([k, v]) => [k, this.eval(v)]).filter(([, v]) => v !== NO_VALUE));
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
    this.assertDeployed(name);
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
      name in parameters || name in resources || name in PSEUDO || name === 'AWS::NoValue';
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

  test('HTTP API routes are the routes the handler serves, plus $default for its own 404/405', () => {
    const all = Object.values(fnProps.Events as Json).map((e) => e as { Type: string; Properties: Json });
    const catchAll = all.filter((e) => e.Properties.Path === '$default');
    assert.deepEqual(
      catchAll.map((e) => String(e.Properties.Method).toUpperCase()),
      ['ANY'],
    );
    const events = all.filter((e) => e.Properties.Path !== '$default');
    const routes = events.map(
      (e) => `${String(e.Properties.Method).toUpperCase()} ${String(e.Properties.Path)}`,
    );
    const served = Object.entries(ROUTES).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m} ${path}`),
    );
    assert.deepEqual(routes.sort(), served.sort());
    assert.deepEqual(routes.sort(), ['GET /health', 'POST /feedback', 'POST /predictions']);
    for (const event of all) {
      assert.equal(event.Type, 'HttpApi');
      const apiId = event.Properties.ApiId as Json;
      assert.equal((resources[String(apiId.Ref)] as Json | undefined)?.Type, 'AWS::Serverless::HttpApi');
      assert.equal(event.Properties.PayloadFormatVersion ?? '2.0', '2.0');
    }
  });

  for (const [scenario, evaluator] of Object.entries(SCENARIOS)) {
    const { bucket, prefix, feedback } = EXPECTED[scenario as keyof typeof EXPECTED];

    test(`MODEL_URI is the model bucket and prefix (${scenario} bucket)`, () => {
      assert.equal(environment(evaluator).MODEL_URI, `s3://${bucket}/${prefix}`);
      assert.equal(evaluator.condition('CreateModelBucket'), scenario === 'created');
    });

    test(`the function's configuration loads with the deployed environment (${scenario} bucket)`, () => {
      const env = environment(evaluator);
      const config = loadConfig({ ...env, AWS_LAMBDA_FUNCTION_NAME: 'review-sentiment' });
      assert.equal(config.modelUri, `s3://${bucket}/${prefix}`);
      assert.equal(config.backend, env.TFJS_BACKEND);
      assert.equal(config.logLevel, env.LOG_LEVEL);
      assert.equal(config.logReviewText, false);
      assert.equal(config.feedbackUri, feedback === null ? null : `s3://${bucket}/${feedback}`);
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

    test(`the role may only read the model prefix and create under the feedback prefix (${scenario} bucket)`, () => {
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
        ...(feedback === null ? [] : [[['s3:PutObject'], [`arn:aws:s3:::${bucket}/${feedback}*`]]]),
      ]);
      if (feedback !== null) {
        const uri = String(environment(evaluator).FEEDBACK_URI);
        assert.equal(statements[1]?.Resource, `arn:aws:s3:::${uri.slice('s3://'.length)}*`);
      } else assert.equal(environment(evaluator).FEEDBACK_URI, undefined);
      // The URI the function reads and the ARN it may read must name the same objects.
      const uri = String(environment(evaluator).MODEL_URI);
      assert.equal(statements[0]?.Resource, `arn:aws:s3:::${uri.slice('s3://'.length)}*`);
    });

    test(`outputs name the API, the function, the bucket and MODEL_URI (${scenario} bucket)`, () => {
      const outputs = evaluator.eval(section(template, 'Outputs')) as Record<string, { Value: unknown }>;
      assert.equal(outputs.ApiUrl?.Value, 'https://ref:ReviewApi.execute-api.eu-west-1.amazonaws.com/');
      assert.equal(outputs.FunctionArn?.Value, `getatt:${FUNCTION}.Arn`);
      assert.equal(outputs.ModelBucketName?.Value, bucket);
      assert.equal(outputs.ModelUri?.Value, environment(evaluator).MODEL_URI);
    });
  }

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
