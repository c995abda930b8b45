// A queue worker: a Deployment, its settings (a ConfigMap) and a Service
// for its metrics port.
{
  new(name, image, settings):: {
    local labels = { 'app.kubernetes.io/name': name, env: settings.env },

    configMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: name, labels: labels },
      data: {
        LOG_LEVEL: settings.logLevel,
        QUEUE: settings.queue,
      },
    },

    deployment: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: name, labels: labels },
      spec: {
        replicas: settings.replicas,
        selector: { matchLabels: { 'app.kubernetes.io/name': name } },
        template: {
          metadata: { labels: labels },
          spec: {
            containers: [{
              name: name,
              image: image,
              envFrom: [{ configMapRef: { name: name } }],
              ports: [{ name: 'metrics', containerPort: 9090 }],
            }],
          },
        },
      },
    },

    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: name + '-metrics', labels: labels },
      spec: {
        selector: { 'app.kubernetes.io/name': name },
        ports: [{ name: 'metrics', port: 9090, targetPort: 'metrics' }],
      },
    },
  },
}
