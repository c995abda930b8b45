(import 'lib.libsonnet').cm('single') + { data: { greeting: std.extVar('greeting') } }
