// 1,000 applications x 5 objects = 5,000 objects, built with lib/kube.libsonnet.
local kube = import 'kube.libsonnet';

local team(i) = ['payments', 'search', 'checkout', 'identity', 'platform'][i % 5];

local app(i) =
  local name = 'svc-%04d' % i;
  local ns = 'team-%s' % team(i);
  local config = kube.ConfigMap(name + '-config', ns, {
    'app.yaml': std.manifestYamlDoc({ name: name, port: 8000 + i % 100, features: [f for f in ['a', 'b', 'c', 'd'] if i % 2 == 0 || f != 'b'] }),
    'limits.json': { rps: 100 * (1 + i % 7), burst: i % 13 },
    owner: team(i),
  });
  local container = kube.Container(name, 'registry.example.com/%s:%d.%d.%d' % [name, i % 3, i % 10, i % 7], 8000 + i % 100) {
    env_+:: { CONFIG_HASH: kube.hash(name), TEAM: team(i), INDEX: i },
  };
  local deploy = kube.Deployment(name, ns, container, replicas=1 + i % 3)
                 + kube.labels({ team: team(i), tier: if i % 4 == 0 then 'frontend' else 'backend' })
                 + kube.annotations({ 'checksum/config': kube.hash(config.data.owner + name) });
  {
    deployment: deploy,
    service: kube.Service(deploy),
    config: config,
    serviceAccount: kube.ServiceAccount(name, ns),
    secret: kube.Secret(name + '-creds', ns, { username: name, password: std.asciiUpper(name) + '-' + i }),
  };

{ ['app%04d' % i]: app(i) for i in std.range(0, 999) }
