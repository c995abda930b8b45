{
  image(tag):: 'registry.example.com/web:' + tag,
  configMap(name, data):: {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: name },
    data: { [k]: if std.isString(data[k]) then data[k] else std.toString(data[k]) for k in std.objectFields(data) },
  },
}
