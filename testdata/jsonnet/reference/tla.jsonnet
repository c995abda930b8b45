// A top-level function: TLAs from the harness, defaults otherwise.
function(name, replicas=1, labels={}) {
  name: name,
  replicas: replicas,
  labels: labels { managed: 'true' },
}
