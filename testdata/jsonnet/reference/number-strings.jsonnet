// Numbers turned into strings: the reference (C++ and go-jsonnet) prints
// non-integers with %.17g (jrsonnet printed the shortest form).
[std.toString(0.1), '' + 1 / 3, '%s' % 0.1]
