// The worker, for one environment: `--tla-str env=prod` (or an
// Application's `directory.jsonnet.tlas`) picks it; dev by default.
local worker = import 'worker.libsonnet';

local environments = {
  dev: { replicas: 1, logLevel: 'debug', queue: 'jobs-dev' },
  prod: { replicas: 4, logLevel: 'info', queue: 'jobs' },
};

function(env='dev')
  assert std.objectHas(environments, env) :
         'env must be one of %s, got %s' % [std.join(', ', std.objectFields(environments)), std.manifestJson(env)];
  worker.new('worker', image='ghcr.io/example/worker:3.1.0', settings=environments[env] { env: env })
