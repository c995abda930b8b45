// std.manifestYamlDoc / manifestYamlStream with and without quote_keys:
// bare-safe keys, reserved words, numbers, dates, multi-line strings.
local keys = ['a', 'b c', 'true', 'True', 'yes', 'Y', 'n', 'null', '~', '-', '---', '', '1', '1_000', '-1',
  '0b101', '0B1', '0o17', '0x1f', '0xZ', '1.5', '1e5', '1.5e-3', '.5', '-.inf', '.nan', '12-10-2020',
  '2020-01-01', 'a-b', 'a/b', 'a_b', '_x', '-x', 'x.y', 'e', '1e', 'x:y', 'a#b', 'é', '0b', '0x', '1-2',
  '1.2.3', '1e2e3', '+1', '1_0.5', '_', 'infinity', '.inf', 'ON', 'Off', '-0x1', '-0b1', '1-2-3-4'];
local doc = { [k]: 1 for k in keys };
local values = {
  s: 'b c', t: 'true', multi: 'x\ny', trailing: 'x\ny\n', empty: '', num: 0.1, big: 1e21, small: 1e-7,
  int: 42, neg: -3, arr: ['y', 'true', [1, [2]], { k: 'v' }, [], {}], obj: { nested: { deep: [1, 2] } },
  emptyArr: [], emptyObj: {}, nul: null, yes: true, no: false,
};
[
  std.manifestYamlDoc(doc, quote_keys=false),
  std.manifestYamlDoc(doc),
  std.manifestYamlDoc(values),
  std.manifestYamlDoc(values, quote_keys=false),
  std.manifestYamlDoc(values, indent_array_in_object=true),
  std.manifestYamlDoc([values, [values.arr]], quote_keys=false),
  std.manifestYamlStream([values, 1, 'x', [1]], c_document_end=false),
  std.manifestYamlStream([values, {}], indent_array_in_object=true, quote_keys=false),
  std.manifestYamlStream([]),
]
