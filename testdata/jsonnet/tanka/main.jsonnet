// A Tanka environment: one main.jsonnet, nested objects whose leaves are
// manifests; libraries from vendor/ (jsonnet-bundler) and lib/.
local k = import 'k/k.libsonnet';
local util = import 'util.libsonnet';

function(replicas=1, env='dev') {
  frontend: {
    deployment: k.deployment('web', replicas, util.image(std.extVar('tag'))),
    service: k.service('web', 8080),
    // null leaves (e.g. `if` without `else`) are skipped
    ingress: if env == 'prod' then k.ingress('web'),
  },
  config: [
    util.configMap('settings', { env: env, ratio: 1.5, count: 3.0, yaml: std.manifestYamlDoc({ a: [1, 2] }) }),
    [util.configMap('nested-array', { parsed: std.native('parseYaml')('mode: 0644\n---\nenabled: yes\n') })],
  ],
  list: { apiVersion: 'v1', kind: 'List', items: [util.configMap('from-list', {})] },
  hidden:: util.configMap('never-rendered', {}),
}
