// Numbers turned into strings: C++ (and go-jsonnet) print non-integers with
// %.17g, jrsonnet prints the shortest form that reads back the same.
[std.toString(0.1), '' + 1 / 3, '%s' % 0.1]
