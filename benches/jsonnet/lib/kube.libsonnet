// A small kube library in the style of kube-libsonnet / k8s-libsonnet:
// constructors, mixins and helpers, used by main.jsonnet.
{
  _Object(apiVersion, kind, name, namespace=null):: {
    apiVersion: apiVersion,
    kind: kind,
    metadata: {
      name: name,
      [if namespace != null then 'namespace']: namespace,
      labels: { 'app.kubernetes.io/name': name },
      annotations: {},
    },
  },

  labels(extra):: { metadata+: { labels+: extra } },
  annotations(extra):: { metadata+: { annotations+: extra } },

  Container(name, image, port):: {
    local c = self,
    name: name,
    image: image,
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    env_:: {},
    env: [{ name: k, value: std.toString(c.env_[k]) } for k in std.objectFields(c.env_)],
    resources: {
      requests: { cpu: '%dm' % (100 + port % 400), memory: '%dMi' % (64 * (1 + port % 4)) },
      limits: self.requests { cpu: '%dm' % (2 * (100 + port % 400)) },
    },
  },

  Deployment(name, namespace, container, replicas=2):: $._Object('apps/v1', 'Deployment', name, namespace) {
    spec: {
      replicas: replicas,
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': name } },
        spec: { containers: [container], serviceAccountName: name },
      },
    },
  },

  Service(deployment):: $._Object('v1', 'Service', deployment.metadata.name, deployment.metadata.namespace) {
    spec: {
      selector: deployment.spec.selector.matchLabels,
      ports: [
        { name: p.name, port: p.containerPort, targetPort: p.name, protocol: p.protocol }
        for c in deployment.spec.template.spec.containers
        for p in c.ports
      ],
    },
  },

  ConfigMap(name, namespace, data):: $._Object('v1', 'ConfigMap', name, namespace) {
    data: { [k]: if std.isString(data[k]) then data[k] else std.manifestJsonMinified(data[k]) for k in std.objectFields(data) },
  },

  ServiceAccount(name, namespace):: $._Object('v1', 'ServiceAccount', name, namespace),

  Secret(name, namespace, strings):: $._Object('v1', 'Secret', name, namespace) {
    type: 'Opaque',
    data: std.mapWithKey(function(k, v) std.base64(v), strings),
  },

  // A string fingerprint (31-multiplier rolling hash), e.g. for checksum annotations.
  hash(str):: '%08x' % std.foldl(function(h, c) (h * 31 + std.codepoint(c)) % 4294967296, std.stringChars(str), 7),
}
