// TOML, INI, Python, XML, JSON manifests and string conversions of numbers
// (the reference prints non-integers with %.17g, integers with %.0f).
local nums = [0.1, 1 / 3, 2 / 3, 1e-7, 1.5e300, -0.5, 123456789.123, 1e21, 1e22, 2e-5, 0.0001, 12345678901234567890,
  3.0, -0, 100, 1.25, 5e-324, 0.30000000000000004];
local toml = {
  top: 'v', n: 0.1, i: 3, b: true, arr: [1, 'two', [3.5], { x: 1 }], empty: {}, emptyArr: [],
  t: { k: 1, sub: { deep: 'x' } }, only: { sub1: { a: 1 }, sub2: {} },
  tarr: [{ a: 1 }, {}, { b: { c: 2 } }], 'key with space': { 'q"k': 1 },
};
{
  toString: [std.toString(n) for n in nums],
  concat: ['' + n for n in nums] + [n + '' for n in nums],
  format: ['%s' % n for n in nums]
          + [std.format('%s|%d|%5.2f|%e|%g|%G|%x|%o|%.3g|%#x|%#o|%+08.3f|% d|%-6d|%05d', [n, n, n, n, n, n, n, n, n, n, n, n, n, n, n])
             for n in nums + [-1.5, -2, 255.999, 0.5, 0.05, 99.995, 1e-5, 123456, 1234567]],
  json: std.manifestJsonEx({ nums: nums, o: { a: [0.1, { b: 1e-7 }] } }, '  '),
  jsonMin: std.manifestJsonMinified(nums),
  jsonDefault: std.manifestJson({ a: 0.1 }),
  yaml: std.manifestYamlDoc({ nums: nums }),
  toml: std.manifestToml(toml),
  tomlEx: std.manifestTomlEx(toml, '    '),
  tomlOnlyTables: std.manifestToml({ a: { b: { c: {} } } }),
  ini: std.manifestIni({ main: { a: 0.1, b: 'x' }, sections: { s1: { k: [1, 2.5] }, s2: {} } }),
  python: std.manifestPython({ a: [0.1, true, null, 'x'], b: { c: 1e-7 } }),
  pythonVars: std.manifestPythonVars({ a: 0.1, b: [1, 'x'] }),
  xml: std.manifestXmlJsonml(['svg', { height: 0.5, width: 1 }, ['g', 'text', ['t', { x: 0.1 }]]]),
  escapes: [std.escapeStringJson('a"\u0001é'), std.escapeStringPython('x\'y'), std.escapeStringBash("it's"),
    std.escapeStringDollars('$x'), std.escapeStringXML('<a & "b">')],
  math: [std.pi, std.log2(3), std.log10(7), std.log2(8), std.log10(1000), std.hypot(3, 4), std.hypot(1e200, 1e200),
    std.deg2rad(30), std.rad2deg(1), std.isNull(null), std.isNull(0), std.trim(' \t x y \n\u00a0')],
  equality: [0.1 + 0.2 == 0.3, 0.1 + 0.2 != 0.3, std.member([0.3], 0.1 + 0.2), std.uniq([0.1 + 0.2, 0.3]),
    std.equals(1e-17 + 1, 1)],
  length: [std.length(function(a, b=1) a), std.length(function() 1), std.length(std.map)],
}
