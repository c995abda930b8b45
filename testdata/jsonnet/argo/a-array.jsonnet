local lib = import 'lib.libsonnet';
[lib.cm('array-%d' % i) for i in std.range(1, 2)]
