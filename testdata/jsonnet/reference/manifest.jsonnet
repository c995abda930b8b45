// Serializations: JSON, YAML, INI, Python, XML, TOML.
local v = {
  str: 'hello',
  multiline: 'line1\nline2\n',
  num: 1.5,
  int: 42,
  neg: -3,
  bool: true,
  nil: null,
  arr: [1, 'two', [3], { four: 4 }],
  obj: { 'key with space': 'v', nested: { deep: [] }, empty: {} },
  special: ['yes', 'no', 'on', 'null', '1.0', '0644', '', ' lead', 'a: b', '- x', '#c', 'true'],
};
{
  json: std.manifestJson(v),
  jsonEx: std.manifestJsonEx(v, '  '),
  jsonExCompact: std.manifestJsonEx({ a: [1, 2], b: {} }, '', ' ', ': '),
  jsonMinified: std.manifestJsonMinified(v),
  yamlDoc: std.manifestYamlDoc(v),
  yamlDocIndent: std.manifestYamlDoc(v, indent_array_in_object=true),
  yamlDocQuoteKeys: std.manifestYamlDoc({ a: 1, b_c: [1] }, quote_keys=false),
  yamlStream: std.manifestYamlStream([{ a: 1 }, [1, 2], 'x']),
  yamlScalars: [std.manifestYamlDoc(1), std.manifestYamlDoc('s'), std.manifestYamlDoc([]), std.manifestYamlDoc({})],
  ini: std.manifestIni({
    main: { top: 'level', list: ['a', 'b'] },
    sections: { s1: { k: 'v', n: 1 }, s2: {} },
  }),
  python: std.manifestPython({ a: [true, false, null], b: 'x', c: 1.5 }),
  pythonVars: std.manifestPythonVars({ a: 1, b: 'two' }),
  xml: std.manifestXmlJsonml(['svg', { height: 100 }, ['circle', { cx: 50, r: 40 }], 'text']),
  toml: std.manifestToml({
    title: 'x',
    owner: { name: 'n', dob: 1979 },
    arr: [1, 2],
    tables: [{ a: 1 }, { a: 2 }],
    nested: { x: 1, inner: { k: 'v' } },
  }),
  tomlEx: std.manifestTomlEx({ top: 0, a: { b: [1, { c: 2 }] } }, '    '),
}
